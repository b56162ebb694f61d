//! Helpers of `grafana_datasource_e2e.rs`: the data set, Grafana's requests, and what it
//! reads from the answers.

pub mod dataset;
pub mod request;
pub mod view;
