//! The generated data set: counters with resets, gauges, series with staleness gaps,
//! NaN and infinities, classic histograms, several jobs and instances, and label
//! collisions for joins; three hours at 15 s, as OpenMetrics text with timestamps.

use std::fmt::Write as _;

/// Start of the data (aligned to Prometheus' 2h blocks), seconds.
pub const T0: i64 = 1_699_999_200;
/// Length of the data, seconds.
pub const SPAN: i64 = 3 * 3600;
/// Scrape interval, seconds.
const STEP: i64 = 15;
/// A time inside the data for `@` modifiers.
pub const T1: i64 = T0 + 5400;

/// Whether a series has a sample at a time (seconds).
type Presence = fn(i64) -> bool;

/// Deterministic pseudo-random numbers (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in [0, 1).
    fn float(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn times() -> impl Iterator<Item = (usize, i64)> {
    (0..=SPAN / STEP).map(|i| (i as usize, T0 + i * STEP))
}

fn fmt_labels(pairs: &[(&str, String)]) -> String {
    if pairs.is_empty() {
        return String::new();
    }
    let inner: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\"")))
        .collect();
    format!("{{{}}}", inner.join(","))
}

fn fmt_value(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v == f64::INFINITY {
        "+Inf".into()
    } else if v == f64::NEG_INFINITY {
        "-Inf".into()
    } else {
        format!("{v}")
    }
}

/// Appends one series: `values(i)` gives the value at sample `i`, or `None` for no
/// sample.
fn series(
    out: &mut String,
    name: &str,
    labels: &[(&str, String)],
    mut values: impl FnMut(usize, i64) -> Option<f64>,
) {
    let l = fmt_labels(labels);
    for (i, t) in times() {
        if let Some(v) = values(i, t) {
            let _ = writeln!(out, "{name}{l} {} {t}", fmt_value(v));
        }
    }
}

const PAIRS: [(&str, &str); 4] = [
    ("api", "a:1"),
    ("api", "b:2"),
    ("web", "c:3"),
    ("web", "d:4"),
];

