//! `cargo run -p argus-alerting --example rules -- check|test FILE...`: the library's
//! `rules check` / `rules test` without the `argus` binary, for comparing with promtool.

use std::path::PathBuf;

fn main() {
    let mut args = std::env::args().skip(1);
    let cmd = args.next().unwrap_or_default();
    let files: Vec<PathBuf> = args.map(PathBuf::from).collect();
    let code = match cmd.as_str() {
        "check" => argus_alerting::run_check(&files),
        "test" => argus_alerting::run_tests(&files),
        _ => {
            eprintln!("usage: rules check|test FILE...");
            2
        }
    };
    std::process::exit(code);
}
