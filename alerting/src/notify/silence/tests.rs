use super::*;

const H: i64 = 3_600_000;
const T0: i64 = 1_700_000_000_000;

fn m(s: &str) -> Matcher {
    Matcher::parse(s).expect("matcher")
}

fn sil(matchers: &[&str], start: i64, end: i64) -> Silence {
    Silence {
        id: String::new(),
        matchers: matchers.iter().map(|s| m(s)).collect(),
        starts_at_ms: start,
        ends_at_ms: end,
        updated_at_ms: 0,
        created_by: "me".into(),
        comment: "c".into(),
    }
}

fn invalid(r: Result<String, SilenceError>) -> String {
    match r {
        Err(SilenceError::Invalid(m)) => m,
        other => panic!("expected invalid, got {other:?}"),
    }
}

#[test]
fn uuids_are_v4_and_distinct() {
    let a = new_uuid();
    let b = new_uuid();
    assert_ne!(a, b);
    assert_eq!(a.len(), 36);
    let parts: Vec<&str> = a.split('-').collect();
    assert_eq!(
        parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
        [8, 4, 4, 4, 12]
    );
    assert!(parts[2].starts_with('4'));
    assert!(matches!(parts[3].as_bytes()[0], b'8' | b'9' | b'a' | b'b'));
}

#[test]
fn states_and_mutes() {
    let mut s = Silences::in_memory();
    let id = s.set(sil(&["alertname=A"], T0, T0 + H), T0).expect("set");
    let pending = s
        .set(sil(&["alertname=A"], T0 + H, T0 + 2 * H), T0)
        .expect("set");
    let l = Labels::new([("alertname", "A"), ("x", "1")]);
    assert_eq!(s.get(&id).map(|x| x.state(T0)), Some(SilenceState::Active));
    assert_eq!(s.mutes(&l, T0), vec![id.clone()]);
    assert!(s.mutes(&Labels::new([("alertname", "B")]), T0).is_empty());
    // Both ends included; after the end it is expired.
    assert_eq!(s.mutes(&l, T0 + H), {
        let mut v = vec![id.clone(), pending.clone()];
        v.sort();
        v
    });
    assert_eq!(s.mutes(&l, T0 + H + 1), vec![pending.clone()]);
    assert_eq!(
        s.get(&pending).map(|x| x.state(T0)),
        Some(SilenceState::Pending)
    );
    assert_eq!(
        s.get(&id).map(|x| x.state(T0 + H + 1)),
        Some(SilenceState::Expired)
    );
}

#[test]
fn new_silence_starts_now_at_the_earliest() {
    let mut s = Silences::in_memory();
    let id = s.set(sil(&["a=b"], T0 - H, T0 + H), T0).expect("set");
    let got = s.get(&id).expect("stored");
    assert_eq!(got.starts_at_ms, T0);
    assert_eq!(got.updated_at_ms, T0);
}

#[test]
fn validation_messages() {
    let mut s = Silences::in_memory();
    assert_eq!(
        invalid(s.set(sil(&[], T0, T0 + H), T0)),
        "at least one matcher required"
    );
    assert_eq!(
        invalid(s.set(sil(&["a=\"\""], T0, T0 + H), T0)),
        "at least one matcher must not match the empty string"
    );
    assert_eq!(
        invalid(s.set(sil(&["a=~\"x*\"", "b=\"\""], T0, T0 + H), T0)),
        "at least one matcher must not match the empty string"
    );
    // `!=` never counts as matching the empty string (as in Alertmanager).
    s.set(sil(&["a!=x"], T0, T0 + H), T0)
        .expect("a!=x is accepted");
    s.set(sil(&["a=\"\"", "b=c"], T0, T0 + H), T0)
        .expect("one non-empty is enough");
    assert_eq!(
        invalid(s.set(sil(&["a=b"], T0 + 2 * H, T0 + H), T0)),
        "end time must not be before start time"
    );
    let mut bad = sil(&["a=b"], T0, T0 + H);
    bad.matchers[0].name = "a-b".into();
    assert_eq!(
        invalid(s.set(bad, T0)),
        "invalid label matcher 0: invalid label name \"a-b\""
    );
    assert!(matches!(
        s.set(
            Silence {
                id: "nope".into(),
                ..sil(&["a=b"], T0, T0 + H)
            },
            T0
        ),
        Err(SilenceError::NotFound)
    ));
    assert_eq!(
        SilenceError::Invalid("x".into()).to_string(),
        "silence invalid: x"
    );
}

