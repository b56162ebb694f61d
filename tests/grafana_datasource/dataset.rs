//! The data set both servers hold: a small OpenMetrics file with timestamps.

use std::fmt::Write as _;

/// Start of the data, seconds: a multiple of 2 h, so that `promtool` cuts its blocks at
/// T0 and T0 + 2 h (see [`BATCH_END`]).
pub const T0: i64 = 1_699_999_200;
/// Length of the data, seconds.
pub const SPAN: i64 = 3 * 3600;
/// Sample interval, seconds.
pub const STEP: i64 = 15;
/// The `batch` job stops reporting here. Prometheus answers label queries per 2 h block
/// (a label is listed for any range that overlaps a block holding it), argus per sample;
/// ranges in the test either contain this time or start after the first block, where both
/// agree.
pub const BATCH_END: i64 = T0 + 100 * 60;
/// Sample index at which one counter resets.
pub const RESET_AT: i64 = 300;

/// `{k="v",…}` with OpenMetrics escapes.
fn om_labels(pairs: &[(&str, &str)]) -> String {
    let inner: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\"")))
        .collect();
    format!("{{{}}}", inner.join(","))
}

/// Appends one series; `value(i, t)` is the sample at index `i` (time `t`), if any.
fn series(
    out: &mut String,
    name: &str,
    labels: &[(&str, &str)],
    mut value: impl FnMut(i64, i64) -> Option<f64>,
) {
    let l = om_labels(labels);
    for i in 0..=SPAN / STEP {
        let t = T0 + i * STEP;
        if let Some(v) = value(i, t) {
            let _ = writeln!(out, "{name}{l} {v} {t}");
        }
    }
}

/// A small OpenMetrics file with timestamps: request counters (one resets) over several
/// jobs, instances, methods and codes, a classic histogram, gauges, a target that is down
/// for a while, a job that stops early, and label values with characters that URL and
/// PromQL encodings must carry (`?&+ `, a backslash, a non-ASCII letter).
pub fn dataset() -> String {
    let mut out = String::new();
    out.push_str("# HELP http_requests Requests served.\n# TYPE http_requests counter\n");
    let mut k = 0i64;
    for inst in ["a:1", "a:2"] {
        for method in ["GET", "POST"] {
            for code in ["200", "500"] {
                let resets = inst == "a:2" && method == "POST" && code == "200";
                let base = if code == "200" { 3.0 } else { 0.0 };
                let mut v = 10.0 * k as f64;
                let kk = k;
                series(
                    &mut out,
                    "http_requests_total",
                    &[
                        ("job", "api"),
                        ("instance", inst),
                        ("method", method),
                        ("code", code),
                    ],
                    |i, _| {
                        if resets && i == RESET_AT {
                            v = 2.0;
                        } else {
                            v += base + ((i * 7 + kk * 13) % 11) as f64 * 0.5;
                        }
                        Some(v)
                    },
                );
                k += 1;
            }
        }
    }
    let mut v = 0.0;
    series(
        &mut out,
        "http_requests_total",
        &[
            ("job", "web"),
            ("instance", "w:1"),
            ("method", "GET"),
            ("code", "200"),
        ],
        |i, _| {
            v += (i % 4) as f64;
            Some(v)
        },
    );

    out.push_str("# TYPE http_request_duration_seconds histogram\n");
    let n = (SPAN / STEP + 1) as usize;
    for (off, inst) in [(0usize, "a:1"), (1, "a:2")] {
        let les = ["0.1", "0.5", "1", "+Inf"];
        let mut counts = vec![[0.0f64; 4]; n];
        let mut sums = vec![0.0f64; n];
        let (mut acc, mut sum) = ([0.0f64; 4], 0.0f64);
        for i in 0..n {
            let j = i + off;
            // New observations per bucket range, then cumulated over the buckets.
            let c = [(j % 3) as f64, (j % 2) as f64, 1.0, f64::from(j % 4 == 0)];
            let mut cum = 0.0;
            for b in 0..4 {
                cum += c[b];
                acc[b] += cum;
            }
            sum += 0.05 * c[0] + 0.3 * c[1] + 0.7 * c[2] + 2.0 * c[3];
            counts[i] = acc;
            sums[i] = (sum * 1000.0).round() / 1000.0;
        }
        for (b, le) in les.iter().enumerate() {
            series(
                &mut out,
                "http_request_duration_seconds_bucket",
                &[("job", "api"), ("instance", inst), ("le", le)],
                |i, _| Some(counts[i as usize][b]),
            );
        }
        series(
            &mut out,
            "http_request_duration_seconds_sum",
            &[("job", "api"), ("instance", inst)],
            |i, _| Some(sums[i as usize]),
        );
        series(
            &mut out,
            "http_request_duration_seconds_count",
            &[("job", "api"), ("instance", inst)],
            |i, _| Some(counts[i as usize][3]),
        );
    }

    out.push_str("# TYPE node_memory_free_bytes gauge\n");
    for (k, inst) in [(0i64, "n:1"), (1, "n:2")] {
        series(
            &mut out,
            "node_memory_free_bytes",
            &[("job", "node"), ("instance", inst)],
            |i, _| Some(2e9 + ((i * 37 + k * 11) % 100) as f64 * 1e7),
        );
    }
    out.push_str("# TYPE up gauge\n");
    for (job, inst) in [
        ("api", "a:1"),
        ("api", "a:2"),
        ("web", "w:1"),
        ("node", "n:1"),
        ("node", "n:2"),
        ("batch", "b:1"),
    ] {
        series(
            &mut out,
            "up",
            &[("job", job), ("instance", inst)],
            |i, t| match inst {
                "n:2" if (200..260).contains(&i) => Some(0.0),
                "b:1" if t > BATCH_END => None,
                _ => Some(1.0),
            },
        );
    }
    out.push_str("# TYPE batch_last_run_seconds gauge\n");
    series(
        &mut out,
        "batch_last_run_seconds",
        &[("job", "batch"), ("instance", "b:1")],
        |_, t| (t <= BATCH_END).then_some((t - t % 600) as f64),
    );
    out.push_str("# TYPE instance:node_cpu:ratio gauge\n");
    for inst in ["n:1", "n:2"] {
        series(
            &mut out,
            "instance:node_cpu:ratio",
            &[("job", "node"), ("instance", inst)],
            |i, _| Some(((i % 20) as f64) / 20.0),
        );
    }
    out.push_str("# TYPE odd_values gauge\n");
    for kind in ["nan", "inf", "neginf", "tiny", "huge"] {
        series(&mut out, "odd_values", &[("kind", kind)], |i, _| {
            Some(match kind {
                "nan" if i % 7 == 0 => f64::NAN,
                "inf" if i % 5 == 0 => f64::INFINITY,
                "neginf" if i % 3 == 0 => f64::NEG_INFINITY,
                "tiny" => 1e-10 * (i + 1) as f64,
                "huge" => 1e21 * (i + 1) as f64,
                _ => i as f64,
            })
        });
    }
    out.push_str("# TYPE app_info gauge\n");
    series(
        &mut out,
        "app_info",
        &[
            ("job", "api"),
            ("path", "/api/v1/users?id=1&x=a+b c"),
            ("city", "Zürich"),
            ("dir", "C:\\data"),
        ],
        |_, _| Some(1.0),
    );
    out.push_str("# EOF\n");
    out
}
