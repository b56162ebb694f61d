//! Job series (kube-state-metrics `internal/store/job.go`); every series carries
//! `namespace, job_name`.

use std::sync::Arc;

use k8s_openapi::api::batch::v1::{Job, JobCondition};

use super::pod::write_owners;
use super::text::{bool_value, gauge, sample, Stability, CONDITION_STATUSES};

/// Failure reasons with a `kube_job_status_failed{reason}` series each.
const FAILURE_REASONS: [&str; 3] = ["BackoffLimitExceeded", "DeadlineExceeded", "Evicted"];

fn ids(j: &Job) -> [(&'static str, &str); 2] {
    [
        ("namespace", j.metadata.namespace.as_deref().unwrap_or("")),
        ("job_name", j.metadata.name.as_deref().unwrap_or("")),
    ]
}

fn conditions(j: &Job) -> &[JobCondition] {
    j.status
        .as_ref()
        .and_then(|s| s.conditions.as_deref())
        .unwrap_or(&[])
}

/// Writes the job families for `jobs` (already sorted).
pub fn write(out: &mut String, jobs: &[Arc<Job>]) {
    let status = |j: &Job| j.status.clone().unwrap_or_default();

    let name = "kube_job_status_succeeded";
    gauge(
        out,
        name,
        "The number of pods which reached Phase Succeeded.",
        Stability::Stable,
    );
    for j in jobs {
        sample(
            out,
            name,
            &ids(j),
            f64::from(status(j).succeeded.unwrap_or(0)),
        );
    }

    let name = "kube_job_status_failed";
    gauge(
        out,
        name,
        "The number of pods which reached Phase Failed and the reason for failure.",
        Stability::Stable,
    );
    for j in jobs {
        let failed = status(j).failed.unwrap_or(0);
        if failed == 0 {
            sample(out, name, &ids(j), 0.0);
            continue;
        }
        let mut known = false;
        for c in conditions(j).iter().filter(|c| c.type_ == "Failed") {
            for r in FAILURE_REASONS {
                let hit = c.reason.as_deref() == Some(r);
                known |= hit;
                let mut labels = ids(j).to_vec();
                labels.push(("reason", r));
                sample(out, name, &labels, bool_value(hit));
            }
        }
        if !known {
            let mut labels = ids(j).to_vec();
            labels.push(("reason", ""));
            sample(out, name, &labels, f64::from(failed));
        }
    }

    let name = "kube_job_status_active";
    gauge(
        out,
        name,
        "The number of actively running pods.",
        Stability::Stable,
    );
    for j in jobs {
        sample(out, name, &ids(j), f64::from(status(j).active.unwrap_or(0)));
    }

    let name = "kube_job_failed";
    gauge(
        out,
        name,
        "The job has failed its execution.",
        Stability::Stable,
    );
    for j in jobs {
        for c in conditions(j).iter().filter(|c| c.type_ == "Failed") {
            for (st, label) in CONDITION_STATUSES {
                let mut labels = ids(j).to_vec();
                labels.push(("condition", label));
                sample(out, name, &labels, bool_value(c.status == st));
            }
        }
    }

    let name = "kube_job_status_start_time";
    gauge(
        out,
        name,
        "StartTime represents time when the job was acknowledged by the Job Manager.",
        Stability::Stable,
    );
    for j in jobs {
        if let Some(t) = status(j).start_time {
            sample(out, name, &ids(j), t.0.as_second() as f64);
        }
    }

    let name = "kube_job_status_completion_time";
    gauge(
        out,
        name,
        "CompletionTime represents time when the job was completed.",
        Stability::Stable,
    );
    for j in jobs {
        if let Some(t) = status(j).completion_time {
            sample(out, name, &ids(j), t.0.as_second() as f64);
        }
    }

    let name = "kube_job_owner";
    gauge(
        out,
        name,
        "Information about the Job's owner.",
        Stability::Stable,
    );
    for j in jobs {
        write_owners(out, name, &ids(j), j.metadata.owner_references.as_deref());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::testutil::{families, obj};

    /// Ported from kube-state-metrics' `TestJobStore` (job_test.go): a failed job
    /// with reason BackoffLimitExceeded, a completed one, and a failed one whose
    /// reason is not among the known ones.
    #[test]
    fn jobs_like_ksm() {
        let failed: Job = obj(serde_json::json!({
            "metadata": {"name": "FailedJob1", "namespace": "ns1"},
            "status": {"failed": 1, "startTime": "2017-07-14T02:40:00Z", "completionTime": "2017-07-14T02:41:40Z",
                       "conditions": [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded"}]}
        }));
        let done: Job = obj(serde_json::json!({
            "metadata": {"name": "SuccessfulJob1", "namespace": "ns1",
                         "ownerReferences": [{"apiVersion": "batch/v1", "kind": "CronJob", "name": "cj", "uid": "u", "controller": true}]},
            "status": {"succeeded": 1, "startTime": "2017-07-14T02:40:00Z", "completionTime": "2017-07-14T02:41:40Z",
                       "conditions": [{"type": "Complete", "status": "True"}]}
        }));
        let odd: Job = obj(serde_json::json!({
            "metadata": {"name": "FailedJobWithNoConditions", "namespace": "ns1"},
            "status": {"failed": 3}
        }));
        let mut out = String::new();
        write(&mut out, &[Arc::new(failed), Arc::new(done), Arc::new(odd)]);
        let got = families(&out);
        for want in [
            r#"kube_job_status_failed{namespace="ns1",job_name="FailedJob1",reason="BackoffLimitExceeded"} 1"#,
            r#"kube_job_status_failed{namespace="ns1",job_name="FailedJob1",reason="DeadlineExceeded"} 0"#,
            r#"kube_job_status_failed{namespace="ns1",job_name="FailedJob1",reason="Evicted"} 0"#,
            r#"kube_job_status_failed{namespace="ns1",job_name="SuccessfulJob1"} 0"#,
            r#"kube_job_status_failed{namespace="ns1",job_name="FailedJobWithNoConditions",reason=""} 3"#,
            r#"kube_job_failed{namespace="ns1",job_name="FailedJob1",condition="true"} 1"#,
            r#"kube_job_failed{namespace="ns1",job_name="FailedJob1",condition="false"} 0"#,
            r#"kube_job_failed{namespace="ns1",job_name="FailedJob1",condition="unknown"} 0"#,
            r#"kube_job_status_start_time{namespace="ns1",job_name="FailedJob1"} 1.5e+09"#,
            r#"kube_job_status_completion_time{namespace="ns1",job_name="FailedJob1"} 1.5000001e+09"#,
            r#"kube_job_status_succeeded{namespace="ns1",job_name="SuccessfulJob1"} 1"#,
            r#"kube_job_status_active{namespace="ns1",job_name="SuccessfulJob1"} 0"#,
            r#"kube_job_owner{namespace="ns1",job_name="SuccessfulJob1",owner_kind="CronJob",owner_name="cj",owner_is_controller="true"} 1"#,
            r#"kube_job_owner{namespace="ns1",job_name="FailedJob1",owner_kind="",owner_name="",owner_is_controller=""} 1"#,
        ] {
            assert!(got.contains(want), "missing {want}\nin\n{out}");
        }
        assert!(!out.contains(r#"kube_job_failed{namespace="ns1",job_name="SuccessfulJob1""#));
    }
}
