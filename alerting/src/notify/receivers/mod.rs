//! Receivers: the integrations a notification is delivered through (webhook, Slack,
//! DingTalk, WeCom, Feishu), their config, payloads, signing and delivery.
//!
//! - [`config`]: `receivers:` entries ([`ReceiverConfig`]) and their validation;
//! - [`webhook`], [`slack`], [`dingtalk`], [`wecom`], [`feishu`]: each integration's config,
//!   payload and answer check; [`message`] argus' default chat text; [`data`]
//!   Alertmanager's template data; [`sign`] the vendors' signatures;
//! - [`integration`]: a validated integration building requests;
//! - [`delivery`]: the runtime — a worker per integration with its queue, rate limit and
//!   retries — and [`metrics`].
//!
//! The runtime uses it so:
//!
//! ```no_run
//! # async fn f(receivers: Vec<argus_alerting::notify::receivers::ReceiverConfig>,
//! #            n: argus_alerting::notify::Notification) -> Result<(), String> {
//! use argus_alerting::notify::receivers::{Delivery, DeliveryOptions, Globals, Job};
//! let globals = Globals::default();
//! for r in &receivers {
//!     r.validate(&globals)?; // at config load: errors name receiver, integration, field
//! }
//! let delivery = Delivery::new(&receivers, &globals, Default::default(), DeliveryOptions::default())?;
//! let r = receivers.iter().find(|r| r.name == n.receiver).ok_or("no receiver")?;
//! for id in r.integrations() {
//!     let (job, done) = Job::new(n.clone(), id);
//!     delivery.submit(job);
//!     // Later: Ok(()) → record in the notification log; Err(e) → retry next flush.
//!     let _outcome = done.await;
//! }
//! let mut text = String::new();
//! delivery.write_metrics(&mut text);
//! # Ok(()) }
//! ```

pub mod common;
pub mod config;
pub mod data;
pub mod delivery;
pub mod dingtalk;
pub mod feishu;
pub mod http_config;
pub mod integration;
pub mod limiter;
pub mod message;
pub mod metrics;
pub mod sign;
pub mod slack;
pub mod webhook;
pub mod wecom;

pub use common::{Request, Verdict};
pub use config::{Globals, IntegrationId, ReceiverConfig};
pub use delivery::{Delivery, DeliveryError, DeliveryOptions, FailureKind, Job, Outcome};
pub use integration::{Integration, Resolved};
pub use sign::{dingtalk_sign, feishu_sign};
