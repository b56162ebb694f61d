//! Test support for the differential test: the data set and query corpus, an
//! OpenMetrics-with-timestamps parser (the format `promtool tsdb
//! create-blocks-from openmetrics` imports), a minimal HTTP client for Prometheus' API,
//! and result comparison.

#![allow(dead_code)]

pub mod compare;
pub mod corpus;
pub mod dataset;
pub mod http;
pub mod openmetrics;