/// The data set, as OpenMetrics text with timestamps.
pub fn generate() -> String {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut out = String::new();
    let jl = |job: &str, inst: &str| vec![("job", job.to_string()), ("instance", inst.to_string())];

    // Counters with resets.
    out.push_str("# TYPE http_requests counter\n");
    for (k, (job, inst)) in PAIRS.iter().enumerate() {
        for (m, method) in ["get", "post"].iter().enumerate() {
            let mut l = jl(job, inst);
            l.push(("method", method.to_string()));
            let mut v = (rng.float() * 100.0).floor();
            let reset_a = 100 + 97 * (2 * k + m) % 600;
            let reset_b = (reset_a + 211) % 700;
            series(&mut out, "http_requests_total", &l, |i, _| {
                if i == reset_a || i == reset_b {
                    v = (rng.float() * 3.0).floor();
                } else {
                    v += (rng.float() * 20.0).floor() * 0.5;
                }
                Some(v)
            });
        }
    }
    out.push_str("# TYPE cpu_seconds counter\n");
    for mode in ["idle", "user"] {
        let mut v = 0.0;
        series(
            &mut out,
            "cpu_seconds_total",
            &[("mode", mode.to_string())],
            |_, _| {
                v += rng.float() * 15.0;
                Some(v)
            },
        );
    }

    // Gauges.
    out.push_str("# TYPE node_temp gauge\n");
    for (job, inst) in PAIRS.iter().chain(&[("db", "e:5")]) {
        let mut v = 10.0 + rng.float() * 10.0;
        series(&mut out, "node_temp", &jl(job, inst), |_, _| {
            v += (rng.float() - 0.5) * 3.0;
            Some((v * 100.0).round() / 100.0)
        });
    }
    out.push_str("# TYPE up gauge\n");
    for (job, inst) in PAIRS.iter().chain(&[("db", "e:5")]) {
        let down = inst.starts_with('e');
        series(&mut out, "up", &jl(job, inst), |i, _| {
            Some(if down && (200..400).contains(&i) {
                0.0
            } else {
                1.0
            })
        });
    }

    // Staleness gaps: series that stop and resume, end early, start late.
    out.push_str("# TYPE gappy gauge\n");
    let gaps: [(&str, Presence); 4] = [
        ("g1", |t| !(T0 + 3000..T0 + 3600).contains(&t)),
        ("g2", |t| !(T0 + 5000..T0 + 5180).contains(&t)),
        ("g3", |t| t <= T0 + 7200),
        ("g4", |t| t >= T0 + 3600),
    ];
    for (inst, present) in gaps {
        let mut v = 50.0;
        series(
            &mut out,
            "gappy",
            &[("instance", inst.to_string())],
            |_, t| {
                v += (rng.float() - 0.45) * 4.0;
                present(t).then_some(v.round())
            },
        );
    }

    // NaN and infinities.
    out.push_str("# TYPE weird gauge\n");
    for kind in ["nan", "inf", "neginf", "allnan"] {
        series(&mut out, "weird", &[("kind", kind.to_string())], |i, _| {
            let base = (i % 17) as f64 - 5.0;
            Some(match kind {
                "nan" if i % 7 == 0 => f64::NAN,
                "inf" if i % 11 == 0 => f64::INFINITY,
                "neginf" if i % 13 == 0 => f64::NEG_INFINITY,
                "allnan" => f64::NAN,
                _ => base,
            })
        });
    }
    out.push_str("# TYPE big_gauge gauge\n");
    for (id, scale) in [("1", 1e15), ("2", 1e-10)] {
        series(&mut out, "big_gauge", &[("id", id.to_string())], |_, _| {
            Some(scale + (rng.float() * 1000.0).floor() * scale * 1e-12)
        });
    }

    // Classic histograms.
    out.push_str("# TYPE req_duration_seconds histogram\n");
    let bounds = [0.05, 0.1, 0.25, 0.5, 1.0, 2.5, f64::INFINITY];
    for (k, (job, inst)) in PAIRS.iter().enumerate() {
        // Observations per step and bucket, then cumulated (with a reset for one series).
        let n = (SPAN / STEP + 1) as usize;
        let mut counts = vec![[0.0f64; 7]; n];
        let mut sums = vec![0.0f64; n];
        let (mut acc, mut sum) = ([0.0f64; 7], 0.0);
        for i in 0..n {
            if k == 1 && i == 300 {
                acc = [0.0; 7];
                sum = 0.0;
            }
            for _ in 0..(rng.next() % 6) {
                let x = rng.float() * rng.float() * 3.0;
                sum += x;
                for (b, &ub) in bounds.iter().enumerate() {
                    if x <= ub {
                        acc[b] += 1.0;
                    }
                }
            }
            counts[i] = acc;
            sums[i] = (sum * 1000.0).round() / 1000.0;
        }
        for (b, ub) in bounds.iter().enumerate() {
            let mut l = jl(job, inst);
            l.push((
                "le",
                if ub.is_infinite() {
                    "+Inf".into()
                } else {
                    format!("{ub}")
                },
            ));
            series(&mut out, "req_duration_seconds_bucket", &l, |i, _| {
                Some(counts[i][b])
            });
        }
        series(
            &mut out,
            "req_duration_seconds_sum",
            &jl(job, inst),
            |i, _| Some(sums[i]),
        );
        series(
            &mut out,
            "req_duration_seconds_count",
            &jl(job, inst),
            |i, _| Some(counts[i][6]),
        );
    }
    out.push_str("# TYPE partial_hist_bucket unknown\n");
    for (le, f) in [("1", 1.0), ("5", 3.0)] {
        series(
            &mut out,
            "partial_hist_bucket",
            &[("le", le.to_string())],
            |i, _| Some(i as f64 * f),
        );
    }

    // Join targets and label collisions.
    out.push_str("# TYPE build_info gauge\n");
    for (job, inst) in PAIRS {
        let mut l = jl(job, inst);
        l.push((
            "version",
            if inst == "b:2" {
                "1.1".into()
            } else {
                format!("{}.0", job.len())
            },
        ));
        series(&mut out, "build_info", &l, |_, _| Some(1.0));
    }
    out.push_str("# TYPE team_info gauge\n");
    for (job, team) in [("api", "core"), ("web", "edge")] {
        series(
            &mut out,
            "team_info",
            &[("job", job.to_string()), ("team", team.to_string())],
            |_, _| Some(1.0),
        );
    }
    out.push_str("# TYPE dup_info gauge\n");
    for version in ["1", "2"] {
        let mut l = jl("api", "a:1");
        l.push(("version", version.to_string()));
        series(&mut out, "dup_info", &l, |_, _| Some(2.0));
    }
    for name in ["a_metric", "b_metric"] {
        let _ = writeln!(out, "# TYPE {name} gauge");
        for x in ["1", "2"] {
            series(&mut out, name, &[("x", x.to_string())], |i, _| {
                Some((i % 10) as f64 + 1.0)
            });
        }
    }
    out.push_str("# EOF\n");
    out
}
