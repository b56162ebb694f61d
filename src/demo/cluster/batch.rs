//! The batch/v1 objects: a Job that finished before the simulation began, and the
//! `demo/report` CronJob with its latest Job and that Job's pod, OOMKilled on its first
//! attempt, backing off, rerun and completed.

use serde_json::{json, Value};

use crate::demo::NS_PER_SEC;

use super::event::{event, EventSpec};
use super::{stable_uid, time, NODE};

/// A Job that finished before the simulation began (its pod is gone, as after
/// `ttlSecondsAfterFinished`).
pub(super) fn job(out: &mut Vec<Value>, start: i64) {
    let (ns, name) = ("demo", "db-migrate");
    let uid = stable_uid(&format!("job/{ns}/{name}"));
    let began = start - 10 * 60 * NS_PER_SEC;
    let done = began + 42 * NS_PER_SEC;
    let labels = json!({ "job-name": name, "batch.kubernetes.io/job-name": name });
    out.push(json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": { "name": name, "namespace": ns, "uid": uid, "labels": labels,
            "creationTimestamp": time(began) },
        "spec": {
            "parallelism": 1, "completions": 1, "backoffLimit": 6, "completionMode": "NonIndexed",
            "template": { "metadata": { "labels": labels }, "spec": {
                "restartPolicy": "Never",
                "containers": [{ "name": "migrate", "image": "ghcr.io/example/api:2.8.1",
                    "args": ["migrate", "--to", "latest"] }],
            } },
        },
        "status": {
            "startTime": time(began),
            "completionTime": time(done),
            "succeeded": 1,
            "ready": 0,
            "terminating": 0,
            "conditions": [
                { "type": "SuccessCriteriaMet", "status": "True", "lastProbeTime": time(done), "lastTransitionTime": time(done) },
                { "type": "Complete", "status": "True", "lastProbeTime": time(done), "lastTransitionTime": time(done) },
            ],
        },
    }));
    for (reason, message, at) in [
        (
            "SuccessfulCreate",
            format!("Created pod: {name}-x7k2p"),
            began,
        ),
        ("Completed", "Job completed".to_string(), done),
    ] {
        out.push(event(EventSpec {
            namespace: ns,
            kind: "Job",
            api_version: "batch/v1",
            name,
            uid: &uid,
            field_path: None,
            reason,
            message,
            type_: "Normal",
            component: "job-controller",
            host: None,
            first_ns: at,
            last_ns: at,
            count: 1,
        }));
    }
}

/// Seconds into a `report` run: the first attempt is OOMKilled at [`OOM_AT`], kubelet
/// backs off until [`RESTART_AT`], the second attempt completes at [`DONE_AT`].
const OOM_AT: i64 = 6;
const RESTART_AT: i64 = 16;
const DONE_AT: i64 = 40;
/// The CronJob's period.
const REPORT_EVERY: i64 = 5 * 60;

