//! The notifier inside the aggregator: takes the rule engine's alerts (and alerts POSTed
//! to `/api/v2/alerts`), adds the external labels, forwards them to external
//! Alertmanagers and runs argus' own Alertmanager-compatible pipeline on them.

use std::sync::Arc;

use argus_alerting::eval::OutgoingAlert;
use argus_alerting::notify::forward::Forwarder;
use argus_alerting::notify::http::Client;
use argus_alerting::notify::Alert;
use argus_core::series::Labels;

use crate::AlertingConfig;

/// The notification side of the aggregator.
pub struct Notifier {
    forwarder: Forwarder,
    external_labels: Labels,
}

impl Notifier {
    /// Checks the config; nothing runs before [`Notifier::spawn`].
    pub fn new(cfg: &AlertingConfig) -> Result<Notifier, String> {
        let forwarder = Forwarder::new(&cfg.alertmanagers)?;
        Ok(Notifier {
            forwarder,
            external_labels: Labels::new(
                cfg.external_labels
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str())),
            ),
        })
    }

    /// Starts the background tasks on the current tokio runtime.
    pub fn spawn(self: &Arc<Self>) -> Vec<tokio::task::JoinHandle<()>> {
        let client = Client::new();
        self.forwarder.spawn(client).into_iter().collect()
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
    }

    /// The notifier's own series.
    pub fn write_metrics(&self, out: &mut String) {
        self.forwarder.write_metrics(out);
    }
}
