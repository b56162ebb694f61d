//! A heavy range query on ~1k series: prints its time (no time is asserted) and checks
//! that range evaluation agrees with instant evaluation at sampled steps.

use std::time::Instant;

use argus_core::series::{Labels, Matcher, Sample, SeriesData, SeriesSource};
use argus_promql::{Engine, EngineOptions, Value};

/// Series in a vector, samples found by binary search (MemSource's linear appends are too
/// slow to build a million samples).
struct VecSource(Vec<SeriesData>);

impl SeriesSource for VecSource {
    fn select(&self, matchers: &[Matcher], mint: i64, maxt: i64) -> Vec<SeriesData> {
        self.0
            .iter()
            .filter(|s| matchers.iter().all(|m| m.matches_labels(&s.labels)))
            .filter_map(|s| {
                let lo = s.samples.partition_point(|x| x.t < mint);
                let hi = s.samples.partition_point(|x| x.t <= maxt);
                (lo < hi).then(|| SeriesData {
                    labels: s.labels.clone(),
                    samples: s.samples[lo..hi].to_vec(),
                })
            })
            .collect()
    }

    fn label_names(&self, _: &[Matcher], _: i64, _: i64) -> Vec<String> {
        Vec::new()
    }

    fn label_values(&self, _: &str, _: &[Matcher], _: i64, _: i64) -> Vec<String> {
        Vec::new()
    }
}

const START: i64 = 1_700_000_000_000;
const HOURS6: i64 = 6 * 3600 * 1000;

fn data() -> VecSource {
    let mut series = Vec::new();
    let mut seed = 1u64;
    for job in 0..10 {
        for inst in 0..100 {
            let mut v = 0.0;
            let samples = (0..=(HOURS6 + 300_000) / 15_000)
                .map(|i| {
                    seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                    v += (seed >> 58) as f64;
                    if (i + inst) % 500 == 0 {
                        v = 0.0;
                    }
                    Sample {
                        t: START - 300_000 + i * 15_000,
                        v,
                    }
                })
                .collect();
            series.push(SeriesData {
                labels: Labels::new([
                    ("__name__", "x_total".to_string()),
                    ("job", format!("job{job}")),
                    ("instance", format!("i{inst}")),
                ]),
                samples,
            });
        }
    }
    VecSource(series)
}

#[test]
fn heavy_range_query_matches_instant_queries() {
    let src = data();
    let engine = Engine::new(EngineOptions::default());
    let q = "sum by (job) (rate(x_total[5m]))";
    let started = Instant::now();
    let range = engine
        .range(&src, q, START, START + HOURS6, 15_000)
        .expect("range query");
    let elapsed = started.elapsed();
    println!(
        "heavy query: {q} over 6h at 15s on 1000 series ({} samples): {elapsed:?}",
        src.0.iter().map(|s| s.samples.len()).sum::<usize>()
    );
    let Value::Matrix(m) = range else {
        panic!("expected a matrix")
    };
    assert_eq!(m.len(), 10);
    assert!(m.iter().all(|s| s.samples.len() == 1441));
    for step in [0usize, 17, 700, 1440] {
        let t = START + step as i64 * 15_000;
        let Value::Vector(v) = engine.instant(&src, q, t).expect("instant query") else {
            panic!("expected a vector")
        };
        for s in v {
            let series = m
                .iter()
                .find(|x| x.labels == s.labels)
                .expect("same series");
            let p = series.samples[step];
            assert_eq!(p.t, t);
            assert!((p.v - s.v).abs() <= 1e-9 * s.v.abs(), "{} vs {}", p.v, s.v);
        }
    }
}