/// The `demo/report` CronJob, its latest Job and that Job's pod at `now`.
pub(super) fn cronjob(out: &mut Vec<Value>, start: i64, now: i64) {
    let (ns, name) = ("demo", "report");
    let uid = stable_uid(&format!("cronjob/{ns}/{name}"));
    let created = start.div_euclid(NS_PER_SEC) - 3 * 3600;
    let now_s = now.div_euclid(NS_PER_SEC);
    // The latest scheduled time (UTC minutes divisible by 5) and how far into it we are.
    let scheduled = now_s - now_s.rem_euclid(REPORT_EVERY);
    let e = now_s - scheduled;
    let at = |secs: i64| time(secs * NS_PER_SEC);
    // Jobs are named after their scheduled time in minutes, as the CronJob controller does.
    let job = format!("{name}-{}", scheduled / 60);
    let job_uid = stable_uid(&format!("job/{ns}/{job}"));
    let suffix: String = stable_uid(&job)
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(5)
        .collect();
    let pod = format!("{job}-{suffix}");
    let pod_uid = stable_uid(&format!("pod/{ns}/{pod}"));
    let done = e >= DONE_AT;
    let container = json!({
        "name": name,
        "image": "ghcr.io/example/report:1.4.0",
        "args": ["--since", "5m", "--out", "s3://reports/demo"],
        "resources": { "requests": { "cpu": "50m", "memory": "32Mi" }, "limits": { "memory": "64Mi" } },
    });
    let template = json!({ "spec": {
        "restartPolicy": "OnFailure",
        "containers": [container],
    } });
    let mut status = json!({ "lastScheduleTime": at(scheduled) });
    if !done {
        status["active"] = json!([{ "apiVersion": "batch/v1", "kind": "Job", "namespace": ns,
            "name": job, "uid": job_uid }]);
    }
    let last_success = if done {
        Some(scheduled + DONE_AT)
    } else {
        Some(scheduled - REPORT_EVERY + DONE_AT).filter(|t| *t > created)
    };
    if let Some(t) = last_success {
        status["lastSuccessfulTime"] = json!(at(t));
    }
    out.push(json!({
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": { "name": name, "namespace": ns, "uid": uid, "creationTimestamp": at(created) },
        "spec": {
            "schedule": "*/5 * * * *",
            "concurrencyPolicy": "Forbid",
            "suspend": false,
            "startingDeadlineSeconds": 60,
            "successfulJobsHistoryLimit": 1,
            "failedJobsHistoryLimit": 1,
            "jobTemplate": { "spec": { "backoffLimit": 3, "template": template } },
        },
        "status": status,
    }));
    let job_labels = json!({ "job-name": job, "batch.kubernetes.io/job-name": job,
        "controller-uid": job_uid, "batch.kubernetes.io/controller-uid": job_uid });
    let mut job_status = json!({
        "startTime": at(scheduled),
        "active": u8::from(!done),
        "ready": u8::from((RESTART_AT..DONE_AT).contains(&e) || e < OOM_AT),
        "terminating": 0,
    });
    if done {
        job_status["succeeded"] = json!(1);
        job_status["completionTime"] = json!(at(scheduled + DONE_AT));
        job_status["conditions"] = json!([
            { "type": "SuccessCriteriaMet", "status": "True", "lastProbeTime": at(scheduled + DONE_AT), "lastTransitionTime": at(scheduled + DONE_AT) },
            { "type": "Complete", "status": "True", "lastProbeTime": at(scheduled + DONE_AT), "lastTransitionTime": at(scheduled + DONE_AT) },
        ]);
    }
    out.push(json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": { "name": job, "namespace": ns, "uid": job_uid, "labels": job_labels,
            "creationTimestamp": at(scheduled),
            "ownerReferences": [{ "apiVersion": "batch/v1", "kind": "CronJob", "name": name,
                "uid": uid, "controller": true, "blockOwnerDeletion": true }] },
        "spec": { "parallelism": 1, "completions": 1, "backoffLimit": 3, "completionMode": "NonIndexed",
            "template": template },
        "status": job_status,
    }));
    let id = |attempt: u8| {
        format!(
            "containerd://{}",
            stable_uid(&format!("{pod}/{attempt}")).replace('-', "")
        )
    };
    let oom = json!({ "terminated": {
        "exitCode": 137, "reason": "OOMKilled",
        "startedAt": at(scheduled + 1), "finishedAt": at(scheduled + OOM_AT),
        "containerID": id(0),
    } });
    let (state, last, restarts, ready, current) = if e < OOM_AT {
        let state = json!({ "running": { "startedAt": at(scheduled + 1) } });
        (state, json!({}), 0, true, id(0))
    } else if e < RESTART_AT {
        let state = json!({ "waiting": {
            "reason": "CrashLoopBackOff",
            "message": format!("back-off 10s restarting failed container={name} pod={pod}_{ns}({pod_uid})"),
        } });
        (state, oom, 1, false, id(0))
    } else if !done {
        let state = json!({ "running": { "startedAt": at(scheduled + RESTART_AT) } });
        (state, oom, 1, true, id(1))
    } else {
        let state = json!({ "terminated": {
            "exitCode": 0, "reason": "Completed",
            "startedAt": at(scheduled + RESTART_AT), "finishedAt": at(scheduled + DONE_AT),
            "containerID": id(1),
        } });
        (state, oom, 1, false, id(1))
    };
    let cond = |type_: &str, ok: bool| {
        json!({ "type": type_, "status": if ok { "True" } else { "False" },
            "lastProbeTime": null, "lastTransitionTime": at(scheduled) })
    };
    out.push(json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": { "name": pod, "namespace": ns, "uid": pod_uid, "labels": job_labels,
            "creationTimestamp": at(scheduled),
            "generateName": format!("{job}-"),
            "ownerReferences": [{ "apiVersion": "batch/v1", "kind": "Job", "name": job,
                "uid": job_uid, "controller": true, "blockOwnerDeletion": true }] },
        "spec": {
            "nodeName": NODE,
            "containers": template["spec"]["containers"],
            "restartPolicy": "OnFailure",
            "serviceAccountName": "default",
            "schedulerName": "default-scheduler",
        },
        "status": {
            "phase": if done { "Succeeded" } else { "Running" },
            "conditions": [
                cond("Initialized", true),
                cond("Ready", ready),
                cond("ContainersReady", ready),
                cond("PodScheduled", true),
            ],
            "hostIP": "10.0.0.11",
            "podIP": "10.244.0.250",
            "startTime": at(scheduled),
            "qosClass": "Burstable",
            "containerStatuses": [{
                "name": name,
                "image": "ghcr.io/example/report:1.4.0",
                "imageID": format!("ghcr.io/example/report@sha256:{}", stable_uid("report-image").replace('-', "").repeat(2)),
                "containerID": current,
                "restartCount": restarts,
                "ready": ready,
                "started": ready,
                "state": state,
                "lastState": last,
            }],
        },
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The report pod is OOMKilled, backs off, runs again and completes; the CronJob
    /// and Job follow, and the next run gets a new Job and pod.
    #[test]
    fn report_cronjob_runs_and_is_oom_killed() {
        let start = 1_800_000_000 * NS_PER_SEC; // 2027-01-15T08:00:00Z, a 5-minute boundary
        let objects = |secs: i64| {
            let mut out = Vec::new();
            cronjob(&mut out, start, start + secs * NS_PER_SEC);
            out
        };
        let container = |out: &[Value]| out[2]["status"]["containerStatuses"][0].clone();
        let at = objects;
        let first = at(2);
        assert_eq!(first[0]["status"]["active"][0]["name"], "report-30000000");
        assert_eq!(first[1]["metadata"]["name"], "report-30000000");
        assert!(container(&first)["state"]["running"].is_object());
        let backoff = container(&at(10));
        assert_eq!(backoff["state"]["waiting"]["reason"], "CrashLoopBackOff");
        assert_eq!(backoff["lastState"]["terminated"]["reason"], "OOMKilled");
        assert_eq!(backoff["restartCount"], 1);
        let rerun = container(&at(20));
        assert!(rerun["state"]["running"].is_object());
        assert_eq!(rerun["lastState"]["terminated"]["reason"], "OOMKilled");
        let done = at(60);
        assert_eq!(done[2]["status"]["phase"], "Succeeded");
        assert_eq!(
            container(&done)["state"]["terminated"]["reason"],
            "Completed"
        );
        assert_eq!(container(&done)["lastState"]["terminated"]["exitCode"], 137);
        assert_eq!(done[1]["status"]["succeeded"], 1);
        assert!(done[0]["status"].get("active").is_none());
        assert_eq!(
            done[0]["status"]["lastSuccessfulTime"],
            time(start + DONE_AT * NS_PER_SEC)
        );
        let next = at(REPORT_EVERY + 1);
        assert_eq!(next[1]["metadata"]["name"], "report-30000005");
        assert_ne!(next[2]["metadata"]["name"], done[2]["metadata"]["name"]);
    }
}
