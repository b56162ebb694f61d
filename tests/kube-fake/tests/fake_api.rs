//! The fake API server's list/watch protocol over plain HTTP: paging and its 410,
//! resourceVersion semantics, watch replay, bookmarks, streaming lists, the ERROR 410
//! frame, selectors, dropped connections, 500s, writes and discovery.
#![allow(clippy::unwrap_used)]

mod fake_common;

use std::time::Duration;

use argus_kube_fake::{FakeApiServerConfig, Verb};
use fake_common::{event, names, pod, rv_of, server, server_with, Http, Next};
use hyper::{Method, StatusCode};
use serde_json::{json, Value};

const SECOND: Duration = Duration::from_secs(1);

#[tokio::test]
async fn list_pages_with_limit_and_continue_on_one_snapshot() {
    let server = server().await;
    let http = Http::new(&server);
    for (ns, name) in [
        ("a", "p1"),
        ("a", "p2"),
        ("b", "p3"),
        ("b", "p4"),
        ("c", "p5"),
    ] {
        server.create(pod(ns, name, "cart", "n1")).unwrap();
    }
    let listed_at = server.resource_version();
    let (code, headers, page1) = http.get("/api/v1/pods?limit=2").await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(page1["kind"], "PodList");
    assert_eq!(page1["apiVersion"], "v1");
    assert_eq!(page1["metadata"]["resourceVersion"], listed_at.to_string());
    assert_eq!(page1["metadata"]["remainingItemCount"], 3);
    assert_eq!(names(&page1["items"]), ["p1", "p2"]);
    // Typed list items carry no type meta, as the real server's.
    assert!(page1["items"][0].get("kind").is_none());
    assert!(page1["items"][0].get("apiVersion").is_none());

    // Changes after the first page do not show in the next ones: they page one snapshot.
    server.delete("pods", Some("b"), "p3").unwrap();
    server.create(pod("a", "p0", "cart", "n1")).unwrap();
    let token = page1["metadata"]["continue"].as_str().unwrap();
    let (_, _, page2) = http
        .get(&format!("/api/v1/pods?limit=2&continue={token}"))
        .await;
    assert_eq!(names(&page2["items"]), ["p3", "p4"]);
    assert_eq!(page2["metadata"]["resourceVersion"], listed_at.to_string());
    let token = page2["metadata"]["continue"].as_str().unwrap();
    let (_, _, page3) = http
        .get(&format!("/api/v1/pods?limit=2&continue={token}"))
        .await;
    assert_eq!(names(&page3["items"]), ["p5"]);
    assert!(page3["metadata"].get("continue").is_none());
    assert!(page3["metadata"].get("remainingItemCount").is_none());

    // Within a namespace, and the token is bound to its prefix.
    let (_, _, ns_page) = http.get("/api/v1/namespaces/a/pods?limit=1").await;
    assert_eq!(names(&ns_page["items"]), ["p0"]);
    let token = ns_page["metadata"]["continue"].as_str().unwrap();
    let (_, _, ns_rest) = http
        .get(&format!(
            "/api/v1/namespaces/a/pods?limit=5&continue={token}"
        ))
        .await;
    assert_eq!(names(&ns_rest["items"]), ["p1", "p2"]);

    // Garbage tokens and RVs with continue are 400.
    let (code, _, status) = http.get("/api/v1/pods?limit=1&continue=bogus").await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    assert!(status["message"]
        .as_str()
        .unwrap()
        .starts_with("invalid continue token: continue key is not valid"));
    let (code, _, _) = http
        .get(&format!(
            "/api/v1/pods?limit=1&resourceVersion=5&continue={token}"
        ))
        .await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn an_expired_continue_token_is_410_with_an_inconsistent_token() {
    let server = server().await;
    let http = Http::new(&server);
    for name in ["p1", "p2", "p3"] {
        server.create(pod("a", name, "cart", "n1")).unwrap();
    }
    let (_, _, page1) = http.get("/api/v1/pods?limit=1").await;
    let token = page1["metadata"]["continue"].as_str().unwrap().to_string();
    server.apply(pod("a", "p2", "moved", "n1")).unwrap();
    server.expire_history();
    let (code, _, status) = http
        .get(&format!("/api/v1/pods?limit=1&continue={token}"))
        .await;
    assert_eq!(code, StatusCode::GONE);
    assert_eq!(status["kind"], "Status");
    assert_eq!(status["status"], "Failure");
    assert_eq!(status["reason"], "Expired");
    assert_eq!(status["code"], 410);
    assert_eq!(
        status["message"],
        "The provided continue parameter is too old to display a consistent list result. You \
         can start a new list without the continue parameter, or use the continue token in this \
         response to retrieve the remainder of the results. Continuing with the provided token \
         results in an inconsistent list - objects that were created, modified, or deleted \
         between the time the first chunk was returned and now may show up in the list."
    );
    // The token in the 410 continues at the latest state.
    let inconsistent = status["metadata"]["continue"].as_str().unwrap();
    let (code, _, rest) = http
        .get(&format!("/api/v1/pods?limit=5&continue={inconsistent}"))
        .await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(names(&rest["items"]), ["p2", "p3"]);
    assert_eq!(rest["items"][0]["metadata"]["labels"]["app"], "moved");
    assert_eq!(
        rest["metadata"]["resourceVersion"],
        server.resource_version().to_string()
    );
}

#[tokio::test]
async fn list_resource_version_semantics() {
    let server = server().await;
    let http = Http::new(&server);
    let first = server.create(pod("a", "p1", "cart", "n1")).unwrap();
    let at = rv_of(&first);
    server.apply(pod("a", "p1", "web", "n1")).unwrap();
    server.create(pod("a", "p2", "web", "n1")).unwrap();
    let now = server.resource_version();

    // Exact: the state then, stamped with that RV.
    let (_, _, exact) = http
        .get(&format!(
            "/api/v1/pods?resourceVersion={at}&resourceVersionMatch=Exact"
        ))
        .await;
    assert_eq!(names(&exact["items"]), ["p1"]);
    assert_eq!(exact["items"][0]["metadata"]["labels"]["app"], "cart");
    assert_eq!(exact["metadata"]["resourceVersion"], at.to_string());
    // Legacy: an RV with a limit and no match is Exact too.
    let (_, _, legacy) = http
        .get(&format!("/api/v1/pods?resourceVersion={at}&limit=10"))
        .await;
    assert_eq!(names(&legacy["items"]), ["p1"]);
    // NotOlderThan, "0" and unset: the latest.
    for query in [
        format!("resourceVersion={at}&resourceVersionMatch=NotOlderThan"),
        "resourceVersion=0".to_string(),
        "resourceVersion=0&resourceVersionMatch=NotOlderThan".to_string(),
        String::new(),
    ] {
        let (_, _, list) = http.get(&format!("/api/v1/pods?{query}")).await;
        assert_eq!(names(&list["items"]), ["p1", "p2"], "{query}");
        assert_eq!(list["metadata"]["resourceVersion"], now.to_string());
    }
    // Too old for Exact: 410 with the etcd3 store's message.
    server.expire_history();
    let (code, _, status) = http
        .get(&format!(
            "/api/v1/pods?resourceVersion={at}&resourceVersionMatch=Exact"
        ))
        .await;
    assert_eq!(code, StatusCode::GONE);
    assert_eq!(
        status["message"],
        "The resourceVersion for the provided list is too old."
    );
    // From the future: 504 after waiting, naming both versions.
    let (code, _, status) = http
        .get(&format!("/api/v1/pods?resourceVersion={}", now + 100))
        .await;
    assert_eq!(code, StatusCode::GATEWAY_TIMEOUT);
    assert_eq!(status["reason"], "Timeout");
    assert_eq!(
        status["message"],
        format!("Too large resource version: {}, current: {now}", now + 100)
    );
    assert_eq!(
        status["details"]["causes"][0]["reason"],
        "ResourceVersionTooLarge"
    );
    // Invalid combinations: 422 Invalid ListOptions.
    let (code, _, status) = http
        .get("/api/v1/pods?resourceVersion=0&resourceVersionMatch=Exact")
        .await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        status["message"],
        "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Forbidden: \
         resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\""
    );
}

