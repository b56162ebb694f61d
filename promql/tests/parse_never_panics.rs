//! Queries are outside input (HTTP, rule files): parsing and checking one never panics,
//! whatever the bytes, and near-valid PromQL (the characters and words queries are made
//! of, in any order) gives an answer or an error, never a crash.

use proptest::prelude::*;

const PIECES: &[&str] = &[
    "sum",
    "rate",
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "offset",
    "@",
    "start()",
    "end()",
    "bool",
    "and",
    "or",
    "unless",
    "histogram_quantile",
    "topk",
    "count_values",
    "label_replace",
    "vector",
    "scalar",
    "time()",
    "up",
    "x",
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    "[5m]",
    "[5m:1m]",
    ":",
    ",",
    "=",
    "!=",
    "=~",
    "!~",
    "\"",
    "'",
    "`",
    "\\",
    "+",
    "-",
    "*",
    "/",
    "%",
    "^",
    "==",
    ">=",
    "<",
    " ",
    "0",
    "1e309",
    "-Inf",
    "NaN",
    "0x1f",
    "1.5",
    "5m",
    "1y",
    "999999999999999999999d",
    "__name__",
    "le",
    "\n",
    "#",
    "é",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn arbitrary_strings(s in "\\PC{0,40}") {
        let _ = argus_promql::parse(&s);
    }

    #[test]
    fn promql_shaped_strings(parts in proptest::collection::vec(proptest::sample::select(PIECES), 0..24)) {
        let _ = argus_promql::parse(&parts.concat());
    }
}

/// Queries nested as deep as allowed parse, evaluate and drop on a thread with the 2 MiB
/// stack of a tokio worker (debug builds' frames are about 4 times larger: 8 MiB there);
/// one level more is an error naming the limit. Before the limit, `sum(sum(…))` 2 000
/// deep overflowed the stack and aborted the process.
#[test]
fn nesting_up_to_the_limit_evaluates_and_beyond_is_an_error() {
    let n = argus_promql::MAX_NESTING;
    let stack = if cfg!(debug_assertions) {
        8 << 20
    } else {
        2 << 20
    };
    let shapes: Vec<fn(usize) -> String> = vec![
        |k| format!("{}up{}", "sum(".repeat(k), ")".repeat(k)),
        |k| format!("{}up{}", "abs(".repeat(k), ")".repeat(k)),
        |k| format!("{}up{}", "(".repeat(k), ")".repeat(k)),
        |k| format!("{}1", "-".repeat(k)),
        |k| format!("up{}", "+up".repeat(k)),
        |k| format!("1{}", "^1".repeat(k)),
        |k| format!("up{}", " or up".repeat(k)),
        |k| format!("{}up{}", "max_over_time((".repeat(k), ")[1m:])".repeat(k)),
    ];
    for shape in shapes {
        // The deepest query of this shape that is allowed.
        let k = (1..=n)
            .take_while(|k| argus_promql::depth_bound(&shape(*k)) <= n)
            .last()
            .expect("shallow queries pass");
        assert!(k * 4 >= n, "{}: only {k} levels allowed", shape(2));
        let (ok, over) = (shape(k), shape(k + 1));
        let res = std::thread::Builder::new()
            .stack_size(stack)
            .spawn(move || {
                let source = argus_core::series::MemSource::new();
                let engine = argus_promql::Engine::default();
                let at_limit = engine.instant(&source, &ok, 0).map(|_| ());
                let beyond = engine.instant(&source, &over, 0).map(|_| ());
                (at_limit, beyond)
            })
            .expect("thread")
            .join()
            .expect("no panic");
        assert_eq!(res.0, Ok(()), "{k} levels of {}", shape(2));
        match res.1 {
            Err(argus_promql::Error::Parse(m)) => assert!(m.contains("too deeply nested"), "{m}"),
            other => panic!("beyond the limit: {other:?}"),
        }
    }
    // Wide is not deep: 2 000 sums side by side, as arguments, pass.
    let wide = format!("max(vector(1), {})", vec!["sum(up)"; 2000].join(", "));
    assert!(
        argus_promql::depth_bound(&wide) < 10,
        "{}",
        argus_promql::depth_bound(&wide)
    );
    // Strings hold anything: brackets in them do not count.
    let q = format!(
        "label_replace(up, \"a\", \"{}\", \"b\", \".*\")",
        "(".repeat(5000)
    );
    assert!(argus_promql::parse(&q).is_ok());
}

#[test]
fn very_deep_nesting_is_an_error_not_a_stack_overflow() {
    for (open, close) in [("(", ")"), ("-", ""), ("sum(", ")"), ("", "+up")] {
        let q = format!("{}up{}", open.repeat(100_000), close.repeat(100_000));
        assert!(argus_promql::parse(&q).is_err());
    }
}
