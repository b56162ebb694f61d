//! Real clients against the fake API server: kube-rs (typed lists, `kube::runtime::watcher`
//! across dropped watches and an expired history, in both initial-list modes), the
//! real-world Event shapes of the shared fixture through the fake and back, and `kubectl`
//! (get with selectors, chunked lists, create/apply/delete, and `get -w` across a dropped
//! watch). The kubectl checks are skipped, saying so, when no `kubectl` is installed
//! (`ARGUS_KUBECTL` names another binary).
#![allow(clippy::unwrap_used)]

mod fake_common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use argus_kube_fake::{FakeApiServer, Verb};
use fake_common::{event, pod, rv_of, server};
use futures::StreamExt;
use k8s_openapi::api::core::v1::Event;
use kube::api::{Api, ListParams, PostParams};
use kube::runtime::watcher;
use kube::runtime::WatchStreamExt;
use serde_json::{json, Value};

async fn kube_client(server: &FakeApiServer, dir: &Path) -> kube::Client {
    let path = dir.join("kubeconfig");
    server.kubeconfig(&path).unwrap();
    let kubeconfig = kube::config::Kubeconfig::read_from(&path).unwrap();
    let config = kube::Config::from_custom_kubeconfig(
        kubeconfig,
        &kube::config::KubeConfigOptions::default(),
    )
    .await
    .unwrap();
    kube::Client::try_from(config).unwrap()
}

#[tokio::test]
async fn kube_rs_lists_typed_events_in_pages() {
    let server = server().await;
    let dir = tempfile::tempdir().unwrap();
    let client = kube_client(&server, dir.path()).await;
    for i in 0..5 {
        server
            .create(event(
                &format!("ns{}", i % 2),
                &format!("e{i}"),
                "web",
                "BackOff",
            ))
            .unwrap();
    }
    let api = Api::<Event>::all(client.clone());
    let all = api.list(&ListParams::default()).await.unwrap();
    assert_eq!(all.items.len(), 5);
    assert_eq!(
        all.metadata.resource_version,
        Some(server.resource_version().to_string())
    );
    let first = &all.items[0];
    assert_eq!(first.reason.as_deref(), Some("BackOff"));
    assert_eq!(first.involved_object.name.as_deref(), Some("web"));
    assert_eq!(first.count, Some(1));
    let page = api.list(&ListParams::default().limit(2)).await.unwrap();
    assert_eq!(page.items.len(), 2);
    assert_eq!(page.metadata.remaining_item_count, Some(3));
    let rest = api
        .list(
            &ListParams::default()
                .limit(10)
                .continue_token(page.metadata.continue_.as_deref().unwrap()),
        )
        .await
        .unwrap();
    assert_eq!(rest.items.len(), 3);
    let ns1 = Api::<Event>::namespaced(client, "ns1")
        .list(&ListParams::default().fields("reason=BackOff"))
        .await
        .unwrap();
    assert_eq!(ns1.items.len(), 2);
}

/// What a `kube::runtime::watcher` stream has shown: the objects (name → resourceVersion)
/// as a reflector would hold them, how many initial lists completed, and the errors.
#[derive(Default)]
struct Seen {
    objects: BTreeMap<String, String>,
    buffer: BTreeMap<String, String>,
    inits_done: usize,
    errors: Vec<String>,
}

fn spawn_watcher(client: kube::Client, config: watcher::Config) -> Arc<Mutex<Seen>> {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let state = Arc::clone(&seen);
    tokio::spawn(async move {
        let api = Api::<Event>::all(client);
        let mut stream = watcher(api, config).default_backoff().boxed();
        while let Some(item) = stream.next().await {
            let mut s = state.lock().unwrap();
            let key = |e: &Event| {
                format!(
                    "{}/{}",
                    e.metadata.namespace.clone().unwrap_or_default(),
                    e.metadata.name.clone().unwrap_or_default()
                )
            };
            let rv = |e: &Event| e.metadata.resource_version.clone().unwrap_or_default();
            match item {
                Ok(watcher::Event::Init) => s.buffer.clear(),
                Ok(watcher::Event::InitApply(e)) => {
                    s.buffer.insert(key(&e), rv(&e));
                }
                Ok(watcher::Event::InitDone) => {
                    s.objects = std::mem::take(&mut s.buffer);
                    s.inits_done += 1;
                }
                Ok(watcher::Event::Apply(e)) => {
                    s.objects.insert(key(&e), rv(&e));
                }
                Ok(watcher::Event::Delete(e)) => {
                    s.objects.remove(&key(&e));
                }
                Err(e) => s.errors.push(e.to_string()),
            }
        }
    });
    seen
}