#[tokio::test]
async fn watch_replays_from_a_resource_version_then_streams_live_changes() {
    let server = server().await;
    let http = Http::new(&server);
    server.create(pod("a", "keep", "cart", "n1")).unwrap();
    server.create(pod("a", "gone", "cart", "n1")).unwrap();
    let from = server.resource_version();
    server.apply(pod("a", "keep", "web", "n1")).unwrap();
    server.delete("pods", Some("a"), "gone").unwrap();
    server.create(pod("a", "new", "cart", "n1")).unwrap();
    server
        .create(event("a", "not-a-pod", "keep", "BackOff"))
        .unwrap();

    let mut watch = http
        .watch(&format!(
            "/api/v1/namespaces/a/pods?watch=1&resourceVersion={from}"
        ))
        .await;
    assert_eq!(watch.status, StatusCode::OK);
    assert_eq!(watch.headers["content-type"], "application/json");
    assert_eq!(watch.headers["transfer-encoding"], "chunked");
    let mut frames = Vec::new();
    for _ in 0..3 {
        frames.push(watch.event().await);
    }
    let seen: Vec<_> = frames
        .iter()
        .map(|f| {
            (
                f["type"].as_str().unwrap(),
                f["object"]["metadata"]["name"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [("MODIFIED", "keep"), ("DELETED", "gone"), ("ADDED", "new")]
    );
    // Watch objects carry kind and apiVersion; resourceVersions strictly increase.
    assert!(frames
        .iter()
        .all(|f| f["object"]["kind"] == "Pod" && f["object"]["apiVersion"] == "v1"));
    let rvs: Vec<u64> = frames.iter().map(|f| rv_of(&f["object"])).collect();
    assert!(
        rvs.windows(2).all(|w| w[0] < w[1]) && rvs[0] > from,
        "{rvs:?}"
    );
    // The deleted object is its last state at the deletion's resourceVersion.
    assert_eq!(frames[1]["object"]["metadata"]["labels"]["app"], "cart");

    server.create(pod("a", "live", "cart", "n2")).unwrap();
    server
        .create(pod("other", "elsewhere", "cart", "n2"))
        .unwrap();
    assert_eq!(watch.events(1).await, [("ADDED".into(), "live".into())]);
    watch.quiet(Duration::from_millis(300)).await;
}

#[tokio::test]
async fn watch_without_a_resource_version_starts_with_synthetic_added_events() {
    let server = server().await;
    let http = Http::new(&server);
    server.create(pod("a", "p1", "cart", "n1")).unwrap();
    server.create(pod("b", "p2", "cart", "n1")).unwrap();
    for query in ["watch=true", "watch=1&resourceVersion=0"] {
        let mut watch = http.watch(&format!("/api/v1/pods?{query}")).await;
        let mut got = watch.events(2).await;
        got.sort();
        assert_eq!(
            got,
            [("ADDED".into(), "p1".into()), ("ADDED".into(), "p2".into())],
            "{query}"
        );
        watch.quiet(Duration::from_millis(300)).await;
    }
    // The legacy /watch/ path is a watch too.
    let mut watch = http.watch("/api/v1/watch/namespaces/b/pods").await;
    assert_eq!(watch.events(1).await, [("ADDED".into(), "p2".into())]);
}

#[tokio::test]
async fn bookmarks_are_periodic_and_carry_the_latest_resource_version() {
    let server = server().await;
    let http = Http::new(&server);
    server.create(pod("a", "p1", "cart", "n1")).unwrap();
    let from = server.resource_version();
    let mut watch = http
        .watch(&format!(
            "/api/v1/pods?watch=1&resourceVersion={from}&allowWatchBookmarks=true"
        ))
        .await;
    // Changes of other resources move the bookmark's resourceVersion too.
    let ev = server.create(event("a", "e1", "p1", "BackOff")).unwrap();
    let mut bookmarks = Vec::new();
    while bookmarks.len() < 2 {
        match watch.next(2 * SECOND).await {
            Next::Frame(f) => bookmarks.push(f),
            other => panic!("expected a bookmark, got {other:?}"),
        }
    }
    for b in &bookmarks {
        assert_eq!(b["type"], "BOOKMARK");
        assert_eq!(b["object"]["kind"], "Pod");
        assert_eq!(b["object"]["apiVersion"], "v1");
        assert_eq!(
            b["object"]["metadata"]["resourceVersion"],
            rv_of(&ev).to_string()
        );
        assert!(b["object"]["metadata"].get("annotations").is_none());
    }
    // Without allowWatchBookmarks there are none.
    let mut quiet = http
        .watch(&format!("/api/v1/pods?watch=1&resourceVersion={from}"))
        .await;
    assert!(matches!(
        quiet.next(Duration::from_millis(600)).await,
        Next::Timeout
    ));
}

#[tokio::test]
async fn streaming_lists_end_their_initial_events_with_a_marked_bookmark() {
    let server = server().await;
    let http = Http::new(&server);
    server.create(pod("a", "p1", "cart", "n1")).unwrap();
    server.create(pod("a", "p2", "cart", "n1")).unwrap();
    let at = server.resource_version();
    let mut watch = http
        .watch(
            "/api/v1/pods?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan\
             &resourceVersion=0&allowWatchBookmarks=true",
        )
        .await;
    let mut initial = Vec::new();
    let end = loop {
        match watch.next(2 * SECOND).await {
            Next::Frame(f) if f["type"] == "BOOKMARK" => break f,
            Next::Frame(f) => initial.push(f),
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(
        names(&json!(initial
            .iter()
            .map(|f| f["object"].clone())
            .collect::<Vec<_>>())),
        ["p1", "p2"]
    );
    assert!(initial.iter().all(|f| f["type"] == "ADDED"));
    assert_eq!(end["object"]["metadata"]["resourceVersion"], at.to_string());
    assert_eq!(
        end["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"],
        "true"
    );
    server.create(pod("a", "p3", "cart", "n1")).unwrap();
    assert_eq!(watch.events(1).await, [("ADDED".into(), "p3".into())]);

    // sendInitialEvents without NotOlderThan is refused as the server does.
    let (code, _, status) = http
        .get("/api/v1/pods?watch=1&sendInitialEvents=true")
        .await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(status["message"]
        .as_str()
        .unwrap()
        .contains("sendInitialEvents requires setting resourceVersionMatch to NotOlderThan"));
}

#[tokio::test]
async fn a_watch_from_before_the_history_gets_one_410_error_frame_then_ends() {
    let server = server_with(FakeApiServerConfig {
        history_window: 3,
        ..FakeApiServerConfig::default()
    })
    .await;
    let http = Http::new(&server);
    let first = server.create(pod("a", "p0", "cart", "n1")).unwrap();
    for i in 1..=5 {
        server
            .create(pod("a", &format!("p{i}"), "cart", "n1"))
            .unwrap();
    }
    let floor = server.oldest_resource_version();
    assert_eq!(floor, server.resource_version() - 3);
    let old = rv_of(&first);
    let mut watch = http
        .watch(&format!("/api/v1/pods?watch=1&resourceVersion={old}"))
        .await;
    assert_eq!(watch.status, StatusCode::OK);
    match watch.next(2 * SECOND).await {
        Next::Frame(f) => assert_eq!(
            f,
            json!({"type": "ERROR", "object": {"kind": "Status", "apiVersion": "v1",
                "metadata": {}, "status": "Failure",
                "message": format!("too old resource version: {old} ({floor})"),
                "reason": "Expired", "code": 410}})
        ),
        other => panic!("{other:?}"),
    }
    assert!(matches!(watch.next(2 * SECOND).await, Next::End));
    // From the floor itself the history suffices.
    let mut watch = http
        .watch(&format!("/api/v1/pods?watch=1&resourceVersion={floor}"))
        .await;
    assert_eq!(watch.events(3).await.len(), 3);
    // expire_history(): only the current resourceVersion still starts.
    server.expire_history();
    let mut watch = http
        .watch(&format!("/api/v1/pods?watch=1&resourceVersion={floor}"))
        .await;
    assert_eq!(watch.event().await["object"]["code"], 410);
    let now = server.resource_version();
    let mut watch = http
        .watch(&format!("/api/v1/pods?watch=1&resourceVersion={now}"))
        .await;
    watch.quiet(Duration::from_millis(200)).await;
}

#[tokio::test]
async fn selectors_apply_to_lists_and_watches() {
    let server = server().await;
    let http = Http::new(&server);
    server.create(pod("a", "cart-1", "cart", "n1")).unwrap();
    server.create(pod("a", "cart-2", "cart", "n2")).unwrap();
    server.create(pod("a", "db-0", "db", "n1")).unwrap();
    let (_, _, carts) = http.get("/api/v1/pods?labelSelector=app%3Dcart").await;
    assert_eq!(names(&carts["items"]), ["cart-1", "cart-2"]);
    let (_, _, set) = http
        .get("/api/v1/pods?labelSelector=app%20in%20(db%2Cweb)")
        .await;
    assert_eq!(names(&set["items"]), ["db-0"]);
    let (_, _, on_n1) = http
        .get("/api/v1/pods?fieldSelector=spec.nodeName%3Dn1")
        .await;
    assert_eq!(names(&on_n1["items"]), ["cart-1", "db-0"]);
    let (_, _, both) = http
        .get("/api/v1/pods?fieldSelector=spec.nodeName%3Dn1&labelSelector=app!%3Ddb")
        .await;
    assert_eq!(names(&both["items"]), ["cart-1"]);
    let (code, _, status) = http.get("/api/v1/pods?fieldSelector=spec.foo%3Dbar").await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    assert_eq!(status["reason"], "BadRequest");
    assert_eq!(status["message"], "field label not supported: spec.foo");
    let (code, _, _) = http.get("/api/v1/pods?labelSelector=app%20in%20cart").await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    // Paged selections: no remainingItemCount.
    let (_, _, page) = http
        .get("/api/v1/pods?labelSelector=app%3Dcart&limit=1")
        .await;
    assert!(page["metadata"]["continue"].is_string());
    assert!(page["metadata"].get("remainingItemCount").is_none());

    // Watches: entering the selection is ADDED, leaving it DELETED.
    let from = server.resource_version();
    let mut watch = http
        .watch(&format!(
            "/api/v1/pods?watch=1&resourceVersion={from}&labelSelector=app%3Dcart"
        ))
        .await;
    server.apply(pod("a", "cart-1", "retired", "n1")).unwrap();
    server.apply(pod("a", "db-0", "cart", "n1")).unwrap();
    server.apply(pod("a", "cart-2", "cart", "n3")).unwrap();
    server.create(pod("a", "web-0", "web", "n1")).unwrap();
    let frames = [
        watch.event().await,
        watch.event().await,
        watch.event().await,
    ];
    let seen: Vec<_> = frames
        .iter()
        .map(|f| {
            (
                f["type"].as_str().unwrap(),
                f["object"]["metadata"]["name"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("DELETED", "cart-1"),
            ("ADDED", "db-0"),
            ("MODIFIED", "cart-2")
        ]
    );
    // The DELETED object is the last state that matched, at the change's RV.
    assert_eq!(frames[0]["object"]["metadata"]["labels"]["app"], "cart");
    assert_eq!(rv_of(&frames[0]["object"]), from + 1);
    watch.quiet(Duration::from_millis(300)).await;
    // Field selectors on watches, events by involved object.
    server
        .create(event("a", "e1", "cart-2", "BackOff"))
        .unwrap();
    server.create(event("a", "e2", "db-0", "BackOff")).unwrap();
    let mut watch = http
        .watch(
            "/api/v1/events?watch=1&fieldSelector=involvedObject.name%3Dcart-2%2Creason%3DBackOff",
        )
        .await;
    assert_eq!(watch.events(1).await, [("ADDED".into(), "e1".into())]);
    watch.quiet(Duration::from_millis(300)).await;
}

#[tokio::test]
async fn drop_watches_cuts_every_stream_without_the_final_chunk() {
    let server = server().await;
    let http = Http::new(&server);
    server.create(pod("a", "p1", "cart", "n1")).unwrap();
    let mut first = http.watch("/api/v1/pods?watch=1").await;
    let mut second = http.watch("/api/v1/namespaces/a/events?watch=1").await;
    assert_eq!(first.events(1).await.len(), 1);
    assert!(server.wait_for_watches(2, 5 * SECOND).await);
    server.drop_watches();
    for watch in [&mut first, &mut second] {
        match watch.next(5 * SECOND).await {
            Next::Cut(_) => {}
            other => panic!("expected a cut connection, got {other:?}"),
        }
    }
    assert!(server.wait_for_watches_closed(5 * SECOND).await);
    assert_eq!(server.requests().watches_dropped, 2);
    // The server goes on: a new watch from the last RV sees later changes.
    let from = server.resource_version();
    let mut again = http
        .watch(&format!("/api/v1/pods?watch=1&resourceVersion={from}"))
        .await;
    server.create(pod("a", "p2", "cart", "n1")).unwrap();
    assert_eq!(again.events(1).await, [("ADDED".into(), "p2".into())]);
}

#[tokio::test]
async fn timeout_seconds_ends_the_watch_cleanly() {
    let server = server().await;
    let http = Http::new(&server);
    let started = tokio::time::Instant::now();
    let mut watch = http.watch("/api/v1/pods?watch=1&timeoutSeconds=1").await;
    assert!(matches!(watch.next(5 * SECOND).await, Next::End));
    assert!(started.elapsed() >= SECOND);
}

#[tokio::test]
async fn injected_failures_answer_500_and_dropped_connections_cut_bodies() {
    let server = server().await;
    let http = Http::new(&server);
    server.create(pod("a", "p1", "cart", "n1")).unwrap();
    server.fail_next(2);
    for path in ["/api/v1/pods", "/api"] {
        let (code, _, status) = http.get(path).await;
        assert_eq!(code, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(status["kind"], "Status");
        assert_eq!(status["reason"], "InternalError");
        assert_eq!(status["code"], 500);
        assert!(status["message"]
            .as_str()
            .unwrap()
            .starts_with("Internal error occurred: "));
    }
    let (code, _, _) = http.get("/api/v1/pods").await;
    assert_eq!(code, StatusCode::OK);

    server.fail_next_of(Verb::Watch, 1);
    let (code, _, _) = http.get("/api/v1/pods").await;
    assert_eq!(code, StatusCode::OK);
    let (code, _, _) = http.get("/api/v1/pods?watch=1&timeoutSeconds=1").await;
    assert_eq!(code, StatusCode::INTERNAL_SERVER_ERROR);

    server.drop_next_of(Verb::List, 1);
    let (code, body) = http.get_raw("/api/v1/pods").await;
    assert_eq!(code, StatusCode::OK);
    assert!(body.is_err(), "the body is cut: {body:?}");
    server.drop_next_of(Verb::Watch, 1);
    let mut watch = http.watch("/api/v1/pods?watch=1").await;
    assert!(matches!(watch.next(5 * SECOND).await, Next::Cut(_)));

    let counts = server.requests();
    assert_eq!((counts.failed, counts.dropped), (3, 2));
    assert_eq!(counts.list, 4);
    assert_eq!(counts.watch, 2);
    assert_eq!(counts.discovery, 1);
}

#[tokio::test]
async fn objects_are_written_over_http_as_the_server_does() {
    let server = server().await;
    let http = Http::new(&server);
    let json_ct = "application/json";
    let body = json!({"apiVersion": "v1", "kind": "Pod",
                      "metadata": {"name": "web", "labels": {"app": "web"}},
                      "spec": {"containers": [{"name": "c", "image": "nginx"}]}});
    let (code, created) = http
        .send(Method::POST, "/api/v1/namespaces/shop/pods", json_ct, &body)
        .await;
    assert_eq!(code, StatusCode::CREATED);
    assert_eq!(created["metadata"]["namespace"], "shop");
    assert_eq!(created["kind"], "Pod");
    assert!(created["metadata"]["uid"].as_str().unwrap().len() == 36);
    assert!(created["metadata"]["creationTimestamp"].is_string());
    let rv = rv_of(&created);
    assert_eq!(rv, server.resource_version());

    let (code, status) = http
        .send(Method::POST, "/api/v1/namespaces/shop/pods", json_ct, &body)
        .await;
    assert_eq!(code, StatusCode::CONFLICT);
    assert_eq!(status["reason"], "AlreadyExists");
    assert_eq!(status["message"], "pods \"web\" already exists");

    let (code, status) = http
        .send(
            Method::POST,
            "/api/v1/namespaces/shop/pods",
            json_ct,
            &json!({"metadata": {}}),
        )
        .await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(status["details"]["causes"][0]["field"], "metadata.name");
    let (code, generated) = http
        .send(
            Method::POST,
            "/api/v1/namespaces/shop/pods",
            json_ct,
            &json!({"metadata": {"generateName": "web-"}}),
        )
        .await;
    assert_eq!(code, StatusCode::CREATED);
    assert_eq!(
        generated["metadata"]["name"].as_str().unwrap().len(),
        "web-".len() + 5
    );

    // PUT: a stale resourceVersion conflicts; the current one replaces.
    let mut stale = created.clone();
    stale["metadata"]["resourceVersion"] = json!("1");
    let (code, status) = http
        .send(
            Method::PUT,
            "/api/v1/namespaces/shop/pods/web",
            json_ct,
            &stale,
        )
        .await;
    assert_eq!(code, StatusCode::CONFLICT);
    assert_eq!(status["reason"], "Conflict");
    let mut update = created.clone();
    update["metadata"]["labels"]["tier"] = json!("front");
    let (code, updated) = http
        .send(
            Method::PUT,
            "/api/v1/namespaces/shop/pods/web",
            json_ct,
            &update,
        )
        .await;
    assert_eq!(code, StatusCode::OK);
    assert!(rv_of(&updated) > rv);
    assert_eq!(updated["metadata"]["uid"], created["metadata"]["uid"]);

    // PATCH (merge): labels change, the rest stays.
    let (code, patched) = http
        .send(
            Method::PATCH,
            "/api/v1/namespaces/shop/pods/web",
            "application/merge-patch+json",
            &json!({"metadata": {"labels": {"tier": null, "app": "web2"}}}),
        )
        .await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(patched["metadata"]["labels"], json!({"app": "web2"}));
    assert_eq!(patched["spec"]["containers"][0]["image"], "nginx");

    // Deployments track generation.
    let deploy = json!({"apiVersion": "apps/v1", "kind": "Deployment",
                        "metadata": {"name": "d", "namespace": "shop"}, "spec": {"replicas": 1}});
    let (_, d1) = http
        .send(
            Method::POST,
            "/apis/apps/v1/namespaces/shop/deployments",
            json_ct,
            &deploy,
        )
        .await;
    assert_eq!(d1["metadata"]["generation"], 1);
    let (_, d2) = http
        .send(
            Method::PATCH,
            "/apis/apps/v1/namespaces/shop/deployments/d",
            "application/strategic-merge-patch+json",
            &json!({"spec": {"replicas": 3}}),
        )
        .await;
    assert_eq!(d2["metadata"]["generation"], 2);

    // DELETE: pods answer with the object, other resources with a Success Status.
    let (code, deleted) = http.delete("/api/v1/namespaces/shop/pods/web").await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(deleted["kind"], "Pod");
    let (code, status) = http
        .delete("/apis/apps/v1/namespaces/shop/deployments/d")
        .await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(status["status"], "Success");
    assert_eq!(
        status["details"],
        json!({"name": "d", "group": "apps", "kind": "deployments",
                                          "uid": d1["metadata"]["uid"]})
    );
    let (code, _, status) = http.get("/api/v1/namespaces/shop/pods/web").await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    assert_eq!(
        status,
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
               "message": "pods \"web\" not found", "reason": "NotFound",
               "details": {"name": "web", "kind": "pods"}, "code": 404})
    );
    let (code, _) = http.delete("/api/v1/namespaces/shop/pods/web").await;
    assert_eq!(code, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn events_are_served_by_both_event_apis() {
    let server = server().await;
    let http = Http::new(&server);
    server.create(event("a", "e1", "web", "BackOff")).unwrap();
    let (_, _, core) = http.get("/api/v1/namespaces/a/events").await;
    assert_eq!(core["kind"], "EventList");
    assert_eq!(core["items"][0]["involvedObject"]["name"], "web");
    assert_eq!(core["items"][0]["message"], "BackOff for web");
    let (_, _, v1) = http.get("/apis/events.k8s.io/v1/namespaces/a/events").await;
    assert_eq!(v1["apiVersion"], "events.k8s.io/v1");
    let item = &v1["items"][0];
    assert_eq!(item["regarding"]["name"], "web");
    assert_eq!(item["note"], "BackOff for web");
    assert_eq!(item["deprecatedCount"], 1);
    assert_eq!(item["deprecatedSource"]["component"], "kubelet");
    assert!(item.get("involvedObject").is_none() && item.get("message").is_none());
    // Written through events.k8s.io/v1, read through core/v1.
    let written = json!({"apiVersion": "events.k8s.io/v1", "kind": "Event",
        "metadata": {"name": "e2", "namespace": "a"},
        "eventTime": "2024-05-01T10:00:00.000000Z", "reportingController": "kube-scheduler",
        "reportingInstance": "kube-scheduler-1", "action": "Scheduling",
        "reason": "FailedScheduling", "type": "Warning",
        "regarding": {"kind": "Pod", "namespace": "a", "name": "web"},
        "note": "0/1 nodes are available"});
    let (code, _) = http
        .send(
            Method::POST,
            "/apis/events.k8s.io/v1/namespaces/a/events",
            "application/json",
            &written,
        )
        .await;
    assert_eq!(code, StatusCode::CREATED);
    let (_, _, e2) = http.get("/api/v1/namespaces/a/events/e2").await;
    assert_eq!(e2["apiVersion"], "v1");
    assert_eq!(e2["reportingComponent"], "kube-scheduler");
    assert_eq!(e2["involvedObject"]["name"], "web");
    assert_eq!(e2["firstTimestamp"], Value::Null);
    assert_eq!(e2["source"], json!({}));
    assert_eq!(e2["message"], "0/1 nodes are available");
    // One storage: a watch of either API sees writes through the other.
    let (_, _, s) = http
        .get("/apis/events.k8s.io/v1/events?fieldSelector=source%3Dkube-scheduler")
        .await;
    assert_eq!(names(&s["items"]), ["e2"]);
}

#[tokio::test]
async fn discovery_documents_describe_every_resource() {
    let server = server().await;
    let http = Http::new(&server);
    let (_, _, version) = http.get("/version").await;
    assert_eq!(
        (version["major"].as_str(), version["minor"].as_str()),
        (Some("1"), Some("33"))
    );
    let (_, _, api) = http.get("/api").await;
    assert_eq!(api["kind"], "APIVersions");
    assert_eq!(api["versions"], json!(["v1"]));
    let (_, _, core) = http.get("/api/v1").await;
    let pods = core["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "pods")
        .unwrap()
        .clone();
    assert_eq!(pods["kind"], "Pod");
    assert_eq!(pods["namespaced"], true);
    assert_eq!(pods["shortNames"], json!(["po"]));
    assert!(pods["verbs"].as_array().unwrap().contains(&json!("watch")));
    let (_, _, groups) = http.get("/apis").await;
    let group_names: Vec<&str> = groups["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    for g in [
        "apps",
        "batch",
        "autoscaling",
        "discovery.k8s.io",
        "events.k8s.io",
    ] {
        assert!(group_names.contains(&g), "{g} in {group_names:?}");
    }
    let (_, _, apps) = http.get("/apis/apps/v1").await;
    assert_eq!(apps["groupVersion"], "apps/v1");
    let deploy = apps["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "deployments")
        .unwrap()
        .clone();
    assert_eq!(deploy["shortNames"], json!(["deploy"]));
    let (_, _, hpa) = http.get("/apis/autoscaling/v2").await;
    assert_eq!(hpa["resources"][0]["name"], "horizontalpodautoscalers");
    let (_, _, openapi) = http.get("/openapi/v3").await;
    assert_eq!(
        openapi["paths"]["apis/apps/v1"]["serverRelativeURL"],
        "/openapi/v3/apis/apps/v1"
    );
    let (_, _, apps_doc) = http.get("/openapi/v3/apis/apps/v1").await;
    let patch =
        &apps_doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"];
    assert_eq!(
        patch["x-kubernetes-group-version-kind"]["kind"],
        "Deployment"
    );
    assert_eq!(patch["parameters"][0]["name"], "fieldValidation");
    let (code, _, status) = http.get("/api/v1/widgets").await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    assert_eq!(status["reason"], "NotFound");
    let (code, _, _) = http.get("/nope").await;
    assert_eq!(code, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn resource_versions_are_one_counter_across_resources() {
    let server = server().await;
    let a = server.create(pod("a", "p", "cart", "n1")).unwrap();
    let b = server.create(event("a", "e", "p", "BackOff")).unwrap();
    let c = server
        .create(json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}}))
        .unwrap();
    assert_eq!((rv_of(&b), rv_of(&c)), (rv_of(&a) + 1, rv_of(&a) + 2));
    // A no-op apply changes nothing, as on the real server.
    let again = server.apply(pod("a", "p", "cart", "n1")).unwrap();
    assert_eq!(rv_of(&again), rv_of(&a));
    assert_eq!(server.resource_version(), rv_of(&c));
    let deleted = server.delete("deploy", Some("default"), "d").unwrap();
    assert_eq!(rv_of(&deleted), rv_of(&c) + 1);
    assert!(server.get("deployments.apps", None, "d").unwrap().is_none());
}
