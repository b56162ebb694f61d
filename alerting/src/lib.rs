//! argus' rule engine: Prometheus rule files (parsing and `promtool check rules`-style
//! validation), Prometheus' alert templates, the evaluation of recording and alerting
//! rules by groups (alert states, `ALERTS`/`ALERTS_FOR_STATE`, staleness, restoring `for`
//! state), the `/api/v1/rules` and `/api/v1/alerts` payloads, and `promtool test rules`
//! unit tests (`argus rules test`).

pub mod api;
pub mod check;
pub mod clock;
pub mod duration;
pub mod eval;
pub mod file;
pub mod gofmt;
pub mod notify;
pub mod query;
pub mod storage;
pub mod template;
pub mod unittest;

pub use check::{check_files, run_check, CheckReport};
pub use unittest::run_tests;
