//! The notifier inside the aggregator: takes the rule engine's alerts (and alerts POSTed
//! to `/api/v2/alerts`), adds the external labels, forwards them to external
//! Alertmanagers and runs argus' own Alertmanager-compatible pipeline on them: dispatcher
//! (routes, groups, timers), silences and inhibition, the notification log, and delivery
//! to the receivers. Silences and the notification log live in `<data-dir>/notify/`.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use argus_alerting::eval::OutgoingAlert;
use argus_alerting::notify::config::Config;
use argus_alerting::notify::dispatch::{Dispatcher, Flush};
use argus_alerting::notify::forward::Forwarder;
use argus_alerting::notify::http::Client;
use argus_alerting::notify::nflog::Nflog;
use argus_alerting::notify::receivers::delivery::{Delivery, DeliveryOptions, Job};
use argus_alerting::notify::silence::Silences;
use argus_alerting::notify::Alert;
use argus_core::series::Labels;

use crate::AlertingConfig;

/// The config used without `--alertmanager-config`: one receiver without integrations,
/// so alerts, silences and the v2 API work and nothing is sent.
const DEFAULT_CONFIG: &str = "route:\n  receiver: default\nreceivers:\n  - name: default\n";

/// How often expired silences and old notification-log entries are dropped.
const GC_INTERVAL: Duration = Duration::from_secs(15 * 60);

/// What the API handlers and the loop share; locked briefly, never across an await.
pub struct State {
    pub config: Arc<Config>,
    pub dispatcher: Dispatcher,
    pub silences: Silences,
    pub nflog: Nflog,
}

/// The notification side of the aggregator.
pub struct Notifier {
    forwarder: Forwarder,
    external_labels: Labels,
    external_url: String,
    /// The `alertmanager.yml` (None: [`DEFAULT_CONFIG`]).
    config_path: Option<PathBuf>,
    state: Mutex<State>,
    delivery: Mutex<Option<Arc<Delivery>>>,
    wake: tokio::sync::Notify,
    /// Serialises writes of the notification log.
    nflog_write: tokio::sync::Mutex<()>,
    started_ms: i64,
}

fn now_ms() -> i64 {
    argus_core::time::now_ns() / 1_000_000
}

fn load_config(path: Option<&Path>) -> Result<Config, String> {
    match path {
        Some(p) => Config::load(p),
        None => Config::parse(DEFAULT_CONFIG, "default notification config"),
    }
}

