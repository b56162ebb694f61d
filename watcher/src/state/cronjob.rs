//! CronJob series (kube-state-metrics `internal/store/cronjob.go`); every series carries
//! `namespace, cronjob`.
//!
//! `kube_cronjob_next_schedule_time` is KSM's `sched.Next(lastScheduleTime, else
//! creationTimestamp)` with the schedule prefixed `CRON_TZ=<spec.timeZone> ` when a zone
//! is set ([`super::cron`]). Without a zone KSM reads the schedule in its process' local
//! zone, UTC in its container image; so does this. Named zones, daylight saving included,
//! come from the system's zoneinfo, read once per zone ([`NamedZone::load`]); a zone that
//! cannot be found leaves the series out, as KSM logs an error and skips it. Where KSM
//! panics (an unparsable schedule, no timestamps) the series is left out too.

use std::sync::Arc;

use k8s_openapi::api::batch::v1::CronJob;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::cron::{FixedZone, NamedZone, Schedule};
use super::text::{bool_value, gauge, sample, Stability};

/// Go's zero `time.Time` as Unix seconds: what KSM exports when robfig finds no
/// activation within five years (`0 0 30 2 *`).
const GO_ZERO_TIME: i64 = -62_135_596_800;

fn ids(c: &CronJob) -> [(&'static str, &str); 2] {
    [
        ("namespace", c.metadata.namespace.as_deref().unwrap_or("")),
        ("cronjob", c.metadata.name.as_deref().unwrap_or("")),
    ]
}

fn seconds(t: &Time) -> f64 {
    t.0.as_second() as f64
}

/// One gauge family with at most one series per CronJob.
fn simple(
    out: &mut String,
    cronjobs: &[Arc<CronJob>],
    (name, help): (&str, &str),
    value: impl Fn(&CronJob) -> Option<f64>,
) {
    gauge(out, name, help, Stability::Stable);
    for c in cronjobs {
        if let Some(v) = value(c) {
            sample(out, name, &ids(c), v);
        }
    }
}

/// Writes the cronjob families for `cronjobs` (already sorted).
pub fn write(out: &mut String, cronjobs: &[Arc<CronJob>]) {
    let name = "kube_cronjob_info";
    gauge(out, name, "Info about cronjob.", Stability::Stable);
    for c in cronjobs {
        let spec = c.spec.as_ref();
        let mut labels = ids(c).to_vec();
        labels.extend([
            ("schedule", spec.map_or("", |s| s.schedule.as_str())),
            (
                "concurrency_policy",
                spec.and_then(|s| s.concurrency_policy.as_deref())
                    .unwrap_or(""),
            ),
            (
                "timezone",
                spec.and_then(|s| s.time_zone.as_deref()).unwrap_or("local"),
            ),
        ]);
        sample(out, name, &labels, 1.0);
    }
    simple(
        out,
        cronjobs,
        ("kube_cronjob_created", "Unix creation timestamp"),
        |c| c.metadata.creation_timestamp.as_ref().map(seconds),
    );
    simple(
        out,
        cronjobs,
        (
            "kube_cronjob_status_active",
            "Active holds pointers to currently running jobs.",
        ),
        |c| {
            let active = c.status.as_ref().and_then(|s| s.active.as_ref());
            Some(active.map_or(0, Vec::len) as f64)
        },
    );
    simple(
        out,
        cronjobs,
        (
            "kube_cronjob_status_last_schedule_time",
            "LastScheduleTime keeps information of when was the last time the job was successfully scheduled.",
        ),
        |c| c.status.as_ref()?.last_schedule_time.as_ref().map(seconds),
    );
    let name = "kube_cronjob_status_last_successful_time";
    // Alpha in KSM: no `[STABLE]` prefix.
    gauge(
        out,
        name,
        "LastSuccessfulTime keeps information of when was the last time the job was completed successfully.",
        Stability::Alpha,
    );
    for c in cronjobs {
        let t = c
            .status
            .as_ref()
            .and_then(|s| s.last_successful_time.as_ref());
        if let Some(t) = t {
            sample(out, name, &ids(c), seconds(t));
        }
    }
    simple(
        out,
        cronjobs,
        (
            "kube_cronjob_spec_suspend",
            "Suspend flag tells the controller to suspend subsequent executions.",
        ),
        |c| c.spec.as_ref()?.suspend.map(bool_value),
    );
    simple(
        out,
        cronjobs,
        (
            "kube_cronjob_spec_starting_deadline_seconds",
            "Deadline in seconds for starting the job if it misses scheduled time for any reason.",
        ),
        |c| c.spec.as_ref()?.starting_deadline_seconds.map(|s| s as f64),
    );
    simple(
        out,
        cronjobs,
        (
            "kube_cronjob_next_schedule_time",
            "Next time the cronjob should be scheduled. The time after lastScheduleTime, or after the cron job's creation time if it's never been scheduled. Use this to determine if the job is delayed.",
        ),
        next_schedule_time,
    );
}

/// KSM's `getNextScheduledTime`, or `None` where it has no answer (see the module doc).
pub fn next_schedule_time(c: &CronJob) -> Option<f64> {
    let spec = c.spec.as_ref()?;
    // Suspended CronJobs are not tracked (an unset `suspend` is the API's default false).
    if spec.suspend == Some(true) {
        return None;
    }
    let text = match &spec.time_zone {
        Some(tz) => format!("CRON_TZ={tz} {}", spec.schedule),
        None => spec.schedule.clone(),
    };
    let schedule = match Schedule::parse(&text) {
        Ok(s) => s,
        Err(error) => {
            tracing::debug!(
                namespace = c.metadata.namespace.as_deref().unwrap_or(""),
                cronjob = c.metadata.name.as_deref().unwrap_or(""),
                %error,
                "cronjob schedule not understood; no kube_cronjob_next_schedule_time"
            );
            return None;
        }
    };
    let zone = match schedule.zone() {
        None => NamedZone::Fixed(FixedZone::UTC),
        Some(name) => match NamedZone::load(name) {
            Ok(zone) => zone,
            Err(error) => {
                tracing::debug!(
                    namespace = c.metadata.namespace.as_deref().unwrap_or(""),
                    cronjob = c.metadata.name.as_deref().unwrap_or(""),
                    %error,
                    "cronjob time zone not found; no kube_cronjob_next_schedule_time"
                );
                return None;
            }
        },
    };
    let last = c
        .status
        .as_ref()
        .and_then(|s| s.last_schedule_time.as_ref());
    let from = last.or(c.metadata.creation_timestamp.as_ref())?;
    let next = schedule.next(from.0.as_second(), &zone);
    Some(next.unwrap_or(GO_ZERO_TIME) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::testutil::{families, obj};

    fn cronjob(v: serde_json::Value) -> Arc<CronJob> {
        Arc::new(obj(v))
    }

    /// Ported from kube-state-metrics' `TestCronJobStore` (cronjob_test.go): an active,
    /// a suspended and a never-scheduled CronJob, plus the zone cases.
    #[test]
    fn cronjobs_like_ksm() {
        let active = cronjob(serde_json::json!({
            "metadata": {"name": "ActiveRunningCronJob1", "namespace": "ns1",
                         "creationTimestamp": "2017-05-26T18:30:00Z"},
            "spec": {"schedule": "0 */6 * * *", "concurrencyPolicy": "Forbid", "suspend": false,
                     "startingDeadlineSeconds": 300, "jobTemplate": {}},
            "status": {"active": [{"name": "j1"}, {"name": "j2"}],
                       "lastScheduleTime": "2017-05-26T18:00:00Z",
                       "lastSuccessfulTime": "2017-05-26T17:30:00Z"}
        }));
        let suspended = cronjob(serde_json::json!({
            "metadata": {"name": "SuspendedCronJob1", "namespace": "ns1"},
            "spec": {"schedule": "0 */3 * * *", "concurrencyPolicy": "Forbid", "suspend": true,
                     "jobTemplate": {}},
            "status": {"lastScheduleTime": "2017-05-26T15:00:00Z"}
        }));
        let fresh = cronjob(serde_json::json!({
            "metadata": {"name": "ActiveCronJob1NoLastScheduled", "namespace": "ns1",
                         "creationTimestamp": "2017-05-26T18:30:00Z"},
            "spec": {"schedule": "25 * * * *", "timeZone": "Etc/UTC", "suspend": false,
                     "jobTemplate": {}},
            "status": {}
        }));
        let zoned = cronjob(serde_json::json!({
            "metadata": {"name": "Zoned", "namespace": "ns2", "creationTimestamp": "2025-06-01T10:00:00Z"},
            "spec": {"schedule": "0 9 * * *", "timeZone": "Etc/GMT-2", "jobTemplate": {}}
        }));
        let berlin = cronjob(serde_json::json!({
            "metadata": {"name": "Berlin", "namespace": "ns2", "creationTimestamp": "2025-06-01T10:00:00Z"},
            "spec": {"schedule": "0 9 * * *", "timeZone": "Europe/Berlin", "jobTemplate": {}}
        }));
        let nowhere = cronjob(serde_json::json!({
            "metadata": {"name": "Nowhere", "namespace": "ns2", "creationTimestamp": "2025-06-01T10:00:00Z"},
            "spec": {"schedule": "0 9 * * *", "timeZone": "Mars/Olympus", "jobTemplate": {}}
        }));
        let never = cronjob(serde_json::json!({
            "metadata": {"name": "Never", "namespace": "ns2", "creationTimestamp": "2025-06-01T10:00:00Z"},
            "spec": {"schedule": "0 0 30 2 *", "jobTemplate": {}}
        }));
        let mut out = String::new();
        write(
            &mut out,
            &[active, suspended, fresh, zoned, berlin, nowhere, never],
        );
        let got = families(&out);
        let mut want = vec![
            r#"kube_cronjob_info{namespace="ns1",cronjob="ActiveRunningCronJob1",schedule="0 */6 * * *",concurrency_policy="Forbid",timezone="local"} 1"#,
            r#"kube_cronjob_info{namespace="ns1",cronjob="ActiveCronJob1NoLastScheduled",schedule="25 * * * *",concurrency_policy="",timezone="Etc/UTC"} 1"#,
            r#"kube_cronjob_created{namespace="ns1",cronjob="ActiveRunningCronJob1"} 1.4958234e+09"#,
            r#"kube_cronjob_status_active{namespace="ns1",cronjob="ActiveRunningCronJob1"} 2"#,
            r#"kube_cronjob_status_active{namespace="ns1",cronjob="SuspendedCronJob1"} 0"#,
            r#"kube_cronjob_status_last_schedule_time{namespace="ns1",cronjob="ActiveRunningCronJob1"} 1.4958216e+09"#,
            r#"kube_cronjob_status_last_successful_time{namespace="ns1",cronjob="ActiveRunningCronJob1"} 1.4958198e+09"#,
            r#"kube_cronjob_spec_suspend{namespace="ns1",cronjob="ActiveRunningCronJob1"} 0"#,
            r#"kube_cronjob_spec_suspend{namespace="ns1",cronjob="SuspendedCronJob1"} 1"#,
            r#"kube_cronjob_spec_starting_deadline_seconds{namespace="ns1",cronjob="ActiveRunningCronJob1"} 300"#,
            // 2017-05-26T18:00Z → 2017-05-27T00:00Z; created 18:30 → 19:25.
            r#"kube_cronjob_next_schedule_time{namespace="ns1",cronjob="ActiveRunningCronJob1"} 1.4958432e+09"#,
            r#"kube_cronjob_next_schedule_time{namespace="ns1",cronjob="ActiveCronJob1NoLastScheduled"} 1.4958267e+09"#,
            // 09:00 at UTC+2, after 2025-06-01T10:00Z: 2025-06-02T07:00Z.
            r#"kube_cronjob_next_schedule_time{namespace="ns2",cronjob="Zoned"} 1.7488476e+09"#,
            r#"kube_cronjob_next_schedule_time{namespace="ns2",cronjob="Never"} -6.21355968e+10"#,
            "# HELP kube_cronjob_next_schedule_time [STABLE] Next time the cronjob should be scheduled. The time after lastScheduleTime, or after the cron job's creation time if it's never been scheduled. Use this to determine if the job is delayed.",
            "# HELP kube_cronjob_status_last_successful_time LastSuccessfulTime keeps information of when was the last time the job was completed successfully.",
        ];
        let mut absent = vec![
            r#"kube_cronjob_next_schedule_time{namespace="ns1",cronjob="SuspendedCronJob1"}"#,
            // An unknown zone: KSM logs the error and skips the series.
            r#"kube_cronjob_next_schedule_time{namespace="ns2",cronjob="Nowhere"}"#,
            r#"kube_cronjob_created{namespace="ns1",cronjob="SuspendedCronJob1"}"#,
            r#"kube_cronjob_spec_suspend{namespace="ns2",cronjob="Zoned"}"#,
        ];
        // 09:00 CEST (UTC+2, from zoneinfo) is 07:00Z too; without tzdata it is unknown.
        let berlin = r#"kube_cronjob_next_schedule_time{namespace="ns2",cronjob="Berlin"}"#;
        if std::path::Path::new("/usr/share/zoneinfo/Europe/Berlin").exists() {
            want.push(r#"kube_cronjob_next_schedule_time{namespace="ns2",cronjob="Berlin"} 1.7488476e+09"#);
        } else {
            absent.push(berlin);
        }
        let missing: Vec<&&str> = want.iter().filter(|w| !got.contains(**w)).collect();
        assert!(missing.is_empty(), "missing {missing:#?}\nin\n{out}");
        for absent in absent {
            assert!(!out.contains(absent), "unexpected {absent}\nin\n{out}");
        }
    }
}