fn fake_events(server: &FakeApiServer) -> BTreeMap<String, String> {
    server
        .objects("events", None)
        .unwrap()
        .iter()
        .map(|e| {
            (
                format!(
                    "{}/{}",
                    e["metadata"]["namespace"].as_str().unwrap(),
                    e["metadata"]["name"].as_str().unwrap()
                ),
                rv_of(e).to_string(),
            )
        })
        .collect()
}

/// Waits until the watcher holds exactly the fake's events.
async fn converge(server: &FakeApiServer, seen: &Arc<Mutex<Seen>>, what: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let want = fake_events(server);
        {
            let s = seen.lock().unwrap();
            if s.inits_done > 0 && s.objects == want {
                return;
            }
            if tokio::time::Instant::now() > deadline {
                panic!(
                    "{what}: watcher holds {:?}, the fake {want:?}; errors {:?}",
                    s.objects, s.errors
                );
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn watcher_survives_drops_and_expiry(config: watcher::Config) {
    let server = server().await;
    let dir = tempfile::tempdir().unwrap();
    let client = kube_client(&server, dir.path()).await;
    for i in 0..5 {
        server
            .create(event("shop", &format!("seed-{i}"), "web", "BackOff"))
            .unwrap();
    }
    let seen = spawn_watcher(client, config);
    converge(&server, &seen, "initial list").await;
    assert!(server.wait_for_watches(1, Duration::from_secs(5)).await);

    // Live changes.
    server
        .create(event("shop", "live-1", "web", "Pulled"))
        .unwrap();
    let mut modified = event("shop", "seed-0", "web", "BackOff");
    modified["count"] = json!(2);
    server.apply(modified).unwrap();
    server.delete("events", Some("shop"), "seed-1").unwrap();
    converge(&server, &seen, "live changes").await;

    // A dropped watch resumes from the last resourceVersion: no relist.
    let lists = server.requests().list;
    server.drop_watches();
    for i in 0..3 {
        server
            .create(event("db", &format!("after-drop-{i}"), "pg", "Unhealthy"))
            .unwrap();
    }
    converge(&server, &seen, "after drop_watches").await;
    assert_eq!(
        server.requests().list,
        lists,
        "no relist after a dropped watch"
    );
    assert_eq!(seen.lock().unwrap().inits_done, 1);
    assert!(server.requests().watches_dropped >= 1);

    // Watches fail while changes happen and the history expires: the resumed watch gets
    // 410 and the watcher relists, deletions included.
    server.fail_next_of(Verb::Watch, 1_000);
    server.drop_watches();
    tokio::time::sleep(Duration::from_millis(300)).await;
    server
        .create(event("db", "while-away", "pg", "Unhealthy"))
        .unwrap();
    server.delete("events", Some("shop"), "seed-2").unwrap();
    server.expire_history();
    server.fail_next_of(Verb::Watch, 0);
    converge(&server, &seen, "after expire_history").await;
    let s = seen.lock().unwrap();
    assert_eq!(
        s.inits_done, 2,
        "one relist after the 410; errors {:?}",
        s.errors
    );
    assert!(
        s.errors
            .iter()
            .any(|e| e.contains("410") || e.contains("Expired") || e.contains("too old")),
        "the watcher saw the 410: {:?}",
        s.errors
    );
    assert!(!s.objects.contains_key("shop/seed-2"));
    assert!(s.objects.contains_key("db/while-away"));
}

#[tokio::test]
async fn kube_runtime_watcher_list_watch_survives_dropped_watches_and_expired_history() {
    // Pages of 2 exercise continue tokens in the initial lists.
    watcher_survives_drops_and_expiry(watcher::Config::default().page_size(2)).await;
}

#[tokio::test]
async fn kube_runtime_watcher_streaming_list_survives_dropped_watches_and_expired_history() {
    watcher_survives_drops_and_expiry(watcher::Config::default().streaming_lists()).await;
}

fn fixture_path() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    [
        manifest.join("../../watcher/tests/fixtures/k8s-events.jsonl"),
        manifest.join("../../../shared/fixtures/k8s-events.jsonl"),
        PathBuf::from("/work/shared/fixtures/k8s-events.jsonl"),
    ]
    .into_iter()
    .find(|p| p.exists())
    .expect("k8s-events.jsonl fixture")
}

/// Every Event object of the fixture: bare events, list items and watch frame objects.
fn fixture_events() -> Vec<Value> {
    let text = std::fs::read_to_string(fixture_path()).unwrap();
    let mut events = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with("//") {
            continue;
        }
        let value: Value = serde_json::from_str(line).unwrap();
        let candidates = if let Some(items) = value.get("items").and_then(Value::as_array) {
            items.clone()
        } else if let Some(object) = value.get("object") {
            vec![object.clone()]
        } else {
            vec![value]
        };
        events.extend(
            candidates
                .into_iter()
                .filter(|o| o.get("involvedObject").is_some()),
        );
    }
    events
}

#[tokio::test]
async fn fixture_events_round_trip_through_the_fake_as_typed_events() {
    let server = server().await;
    let dir = tempfile::tempdir().unwrap();
    let client = kube_client(&server, dir.path()).await;
    let originals: Vec<Event> = fixture_events()
        .into_iter()
        .enumerate()
        .map(|(i, mut v)| {
            if v["metadata"]["name"].is_null() {
                v["metadata"]["name"] = json!(format!("fixture-{i}"));
            }
            if v["metadata"]["namespace"].is_null() {
                v["metadata"]["namespace"] = v["involvedObject"]["namespace"].clone();
            }
            serde_json::from_value(v).unwrap()
        })
        .collect();
    assert!(
        originals.len() >= 7,
        "{} events in the fixture",
        originals.len()
    );
    for original in &originals {
        let ns = original.metadata.namespace.clone().unwrap();
        let created = Api::<Event>::namespaced(client.clone(), &ns)
            .create(&PostParams::default(), original)
            .await
            .unwrap();
        assert_eq!(created.metadata.name, original.metadata.name);
    }
    let listed = Api::<Event>::all(client)
        .list(&ListParams::default())
        .await
        .unwrap();
    assert_eq!(listed.items.len(), originals.len());
    // Only the server's own fields differ: uid, creationTimestamp, resourceVersion.
    let strip = |e: &Event| {
        let mut e = e.clone();
        e.metadata.uid = None;
        e.metadata.creation_timestamp = None;
        e.metadata.resource_version = None;
        (e.metadata.namespace.clone(), e.metadata.name.clone(), e)
    };
    let mut want: Vec<_> = originals.iter().map(served).map(|e| strip(&e)).collect();
    let mut got: Vec<_> = listed.items.iter().map(strip).collect();
    want.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    got.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    for (w, g) in want.iter().zip(&got) {
        assert_eq!(w.2, g.2, "{:?}/{:?}", w.0, w.1);
    }
    // And with the control API, which keeps uid and creationTimestamp as given.
    let fresh = fake_common::server().await;
    for original in fixture_events() {
        if original["metadata"]["name"].is_null() {
            continue;
        }
        let mut v = original.clone();
        v["apiVersion"] = json!("v1");
        v["kind"] = json!("Event");
        let stored = fresh.apply(v).unwrap();
        let typed_in: Event = serde_json::from_value(original.clone()).unwrap();
        let mut typed_out: Event = serde_json::from_value(stored).unwrap();
        assert_ne!(
            typed_out.metadata.resource_version,
            typed_in.metadata.resource_version
        );
        typed_out.metadata.resource_version = typed_in.metadata.resource_version.clone();
        assert_eq!(typed_out, served(&typed_in));
    }
}

/// An Event as a real server serves it back: Go always writes `reportingComponent`,
/// `reportingInstance` (no `omitempty`) and `source` (a struct), so the abridged fixture
/// objects that lack them come back with `""` and `{}`.
fn served(e: &Event) -> Event {
    let mut e = e.clone();
    e.reporting_component.get_or_insert_with(String::new);
    e.reporting_instance.get_or_insert_with(String::new);
    e.source.get_or_insert_with(Default::default);
    e
}

// ----- kubectl -----

fn kubectl_binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("ARGUS_KUBECTL") {
        return Some(PathBuf::from(path));
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join("kubectl"))
            .find(|p| p.is_file())
    })
}

