//! One reflector: list + watch of a resource in all namespaces into a store, counted
//! in the `argus_watcher_*` series under its `resource` label.

use std::fmt::Debug;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;

use kube::runtime::reflector::{reflector, store::Writer};
use kube::runtime::{watcher, WatchStreamExt};
use kube::{Api, Resource, ResourceExt};
use serde::de::DeserializeOwned;
use tokio::sync::watch;
use tokio_stream::StreamExt as _;

use crate::events::error_kind;
use crate::metrics::WatcherMetrics;

/// Runs until `stop` turns true (or the stream ends).
pub async fn run<K>(
    api: Api<K>,
    writer: Writer<K>,
    resource: &'static str,
    metrics: Arc<WatcherMetrics>,
    synced: Arc<AtomicBool>,
    mut stop: watch::Receiver<bool>,
) where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
{
    // managedFields are large and never rendered: drop them before they are stored.
    let stream = watcher(api, watcher::Config::default())
        .default_backoff()
        .modify(|o: &mut K| o.managed_fields_mut().clear());
    let mut stream = pin!(reflector(writer, stream));
    loop {
        let item = tokio::select! {
            _ = stop.wait_for(|s| *s) => return,
            item = stream.next() => item,
        };
        match item {
            None => return,
            Some(Ok(watcher::Event::Init)) => {}
            Some(Ok(watcher::Event::InitDone)) => {
                metrics.inc_list(resource);
                if !synced.swap(true, Relaxed) {
                    tracing::info!(resource, "listed; watching");
                }
            }
            Some(Ok(watcher::Event::InitApply(_))) => {
                metrics.inc_watch_event(resource, "init_apply")
            }
            Some(Ok(watcher::Event::Apply(_))) => metrics.inc_watch_event(resource, "apply"),
            Some(Ok(watcher::Event::Delete(_))) => metrics.inc_watch_event(resource, "delete"),
            Some(Err(e)) => {
                metrics.inc_error(resource, error_kind(&e));
                tracing::warn!(resource, error = %e, "list/watch failed; retrying with backoff");
            }
        }
    }
}
