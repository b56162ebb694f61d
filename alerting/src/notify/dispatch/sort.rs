//! The orders Alertmanager 0.25 puts alerts and alert groups in: `types.AlertSlice`
//! (by `job`, then `instance`, then `LabelSet.Before`) and `dispatch.AlertGroups` (by
//! group labels, then receiver).

use std::cmp::Ordering;

use argus_core::series::Labels;

/// prometheus/common's `LabelSet.Before`: fewer labels first; otherwise over the sorted
/// union of names, the first name missing from one side puts that side first, else the
/// first differing value decides.
pub fn labels_before(a: &Labels, b: &Labels) -> bool {
    if a.len() != b.len() {
        return a.len() < b.len();
    }
    let mut names: Vec<&str> = a.iter().chain(b.iter()).map(|l| l.name.as_str()).collect();
    names.sort_unstable();
    for n in names {
        let Some(av) = a.get(n) else {
            return true;
        };
        let Some(bv) = b.get(n) else {
            return false;
        };
        match av.cmp(bv) {
            Ordering::Less => return true,
            Ordering::Greater => return false,
            Ordering::Equal => {}
        }
    }
    false
}

/// `AlertSlice.Less` on the alerts' labels.
pub fn alert_less(a: &Labels, b: &Labels) -> bool {
    for key in ["job", "instance"] {
        match (a.get(key), b.get(key)) {
            (None, None) => continue,
            (None, Some(_)) => return false,
            (Some(_), None) => return true,
            (Some(x), Some(y)) if x != y => return x < y,
            _ => {}
        }
    }
    labels_before(a, b)
}

/// An `Ordering` from a strict "less" (equal when neither is less).
pub fn by_less<T>(less: impl Fn(&T, &T) -> bool) -> impl Fn(&T, &T) -> Ordering {
    move |a, b| {
        if less(a, b) {
            Ordering::Less
        } else if less(b, a) {
            Ordering::Greater
        } else {
            Ordering::Equal
        }
    }
}

/// `AlertGroups.Less`: equal labels order by receiver, else `LabelSet.Before`.
pub fn group_less(a: (&Labels, &str), b: (&Labels, &str)) -> bool {
    if a.0 == b.0 {
        a.1 < b.1
    } else {
        labels_before(a.0, b.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(p: &[(&str, &str)]) -> Labels {
        Labels::new(p.iter().copied())
    }

    #[test]
    fn label_set_before() {
        assert!(labels_before(
            &l(&[("a", "1")]),
            &l(&[("a", "1"), ("b", "1")])
        ));
        assert!(labels_before(&l(&[("a", "1")]), &l(&[("a", "2")])));
        assert!(!labels_before(&l(&[("a", "1")]), &l(&[("a", "1")])));
        // Same size, different names: the side missing the first name comes first.
        assert!(labels_before(&l(&[("b", "1")]), &l(&[("a", "9")])));
        assert!(!labels_before(&l(&[("a", "9")]), &l(&[("b", "1")])));
    }

    #[test]
    fn alerts_by_job_then_instance() {
        let mut v = [
            l(&[("alertname", "Z")]),
            l(&[("job", "b"), ("instance", "1")]),
            l(&[("job", "a"), ("instance", "2")]),
            l(&[("job", "a"), ("instance", "1"), ("x", "y")]),
            l(&[("instance", "0")]),
            l(&[("alertname", "A")]),
        ];
        v.sort_by(by_less(alert_less));
        let names: Vec<String> = v.iter().map(|x| x.to_string()).collect();
        assert_eq!(
            names,
            [
                "{instance=\"1\", job=\"a\", x=\"y\"}",
                "{instance=\"2\", job=\"a\"}",
                "{instance=\"1\", job=\"b\"}",
                "{instance=\"0\"}",
                "{alertname=\"A\"}",
                "{alertname=\"Z\"}",
            ]
        );
    }

    #[test]
    fn groups_by_labels_then_receiver() {
        let a = l(&[("alertname", "A")]);
        let b = l(&[("alertname", "B")]);
        assert!(group_less((&a, "z"), (&b, "a")));
        assert!(group_less((&a, "a"), (&a, "b")));
        assert!(!group_less((&a, "b"), (&a, "b")));
    }
}
