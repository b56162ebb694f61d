//! The rule engine inside the aggregator: rule files from `alerting.rule_files` /
//! `--rules`, evaluated by `argus_alerting`'s manager on the embedded store (or on a remote
//! Prometheus-compatible query API, `alerting.datasource.url`, like vmalert), results and
//! `ALERTS`/`ALERTS_FOR_STATE` written to the embedded store.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use argus_alerting::clock::SystemClock;
use argus_alerting::eval::{EvalContext, Manager, ManagerOptions, OutgoingAlert};
use argus_alerting::query::{Querier, QuerySample};
use argus_alerting::storage::Appender;
use argus_core::series::{Labels, SeriesSource};
use argus_tsdb::Db;
use serde::Deserialize;

/// The `alerting:` section of the config file (rules part).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlertingConfig {
    /// Globs of Prometheus rule files (`--rules` adds to them).
    pub rule_files: Vec<String>,
    /// Interval of groups that set none.
    #[serde(with = "crate::config::duration_str")]
    pub evaluation_interval: Duration,
    /// Labels of this deployment (`$externalLabels` in templates).
    pub external_labels: BTreeMap<String, String>,
    /// Base URL used in links (`--external-url`).
    pub external_url: String,
    /// Where rule queries run: empty for the embedded store.
    pub datasource: DatasourceConfig,
    /// An `alertmanager.yml`-syntax file: routes, receivers, inhibit rules
    /// (`--alertmanager-config`); empty: alerts are kept (API, silences) but not sent.
    pub alertmanager_config: String,
    /// External Alertmanagers the alerts are also forwarded to (`POST /api/v2/alerts`).
    pub alertmanagers: Vec<String>,
}

/// `alerting.datasource`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatasourceConfig {
    /// Base URL of a Prometheus-compatible query API (`http://prometheus:9090`).
    pub url: String,
}

impl Default for AlertingConfig {
    fn default() -> Self {
        AlertingConfig {
            rule_files: Vec::new(),
            evaluation_interval: Duration::from_secs(60),
            external_labels: BTreeMap::new(),
            external_url: String::new(),
            datasource: DatasourceConfig::default(),
            alertmanager_config: String::new(),
            alertmanagers: Vec::new(),
        }
    }
}

impl AlertingConfig {
    /// The rule files the globs name, sorted; a glob that matches nothing is an error.
    pub fn files(&self) -> Result<Vec<PathBuf>, String> {
        let mut out = Vec::new();
        for g in &self.rule_files {
            let paths = glob::glob(g).map_err(|e| format!("alerting.rule_files {g:?}: {e}"))?;
            let before = out.len();
            out.extend(paths.flatten());
            if out.len() == before {
                return Err(format!("alerting.rule_files {g:?}: no file matches"));
            }
        }
        out.sort();
        out.dedup();
        Ok(out)
    }
}

/// The embedded store as the rules' appender.
struct DbAppender(Arc<Db>);

impl Appender for DbAppender {
    fn append(&self, labels: &Labels, t: i64, v: f64) {
        // Buffered: `Rules::tick` flushes the WAL once after the evaluation.
        if let Err(e) = self.0.append_buffered(&[(labels.clone(), t, v)]) {
            tracing::error!(error = %e, series = %labels, "cannot store a rule result");
        }
    }
}

/// Rule queries sent to a remote Prometheus-compatible API.
struct RemoteQuerier {
    url: String,
    client: blocking_http::Client,
}

/// A tiny blocking HTTP GET over hyper, used from the rule thread.
mod blocking_http {
    use bytes::Bytes;
    use http_body_util::{BodyExt, Empty};
    use hyper_util::client::legacy::{connect::HttpConnector, Client as HClient};
    use hyper_util::rt::TokioExecutor;

    #[derive(Clone)]
    pub struct Client {
        inner: HClient<HttpConnector, Empty<Bytes>>,
        rt: tokio::runtime::Handle,
    }

    impl Client {
        pub fn new(rt: tokio::runtime::Handle) -> Client {
            Client {
                inner: HClient::builder(TokioExecutor::new()).build(HttpConnector::new()),
                rt,
            }
        }

