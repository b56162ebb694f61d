//! `argus-bench watcher`: the cluster watcher against the fake API server (in this
//! process) with `--pods` pods and `--events` Events, delivering to a real aggregator:
//! time until every Event is recorded and the pods are synced, the watcher's RSS, and its
//! CPU per 1,000 Event updates a second while counts rise.

use anyhow::{bail, Context, Result};
use serde_json::json;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use argus_kube_fake::FakeApiServer;

use crate::procs::Proc;
use crate::{header, http, Common};

fn event(i: usize, count: u64) -> serde_json::Value {
    json!({
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": format!("pod-{}.{i:x}", i % 5000), "namespace": format!("ns-{}", i % 20)},
        "involvedObject": {"kind": "Pod", "name": format!("pod-{}", i % 5000), "namespace": format!("ns-{}", i % 20)},
        "reason": if i.is_multiple_of(3) { "BackOff" } else { "Unhealthy" },
        "message": format!("Readiness probe failed: HTTP probe failed with statuscode: 503 ({i})"),
        "type": "Warning", "count": count,
        "firstTimestamp": "2026-11-27T00:00:00Z", "lastTimestamp": "2026-11-27T00:00:00Z",
        "source": {"component": "kubelet", "host": format!("node-{}", i % 50)},
    })
}

fn pod(i: usize) -> serde_json::Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": format!("pod-{i}"), "namespace": format!("ns-{}", i % 20), "labels": {"app": format!("app-{}", i % 100)}},
        "spec": {"nodeName": format!("node-{}", i % 50), "containers": [{"name": "app", "image": "registry.example/app:1"}]},
        "status": {"phase": "Running", "podIP": "10.0.0.1", "containerStatuses": [{
            "name": "app", "image": "registry.example/app:1", "imageID": "", "ready": true,
            "restartCount": i % 7, "state": {"running": {}}}]}
    })
}

fn value(addr: SocketAddr, path: &str, name: &str) -> f64 {
    http::get(addr, path, Duration::from_secs(5))
        .ok()
        .and_then(|(_, body)| http::metric(&body, name))
        .unwrap_or(0.0)
}

pub fn bench_watcher(
    pods: usize,
    events: usize,
    rate: usize,
    secs: u64,
    common: &Common,
) -> Result<()> {
    header("watcher");
    let argus = common.argus()?;
    let dir = common.tempdir()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let api = rt
        .block_on(FakeApiServer::start("127.0.0.1:0".parse()?))
        .context("fake API server")?;
    let kubeconfig = dir.path().join("kubeconfig");
    api.kubeconfig(&kubeconfig)?;
    let t = Instant::now();
    for i in 0..pods {
        api.apply(pod(i))?;
    }
    for i in 0..events {
        api.apply(event(i, 1))?;
    }
    println!(
        "fake cluster: {pods} pods, {events} Events created in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let agg: SocketAddr = format!("127.0.0.1:{}", http::free_port()?).parse()?;
    let mut aggregator = Proc::spawn(
        "aggregator",
        &argus,
        &[
            "aggregator".into(),
            "--listen".into(),
            agg.to_string(),
            "--data-dir".into(),
            dir.path().join("agg").display().to_string(),
        ],
        &dir.path().join("aggregator.log"),
    )?;
    aggregator.wait_ready(agg, Duration::from_secs(60))?;
    let listen: SocketAddr = format!("127.0.0.1:{}", http::free_port()?).parse()?;
    let t0 = Instant::now();
    let mut watcher = Proc::spawn(
        "watcher",
        &argus,
        &[
            "watcher".into(),
            "--kubeconfig".into(),
            kubeconfig.display().to_string(),
            "--aggregator".into(),
            format!("http://{agg}"),
            "--listen".into(),
            listen.to_string(),
            "--data-dir".into(),
            dir.path().join("watcher").display().to_string(),
        ],
        &dir.path().join("watcher.log"),
    )?;
    let (mut synced, mut recorded) = (None, None);
    while synced.is_none() || recorded.is_none() {
        watcher.check_alive()?;
        if synced.is_none()
            && matches!(
                http::get(listen, "/readyz", Duration::from_secs(2)),
                Ok((200, _))
            )
        {
            synced = Some(t0.elapsed());
        }
        if recorded.is_none()
            && value(agg, "/metrics", "argus_aggregator_events_stored") as usize >= events
        {
            recorded = Some(t0.elapsed());
        }
        if t0.elapsed() > Duration::from_secs(300) {
            bail!(
                "not recorded within 300 s; watcher log:\n{}",
                watcher.log_tail(20)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let cpu_initial = watcher.cpu_secs()?;
    let rss_initial = watcher.peak_rss_mib()?;
    // Sustained: `rate` Event updates a second (count + 1) for `secs` seconds.
    let sent_before = value(listen, "/metrics", "argus_watcher_events_sent_total");
    let cpu0 = watcher.cpu_secs()?;
    let start = Instant::now();
    let mut updates = 0usize;
    let mut counts = vec![1u64; events];
    while start.elapsed() < Duration::from_secs(secs) {
        let due = (start.elapsed().as_secs_f64() * rate as f64) as usize;
        while updates < due {
            let i = updates % events;
            counts[i] += 1;
            api.apply(event(i, counts[i]))?;
            updates += 1;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let want = sent_before as usize + updates;
    let t_drain = Instant::now();
    while (value(listen, "/metrics", "argus_watcher_events_sent_total") as usize) < want
        && t_drain.elapsed() < Duration::from_secs(60)
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    let cpu_sustained = watcher.cpu_secs()? - cpu0;
    let wall = start.elapsed().as_secs_f64();
    let sent = value(listen, "/metrics", "argus_watcher_events_sent_total") - sent_before;
    let rss_peak = watcher.peak_rss_mib()?;
    let achieved = updates as f64 / wall;
    println!();
    println!("{pods} pods and {events} Events in the fake API server; the real argus watcher and aggregator (release), one run");
    println!(
        "  pods synced (/readyz) after              {:>8.2} s",
        synced.unwrap_or_default().as_secs_f64()
    );
    println!(
        "  all {events} Events recorded after        {:>8.2} s  ({:.0} Events/s)",
        recorded.unwrap_or_default().as_secs_f64(),
        events as f64 / recorded.unwrap_or_default().as_secs_f64().max(1e-9)
    );
    println!("  watcher CPU until then                   {cpu_initial:>8.2} s");
    println!("  watcher peak RSS after the initial list  {rss_initial:>8.1} MiB");
    println!("  sustained: {updates} count updates in {wall:.1} s ({achieved:.0}/s), {sent:.0} acknowledged");
    println!(
        "  watcher CPU per 1,000 Event updates/s    {:>8.3} cores",
        cpu_sustained / wall / (achieved / 1000.0).max(1e-9)
    );
    println!("  watcher peak RSS                         {rss_peak:>8.1} MiB");
    println!();
    println!(
        "reproduce: {} watcher --pods {pods} --events {events} --rate {rate} --secs {secs}{}",
        crate::exe(),
        common.args(&argus)
    );
    drop(aggregator);
    Ok(())
}