impl Notifier {
    /// Loads the notification config and the persisted silences and notification log;
    /// nothing runs before [`Notifier::spawn`].
    pub fn new(cfg: &AlertingConfig, data_dir: &Path) -> Result<Notifier, String> {
        let forwarder = Forwarder::new(&cfg.alertmanagers)?;
        let config_path =
            (!cfg.alertmanager_config.is_empty()).then(|| PathBuf::from(&cfg.alertmanager_config));
        let config = load_config(config_path.as_deref())?;
        let dir = data_dir.join("notify");
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let now = now_ms();
        let silences = Silences::open(dir.join("silences.json"), now).map_err(|e| e.to_string())?;
        let nflog = Nflog::open(dir.join("nflog.json"), now).map_err(|e| e.to_string())?;
        Ok(Notifier {
            forwarder,
            external_labels: Labels::new(
                cfg.external_labels
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str())),
            ),
            external_url: cfg.external_url.trim_end_matches('/').to_string(),
            config_path,
            state: Mutex::new(State {
                dispatcher: Dispatcher::new(&config, now),
                config: Arc::new(config),
                silences,
                nflog,
            }),
            delivery: Mutex::new(None),
            wake: tokio::sync::Notify::new(),
            nflog_write: tokio::sync::Mutex::new(()),
            started_ms: now,
        })
    }

    /// The shared state, for the v2 API.
    pub fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// When the process started (`uptime` of `/api/v2/status`).
    pub fn started_ms(&self) -> i64 {
        self.started_ms
    }

    /// Wakes the loop after alerts arrived or silences changed.
    pub fn poke(&self) {
        self.wake.notify_one();
    }

    /// Starts the forwarding task, the receivers' workers and the dispatch loop on the
    /// current tokio runtime.
    pub fn spawn(self: &Arc<Self>) -> Result<Vec<tokio::task::JoinHandle<()>>, String> {
        let client = Client::new();
        let mut tasks: Vec<_> = self.forwarder.spawn(client.clone()).into_iter().collect();
        let config = self.state().config.clone();
        let delivery = Delivery::new(
            &config.receivers,
            &config.global.receiver_globals(),
            client,
            DeliveryOptions::default(),
        )?;
        *self.delivery.lock().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(delivery));
        let me = self.clone();
        tasks.push(tokio::spawn(async move { me.run().await }));
        Ok(tasks)
    }

    /// Re-reads `--alertmanager-config`; on an error the running config stays.
    pub fn reload(&self) -> Result<(), String> {
        let config = load_config(self.config_path.as_deref())?;
        let client = Client::new();
        let delivery = Delivery::new(
            &config.receivers,
            &config.global.receiver_globals(),
            client,
            DeliveryOptions::default(),
        )?;
        {
            let mut st = self.state();
            st.dispatcher.reload(&config, now_ms());
            st.config = Arc::new(config);
        }
        *self.delivery.lock().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(delivery));
        self.poke();
        Ok(())
    }

    /// Alerts from the rule engine: external labels added where the alert lacks them (as
    /// Prometheus' notifier does), then forwarded and dispatched.
    pub fn receive_rule_alerts(&self, alerts: Vec<OutgoingAlert>, now_ms: i64) {
        let alerts: Vec<Alert> = alerts
            .into_iter()
            .map(|a| {
                let mut labels = a.labels;
                for l in self.external_labels.iter() {
                    if labels.get(&l.name).is_none() {
                        labels.set(&l.name, &l.value);
                    }
                }
                Alert {
                    labels,
                    annotations: a.annotations,
                    starts_at_ms: a.starts_at,
                    ends_at_ms: a.ends_at,
                    generator_url: a.generator_url,
                    updated_at_ms: now_ms,
                }
            })
            .collect();
        self.forwarder.send(&alerts);
        let errors = self.state().dispatcher.put(alerts, now_ms);
        for e in errors {
            tracing::warn!(error = %e, "alert from the rules not dispatched");
        }
        self.poke();
    }

    /// The dispatch loop: flushes groups when due, hands each flush to its receiver's
    /// integrations, records deliveries in the notification log.
    async fn run(self: Arc<Self>) {
        let mut last_gc = tokio::time::Instant::now();
        loop {
            let now = now_ms();
            let due = self.state().dispatcher.next_due_ms();
            if due > now {
                let wait = Duration::from_millis((due - now).clamp(1, 1000) as u64);
                let _ = tokio::time::timeout(wait, self.wake.notified()).await;
                continue;
            }
            let flushes = {
                let mut st = self.state();
                let st = &mut *st;
                st.dispatcher.flush(&st.silences, now)
            };
            for f in flushes {
                let me = self.clone();
                tokio::spawn(async move { me.deliver(f).await });
            }
            if last_gc.elapsed() >= GC_INTERVAL {
                last_gc = tokio::time::Instant::now();
                let mut st = self.state();
                if let Err(e) = st.silences.gc(now) {
                    tracing::error!(error = %e, "cannot drop expired silences");
                }
                if let Err(e) = st.nflog.gc(now) {
                    tracing::error!(error = %e, "cannot drop old notification log entries");
                }
            }
        }
    }

    /// Delivers one flush to every integration of its receiver that needs it.
    async fn deliver(self: Arc<Self>, f: Flush) {
        let delivery = self
            .delivery
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let config = self.state().config.clone();
        let (firing, resolved) = f.hashes();
        let Some(receiver) = config.receiver(&f.receiver) else {
            // The config was reloaded without this receiver; the group goes with it.
            self.state().dispatcher.failed(f.group);
            return;
        };
        let mut waits = Vec::new();
        let mut undelivered = false;
        for id in receiver.integrations() {
            let due = self.state().nflog.needs_update(
                &f.group_key,
                &f.receiver,
                &id,
                &firing,
                &resolved,
                f.repeat_interval_ms,
                f.now_ms,
            );
            if !due {
                continue;
            }
            let Some(delivery) = &delivery else {
                // Not started yet: nothing can be sent, so the group is not delivered.
                undelivered = true;
                break;
            };
            let (mut job, rx) = Job::new(f.notification(&self.external_url), id);
            job.retry_for = Some(Duration::from_millis(f.group_interval_ms.max(1000) as u64));
            delivery.submit(job);
            waits.push((id, rx));
        }
        let mut ok = !undelivered;
        for (id, rx) in waits {
            match rx.await {
                Ok(Ok(())) => {
                    self.state().nflog.record(
                        &f.group_key,
                        &f.receiver,
                        &id,
                        &firing,
                        &resolved,
                        now_ms(),
                    );
                }
                Ok(Err(e)) => {
                    ok = false;
                    tracing::error!(error = %e, group = %f.group_key, "notification failed");
                }
                Err(_) => ok = false,
            }
        }
        {
            let mut st = self.state();
            if ok {
                st.dispatcher.delivered(f.group, now_ms());
            } else {
                st.dispatcher.failed(f.group);
            }
        }
        self.persist_nflog().await;
    }

    /// Writes the notification log if deliveries changed it: the snapshot is taken and
    /// written under `nflog_write`, so files are written in the order of their states;
    /// the fsync happens on a blocking thread, outside the state lock.
    async fn persist_nflog(&self) {
        let _order = self.nflog_write.lock().await;
        let Some(snap) = self.state().nflog.snapshot() else {
            return;
        };
        match tokio::task::spawn_blocking(move || snap.write()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "cannot write the notification log"),
            Err(e) => tracing::error!(error = %e, "cannot write the notification log"),
        }
    }

    /// The notifier's own series.
    pub fn write_metrics(&self, out: &mut String) {
        self.forwarder.write_metrics(out);
        if let Some(d) = &*self.delivery.lock().unwrap_or_else(|e| e.into_inner()) {
            d.write_metrics(out);
        }
    }
}
