//! The PromQL differential test through the product, as a user would load data: the same
//! generated OpenMetrics file goes into Prometheus 2.42 (`promtool tsdb
//! create-blocks-from openmetrics`) and into argus (`argus tsdb import`, then the
//! aggregator's HTTP API); every query of the corpus runs on both APIs as instant and range
//! queries, and the JSON results must agree. (`promql/tests/differential.rs` runs the same
//! corpus against the engine directly.)
#![allow(clippy::unwrap_used)]

mod common;
#[path = "../promql/tests/support/mod.rs"]
mod support;

use common::*;
use support::compare::{compare, normalize};
use support::corpus::QUERIES;
use support::dataset::{generate, SPAN, T0, T1};

fn answer(addr: &str, path: &str) -> Result<serde_json::Value, String> {
    let r = get(addr, path).ok_or_else(|| format!("no answer from {addr}"))?;
    let j: serde_json::Value = serde_json::from_slice(&r.body).map_err(|e| format!("json: {e}"))?;
    if j["status"] == "success" {
        Ok(j["data"].clone())
    } else {
        Err(format!("{}: {}", j["errorType"], j["error"]))
    }
}

#[test]
fn argus_api_matches_prometheus_api_on_imported_data() {
    let dir = tempfile::tempdir().unwrap();
    let both = same_data(
        dir.path(),
        &generate(),
        "global:\n  scrape_interval: 15s\n",
        "aggregator:\n  metrics:\n    retention: 36500d\n",
        &[],
    );
    let (addr, prom_addr) = (both.argus_addr.clone(), both.prom_addr.clone());

    let times = [T0 + 1800, T0 + 3607, T0 + SPAN + 240];
    let ranges = [(T0, T0 + SPAN, 60), (T0 + 600, T0 + 4200, 37)];
    let (mut pass, mut fails) = (0, Vec::new());
    for q in QUERIES {
        let q = q
            .replace("{T0}", &T0.to_string())
            .replace("{T1}", &T1.to_string());
        let ordered = q.starts_with("sort(") || q.starts_with("sort_desc(");
        let enc_q = enc(&q);
        let mut paths: Vec<(String, bool)> = times
            .iter()
            .map(|t| (format!("/api/v1/query?query={enc_q}&time={t}"), ordered))
            .collect();
        paths.extend(ranges.iter().map(|(s, e, st)| {
            (
                format!("/api/v1/query_range?query={enc_q}&start={s}&end={e}&step={st}"),
                false,
            )
        }));
        for (path, ordered) in paths {
            let verdict = match (answer(&addr, &path), answer(&prom_addr, &path)) {
                (Err(_), Err(_)) => Ok(()),
                (Ok(a), Ok(b)) => match (normalize(&a), normalize(&b)) {
                    (Ok(na), Ok(nb)) => compare(&na, &nb, ordered),
                    (Err(e), _) | (_, Err(e)) => Err(format!("json: {e}")),
                },
                (Ok(_), Err(b)) => Err(format!("prometheus failed: {b}")),
                (Err(a), Ok(_)) => Err(format!("argus failed: {a}")),
            };
            match verdict {
                Ok(()) => pass += 1,
                Err(e) => fails.push(format!("{path}: {e}")),
            }
        }
    }
    println!("api differential: {pass} passed, {} failed", fails.len());
    assert!(
        fails.is_empty(),
        "{} evaluations differ:\n{}",
        fails.len(),
        fails.join("\n")
    );
}