        /// Blocks the calling (non-async) thread.
        pub fn get(&self, url: &str) -> Result<(u16, Vec<u8>), String> {
            let req = hyper::Request::get(url)
                .header("accept", "application/json")
                .body(Empty::new())
                .map_err(|e| e.to_string())?;
            let inner = self.inner.clone();
            self.rt.block_on(async move {
                let fut = async {
                    let resp = inner.request(req).await.map_err(|e| e.to_string())?;
                    let status = resp.status().as_u16();
                    let body = resp
                        .into_body()
                        .collect()
                        .await
                        .map_err(|e| e.to_string())?
                        .to_bytes();
                    Ok::<_, String>((status, body.to_vec()))
                };
                tokio::time::timeout(std::time::Duration::from_secs(60), fut)
                    .await
                    .map_err(|_| "query timed out after 60s".to_string())?
            })
        }
    }
}

impl Querier for RemoteQuerier {
    fn query(
        &self,
        _: &dyn SeriesSource,
        expr: &str,
        t_ms: i64,
    ) -> Result<Vec<QuerySample>, String> {
        let url = format!(
            "{}/api/v1/query?query={}&time={}",
            self.url,
            form_urlencoded::byte_serialize(expr.as_bytes()).collect::<String>(),
            t_ms as f64 / 1000.0
        );
        let (status, body) = self.client.get(&url)?;
        let v: serde_json::Value = serde_json::from_slice(&body)
            .map_err(|e| format!("datasource {}: answer is not JSON ({e})", self.url))?;
        if status != 200 || v["status"] != "success" {
            return Err(format!(
                "datasource {}: {}",
                self.url,
                v["error"].as_str().unwrap_or("request failed")
            ));
        }
        let data = &v["data"];
        let value = |x: &serde_json::Value| -> Result<f64, String> {
            let s = x[1].as_str().ok_or("bad sample value")?;
            argus_tsdb::textparse::parse_value(s).ok_or_else(|| format!("bad sample value {s:?}"))
        };
        match data["resultType"].as_str() {
            Some("vector") => data["result"]
                .as_array()
                .ok_or("bad result")?
                .iter()
                .map(|r| {
                    let labels = Labels::new(
                        r["metric"]
                            .as_object()
                            .map(|m| {
                                m.iter()
                                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                                    .collect::<Vec<_>>()
                            })
                            .unwrap_or_default(),
                    );
                    Ok(QuerySample {
                        labels,
                        value: value(&r["value"])?,
                    })
                })
                .collect(),
            Some("scalar") => Ok(vec![QuerySample {
                labels: Labels::default(),
                value: value(&data["result"])?,
            }]),
            other => Err(format!("rule result is not a vector or scalar ({other:?})")),
        }
    }
}

/// The rules running in the aggregator.
pub struct Rules {
    pub manager: Mutex<Manager>,
    files: Vec<PathBuf>,
    cfg: AlertingConfig,
    db: Arc<Db>,
    engine: Arc<argus_promql::Engine>,
    remote: Option<RemoteQuerier>,
    /// Alerts of the last evaluations, until the notifier takes them.
    outgoing: Mutex<Vec<OutgoingAlert>>,
    /// Rule evaluations and failed ones since start (`argus_rule_evaluations_total`,
    /// `argus_rule_evaluation_failures_total`).
    pub evaluations: AtomicU64,
    pub failures: AtomicU64,
}

impl Rules {
    /// Loads the rule files; errors name file and line.
    pub fn new(
        cfg: AlertingConfig,
        db: Arc<Db>,
        engine: Arc<argus_promql::Engine>,
    ) -> Result<Rules, String> {
        let files = cfg.files()?;
        let opts = ManagerOptions {
            evaluation_interval_ms: cfg.evaluation_interval.as_millis() as i64,
            external_labels: cfg.external_labels.clone(),
            external_url: cfg.external_url.clone(),
            ..ManagerOptions::default()
        };
        let rules = Rules {
            manager: Mutex::new(Manager::new(opts, Arc::new(SystemClock))),
            files,
            cfg,
            db,
            engine,
            remote: None,
            outgoing: Mutex::new(Vec::new()),
            evaluations: AtomicU64::new(0),
            failures: AtomicU64::new(0),
        };
        rules.reload()?;
        Ok(rules)
    }

    /// Re-reads the rule files (POST /-/reload); on an error the loaded rules stay.
    pub fn reload(&self) -> Result<usize, String> {
        let files = self.cfg.files().unwrap_or_else(|_| self.files.clone());
        let app = DbAppender(self.db.clone());
        let ctx = self.context(&app);
        let mut m = self.manager.lock().unwrap_or_else(|e| e.into_inner());
        m.load(&files, &ctx).map_err(|errs| {
            errs.iter()
                .map(|e| match e.line {
                    Some(l) => format!("{}:{l}: {}", e.file, e.message),
                    None => format!("{}: {}", e.file, e.message),
                })
                .collect::<Vec<_>>()
                .join("\n")
        })?;
        // Staleness markers of removed rules were appended buffered.
        if let Err(e) = self.db.flush_wal() {
            tracing::error!(error = %e, "cannot write rule results to the WAL");
        }
        Ok(m.groups().len())
    }