struct Kubectl {
    binary: PathBuf,
    kubeconfig: PathBuf,
    cache: PathBuf,
}

impl Kubectl {
    fn new(server: &FakeApiServer, dir: &Path) -> Option<Kubectl> {
        let Some(binary) = kubectl_binary() else {
            eprintln!("skipping: no kubectl on PATH (set ARGUS_KUBECTL)");
            return None;
        };
        let kubeconfig = dir.join("kubeconfig");
        server.kubeconfig(&kubeconfig).unwrap();
        Some(Kubectl {
            binary,
            kubeconfig,
            cache: dir.join("cache"),
        })
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(&self.binary);
        command
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .arg("--cache-dir")
            .arg(&self.cache)
            .args(args)
            .env_remove("KUBECONFIG")
            .stdin(Stdio::null());
        command
    }

    /// Runs kubectl (off the runtime's threads); `(success, stdout, stderr)`.
    async fn run(&self, args: &[&str]) -> (bool, String, String) {
        let mut command = self.command(args);
        let output = tokio::task::spawn_blocking(move || command.output())
            .await
            .unwrap()
            .unwrap();
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }

    async fn ok(&self, args: &[&str]) -> String {
        let (ok, out, err) = self.run(args).await;
        assert!(ok, "kubectl {args:?} failed: {err}");
        out
    }
}