#[test]
fn update_in_place_or_replace() {
    let mut s = Silences::in_memory();
    let id = s.set(sil(&["a=b"], T0, T0 + H), T0).expect("set");
    // Active: same matchers and start, new end and comment → same id.
    let mut upd = s.get(&id).cloned().expect("stored");
    upd.ends_at_ms = T0 + 3 * H;
    upd.comment = "longer".into();
    assert_eq!(s.set(upd, T0 + 10).expect("update"), id);
    assert_eq!(
        s.get(&id).map(|x| (x.ends_at_ms, x.updated_at_ms)),
        Some((T0 + 3 * H, T0 + 10))
    );
    assert_eq!(s.len(), 1);
    // Changed matchers → the old one expires now, a new id is returned.
    let mut upd = s.get(&id).cloned().expect("stored");
    upd.matchers = vec![m("a=c")];
    let new = s.set(upd, T0 + 20).expect("replace");
    assert_ne!(new, id);
    assert_eq!(s.get(&id).map(|x| x.ends_at_ms), Some(T0 + 20));
    assert_eq!(
        s.get(&id).map(|x| x.state(T0 + 21)),
        Some(SilenceState::Expired)
    );
    assert_eq!(s.get(&new).map(|x| x.starts_at_ms), Some(T0 + 20));
    // Active with a changed start → replaced too.
    let mut upd = s.get(&new).cloned().expect("stored");
    upd.starts_at_ms += 1;
    let newer = s.set(upd, T0 + 30).expect("replace");
    assert_ne!(newer, new);
    // Pending: the start may move as long as it stays in the future.
    let p = s
        .set(sil(&["x=y"], T0 + H, T0 + 2 * H), T0)
        .expect("pending");
    let mut upd = s.get(&p).cloned().expect("stored");
    upd.starts_at_ms = T0 + 30 * 60_000;
    assert_eq!(s.set(upd, T0 + 40).expect("update"), p);
    let mut upd = s.get(&p).cloned().expect("stored");
    upd.starts_at_ms = T0;
    assert_ne!(s.set(upd, T0 + 50).expect("replace"), p);
    // Expired: never in place; the expired one stays as it was.
    let e = s.set(sil(&["q=r"], T0, T0 + 60), T0).expect("set");
    let mut upd = s.get(&e).cloned().expect("stored");
    upd.ends_at_ms = T0 + H;
    upd.starts_at_ms = T0 + 100;
    let after = s.set(upd, T0 + 100).expect("replace");
    assert_ne!(after, e);
    assert_eq!(s.get(&e).map(|x| x.ends_at_ms), Some(T0 + 60));
    // A rejected replacement leaves the old silence untouched.
    let mut upd = s.get(&after).cloned().expect("stored");
    upd.matchers = vec![m("q=\"\"")];
    assert!(s.set(upd, T0 + 200).is_err());
    assert_eq!(
        s.get(&after).map(|x| x.state(T0 + 200)),
        Some(SilenceState::Active)
    );
}

#[test]
fn expire_active_pending_and_expired() {
    let mut s = Silences::in_memory();
    let a = s.set(sil(&["a=b"], T0, T0 + H), T0).expect("set");
    let p = s.set(sil(&["a=b"], T0 + H, T0 + 2 * H), T0).expect("set");
    s.expire(&a, T0 + 5).expect("expire");
    assert_eq!(
        s.get(&a).map(|x| (x.ends_at_ms, x.updated_at_ms)),
        Some((T0 + 5, T0 + 5))
    );
    s.expire(&p, T0 + 5).expect("expire pending");
    assert_eq!(
        s.get(&p).map(|x| (x.starts_at_ms, x.ends_at_ms)),
        Some((T0 + 5, T0 + 5))
    );
    // Expiring an expired silence is a no-op success in Alertmanager 0.25.
    s.expire(&a, T0 + 10).expect("idempotent");
    assert_eq!(s.get(&a).map(|x| x.ends_at_ms), Some(T0 + 5));
    assert!(matches!(s.expire("nope", T0), Err(SilenceError::NotFound)));
}

#[test]
fn list_filters_and_sorts_as_the_api() {
    let mut s = Silences::in_memory();
    let a2 = s
        .set(sil(&["alertname=A", "job=x"], T0, T0 + 2 * H), T0)
        .expect("set");
    let a1 = s.set(sil(&["alertname=A"], T0, T0 + H), T0).expect("set");
    let p = s
        .set(sil(&["alertname=B"], T0 + H, T0 + 3 * H), T0)
        .expect("set");
    let e1 = s.set(sil(&["alertname=C"], T0, T0 + 10), T0).expect("set");
    let e2 = s.set(sil(&["alertname=C"], T0, T0 + 20), T0).expect("set");
    let now = T0 + 30;
    let ids = |f: &[&str]| -> Vec<String> {
        let f: Vec<Matcher> = f.iter().map(|x| m(x)).collect();
        s.list(&f, now).iter().map(|x| x.id.clone()).collect()
    };
    assert_eq!(
        ids(&[]),
        [a1.clone(), a2.clone(), p.clone(), e2.clone(), e1.clone()]
    );
    assert_eq!(ids(&["alertname=A"]), [a1.clone(), a2.clone()]);
    assert_eq!(ids(&["job=x"]), std::slice::from_ref(&a2));
    assert_eq!(ids(&["alertname=~A|B"]), [a1, a2, p]);
    // A filter on a label the silence does not mention fails unless its value is empty.
    assert!(ids(&["team=ops"]).is_empty());
    assert_eq!(ids(&["team=\"\""]).len(), 5);
}

#[test]
fn persisted_and_garbage_collected() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("silences.json");
    let mut s = Silences::open(&path, T0).expect("open empty");
    let a = s.set(sil(&["a=b"], T0, T0 + H), T0).expect("set");
    let b = s
        .set(sil(&["a=~\"c|d\"", "e!=f"], T0, T0 + 200 * H), T0)
        .expect("set");
    let back = Silences::open(&path, T0 + 1).expect("reopen");
    assert_eq!(back.get(&a), s.get(&a));
    assert_eq!(back.get(&b), s.get(&b));
    // Past retention (120h after the end) they are gone, on load and on gc.
    let later = T0 + H + DEFAULT_RETENTION_MS + 1;
    let back = Silences::open(&path, later).expect("reopen");
    assert!(back.get(&a).is_none() && back.get(&b).is_some());
    assert_eq!(s.gc(T0 + H + DEFAULT_RETENTION_MS).expect("gc"), 0);
    assert_eq!(s.gc(later).expect("gc"), 1);
    assert_eq!(Silences::open(&path, T0).expect("reopen").len(), 1);
    // A corrupt file is an error naming it, not an empty set.
    std::fs::write(&path, "{").expect("write");
    let e = Silences::open(&path, T0).expect_err("corrupt");
    assert!(e.to_string().contains("silences.json"), "{e}");
}