    fn context<'a>(&'a self, app: &'a DbAppender) -> EvalContext<'a> {
        EvalContext {
            querier: match &self.remote {
                Some(r) => r,
                None => &*self.engine,
            },
            source: &*self.db,
            appender: app,
        }
    }

    /// When the next group is due (ms since the epoch), if any.
    pub fn next_eval_ms(&self) -> Option<i64> {
        self.manager
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .next_eval_ms()
    }

    /// Evaluates the groups that are due; called from a blocking thread when
    /// [`Rules::next_eval_ms`] has come.
    pub fn tick(&self) {
        let app = DbAppender(self.db.clone());
        let ctx = self.context(&app);
        let mut m = self.manager.lock().unwrap_or_else(|e| e.into_inner());
        let due = m
            .next_eval_ms()
            .is_some_and(|t| t <= argus_core::time::now_ns() / 1_000_000);
        if !due {
            return;
        }
        let before: Vec<Option<i64>> = m.groups().iter().map(|g| g.last_eval_ms).collect();
        let busy = crate::memory::busy();
        let alerts = m.run_pending(&ctx);
        drop(busy);
        if let Err(e) = self.db.flush_wal() {
            tracing::error!(error = %e, "cannot write rule results to the WAL");
        }
        for (g, prev) in m.groups().iter().zip(before) {
            if g.last_eval_ms != prev {
                self.evaluations.fetch_add(g.rules.len() as u64, Relaxed);
                let bad = g
                    .rules
                    .iter()
                    .filter(|r| r.status().health == argus_alerting::eval::Health::Bad)
                    .count();
                self.failures.fetch_add(bad as u64, Relaxed);
            }
        }
        if !alerts.is_empty() {
            let mut out = self.outgoing.lock().unwrap_or_else(|e| e.into_inner());
            out.extend(alerts);
            // The notifier takes them every second; bound them should it stall.
            let n = out.len();
            if n > 10_000 {
                out.drain(..n - 10_000);
            }
        }
    }

    /// The alerts to send since the last call (Prometheus' resend rules applied).
    pub fn take_alerts(&self) -> Vec<OutgoingAlert> {
        std::mem::take(&mut *self.outgoing.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// The rule engine's own series (written into the aggregator's `/metrics`).
    pub fn write_metrics(&self, out: &mut String) {
        use std::fmt::Write as _;
        let m = self.manager.lock().unwrap_or_else(|e| e.into_inner());
        let _ = writeln!(out, "# HELP argus_rule_evaluations_total Rule evaluations since start.\n# TYPE argus_rule_evaluations_total counter\nargus_rule_evaluations_total {}", self.evaluations.load(Relaxed));
        let _ = writeln!(out, "# HELP argus_rule_evaluation_failures_total Rule evaluations that failed since start.\n# TYPE argus_rule_evaluation_failures_total counter\nargus_rule_evaluation_failures_total {}", self.failures.load(Relaxed));
        type GroupGauge = fn(&argus_alerting::eval::Group) -> f64;
        let fams: [(&str, &str, GroupGauge); 3] = [
            (
                "argus_rule_group_last_duration_seconds",
                "How long the last evaluation of the group took.",
                |g| g.eval_seconds,
            ),
            (
                "argus_rule_group_last_evaluation_timestamp_seconds",
                "When the group was last evaluated.",
                |g| g.last_eval_ms.map_or(0.0, |t| t as f64 / 1000.0),
            ),
            ("argus_rule_group_rules", "Rules in the group.", |g| {
                g.rules.len() as f64
            }),
        ];
        for (name, help, get) in fams {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
            for g in m.groups() {
                let _ = writeln!(
                    out,
                    "{name}{{rule_group={:?},file={:?}}} {}",
                    g.name,
                    g.file,
                    get(g)
                );
            }
        }
    }

    /// Uses a remote query API for the rules' queries.
    pub fn with_remote(mut self, rt: tokio::runtime::Handle) -> Rules {
        if !self.cfg.datasource.url.is_empty() {
            self.remote = Some(RemoteQuerier {
                url: self.cfg.datasource.url.trim_end_matches('/').to_string(),
                client: blocking_http::Client::new(rt),
            });
        }
        self
    }
}