fn lines(text: &str) -> Vec<&str> {
    let mut lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    lines.sort_unstable();
    lines
}

fn seed(server: &FakeApiServer) {
    for ns in ["shop", "db"] {
        server
            .apply(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}))
            .unwrap();
    }
    server.apply(pod("shop", "cart-1", "cart", "n1")).unwrap();
    server.apply(pod("shop", "cart-2", "cart", "n2")).unwrap();
    server.apply(pod("db", "pg-0", "pg", "n1")).unwrap();
    for (i, reason) in ["Scheduled", "Pulled", "Started"].iter().enumerate() {
        server
            .apply(event("shop", &format!("cart-1.{i}"), "cart-1", reason))
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_reads_lists_selects_and_writes() {
    let server = server().await;
    let dir = tempfile::tempdir().unwrap();
    let Some(kubectl) = Kubectl::new(&server, dir.path()) else {
        return;
    };
    seed(&server);
    let version = kubectl.ok(&["version", "-o", "json"]).await;
    let version: Value = serde_json::from_str(&version).unwrap();
    eprintln!(
        "kubectl client {} against fake server {}",
        version["clientVersion"]["gitVersion"], version["serverVersion"]["gitVersion"]
    );
    // kubectl 1.29+ reads /openapi/v3, sees server-side field validation and skips its
    // own; older ones validate against /openapi/v2 schemas, which the fake does not serve.
    let minor: u32 = version["clientVersion"]["minor"]
        .as_str()
        .and_then(|m| m.trim_end_matches('+').parse().ok())
        .unwrap_or(0);
    let validate: &[&str] = if minor >= 29 {
        &[]
    } else {
        &["--validate=false"]
    };

    let table = kubectl.ok(&["get", "pods", "-A"]).await;
    assert!(table.starts_with("NAMESPACE"), "{table}");
    for name in ["cart-1", "cart-2", "pg-0"] {
        assert!(table.contains(name), "{table}");
    }
    let columns = [
        "-o",
        "custom-columns=NS:.metadata.namespace,NAME:.metadata.name",
        "--no-headers",
    ];
    let all = kubectl
        .ok(&[&["get", "pods", "-A"][..], &columns].concat())
        .await;
    assert_eq!(
        lines(&all),
        ["db     pg-0", "shop   cart-1", "shop   cart-2"]
    );
    let carts = kubectl
        .ok(&["get", "pods", "-A", "-l", "app=cart", "-o", "name"])
        .await;
    assert_eq!(lines(&carts), ["pod/cart-1", "pod/cart-2"]);
    let on_n1 = kubectl
        .ok(&[
            "get",
            "pods",
            "-A",
            "--field-selector",
            "spec.nodeName=n1",
            "-o",
            "name",
        ])
        .await;
    assert_eq!(lines(&on_n1), ["pod/cart-1", "pod/pg-0"]);
    let (ok, _, err) = kubectl
        .run(&["get", "pods", "--field-selector", "spec.foo=bar"])
        .await;
    assert!(
        !ok && err.contains("field label not supported: spec.foo"),
        "{err}"
    );

    // kubectl's JSON of events is the fake's objects (kubectl wraps them in a List).
    let json_out = kubectl
        .ok(&["get", "events", "-n", "shop", "-o", "json"])
        .await;
    let list: Value = serde_json::from_str(&json_out).unwrap();
    assert_eq!(list["kind"], "List");
    assert_eq!(
        list["items"],
        Value::Array(server.objects("events", Some("shop")).unwrap())
    );
    // Chunked: kubectl follows continue tokens.
    let lists = server.requests().list;
    let chunked = kubectl
        .ok(&[
            "get",
            "events",
            "-n",
            "shop",
            "--chunk-size=1",
            "-o",
            "name",
        ])
        .await;
    assert_eq!(lines(&chunked).len(), 3);
    assert_eq!(server.requests().list - lists, 3, "three pages");
    // Short names and api-resources come from discovery.
    let deploys = kubectl.ok(&["get", "deploy,sts,ds,cj,hpa", "-A"]).await;
    assert!(
        deploys.is_empty() || deploys.contains("No resources"),
        "{deploys}"
    );
    let resources = kubectl.ok(&["api-resources", "--no-headers"]).await;
    assert!(
        resources
            .lines()
            .any(|l| l.starts_with("pods") && l.contains("po")),
        "{resources}"
    );

    // Writes: create, apply (create then patch), delete.
    let manifest = dir.path().join("pod.json");
    std::fs::write(&manifest, pod("shop", "web", "web", "n3").to_string()).unwrap();
    let created = kubectl
        .ok(&[&["create", "-f", manifest.to_str().unwrap()][..], validate].concat())
        .await;
    assert_eq!(created.trim(), "pod/web created");
    assert!(server.get("pods", Some("shop"), "web").unwrap().is_some());
    let cm = dir.path().join("cm.json");
    let config_map = |v: &str| {
        json!({"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": "settings", "namespace": "shop"}, "data": {"level": v}})
    };
    std::fs::write(&cm, config_map("info").to_string()).unwrap();
    let applied = kubectl
        .ok(&[&["apply", "-f", cm.to_str().unwrap()][..], validate].concat())
        .await;
    assert_eq!(applied.trim(), "configmap/settings created");
    std::fs::write(&cm, config_map("debug").to_string()).unwrap();
    let applied = kubectl
        .ok(&[&["apply", "-f", cm.to_str().unwrap()][..], validate].concat())
        .await;
    assert_eq!(applied.trim(), "configmap/settings configured");
    let stored = server
        .get("configmaps", Some("shop"), "settings")
        .unwrap()
        .unwrap();
    assert_eq!(stored["data"]["level"], "debug");
    let labeled = kubectl
        .ok(&["label", "pod", "web", "-n", "shop", "tier=front"])
        .await;
    assert_eq!(labeled.trim(), "pod/web labeled");
    let stored = server.get("pods", Some("shop"), "web").unwrap().unwrap();
    assert_eq!(stored["metadata"]["labels"]["tier"], "front");
    let deleted = kubectl.ok(&["delete", "pod", "web", "-n", "shop"]).await;
    assert_eq!(deleted.trim(), "pod \"web\" deleted");
    assert!(server.get("pods", Some("shop"), "web").unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_get_watch_ends_when_its_watch_is_dropped() {
    let server = server().await;
    let dir = tempfile::tempdir().unwrap();
    let Some(kubectl) = Kubectl::new(&server, dir.path()) else {
        return;
    };
    seed(&server);
    let out_path = dir.path().join("watch.out");
    let err_path = dir.path().join("watch.err");
    let mut child = kubectl
        .command(&[
            "get",
            "pods",
            "-n",
            "shop",
            "-w",
            "--output-watch-events",
            "-o",
            "json",
        ])
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .unwrap();
    assert!(
        server.wait_for_watches(1, Duration::from_secs(20)).await,
        "kubectl opened its watch"
    );
    server.apply(pod("shop", "cart-1", "cart", "n9")).unwrap();
    server.create(pod("shop", "web", "web", "n1")).unwrap();
    server.delete("pods", Some("shop"), "cart-2").unwrap();
    let frames = |text: &str| -> Vec<(String, String)> {
        serde_json::Deserializer::from_str(text)
            .into_iter::<Value>()
            .filter_map(Result::ok)
            .map(|v| {
                (
                    v["type"].as_str().unwrap_or_default().to_string(),
                    v["object"]["metadata"]["name"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                )
            })
            .collect()
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while frames(&std::fs::read_to_string(&out_path).unwrap()).len() < 5 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "kubectl printed the events"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server.drop_watches();
    // kubectl get -w does not re-watch: it ends when its watch ends, as against a real
    // server (it logs the unexpected EOF and exits 0).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if tokio::time::Instant::now() > deadline {
            child.kill().unwrap();
            panic!("kubectl get -w still running 20 s after its watch was dropped");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    server.create(pod("shop", "too-late", "web", "n1")).unwrap();
    let printed = frames(&std::fs::read_to_string(&out_path).unwrap());
    let stderr = std::fs::read_to_string(&err_path).unwrap();
    eprintln!("kubectl get -w exited with {status} after the drop; stderr: {stderr:?}");
    let pair = |t: &str, n: &str| (t.to_string(), n.to_string());
    assert_eq!(
        printed,
        [
            pair("ADDED", "cart-1"),
            pair("ADDED", "cart-2"),
            pair("MODIFIED", "cart-1"),
            pair("ADDED", "web"),
            pair("DELETED", "cart-2"),
        ]
    );
    assert!(status.success(), "{status}: {stderr}");
    assert_eq!(server.requests().watch, 1, "kubectl did not re-watch");
}
