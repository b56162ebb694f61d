#!/usr/bin/env bash
# Runs argus' whole test suite: unit, property and end-to-end tests (the e2e tests start
# the release binary on loopback ports and use the Python OpenTelemetry SDK as a real
# OTLP client, installed here when missing; the metrics tests use the real Prometheus,
# promtool and node_exporter from Debian's packages, installed here when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
# Real peers some tests run against: promtool and Prometheus 2.42, node_exporter.
if ! command -v promtool >/dev/null || ! command -v prometheus-node-exporter >/dev/null \
    || ! command -v prometheus-alertmanager >/dev/null; then
  echo "installing Debian's prometheus, prometheus-node-exporter and prometheus-alertmanager for the tests" >&2
  apt-get update >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
    prometheus prometheus-node-exporter prometheus-alertmanager >&2
fi
# The real kubectl checks the fake Kubernetes API server (Debian's kubernetes-client; a
# kubectl already on PATH, e.g. Google Cloud SDK's, is used as it is).
if ! command -v kubectl >/dev/null; then
  apt-get update >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends kubernetes-client >&2
fi
if ! python3 -c 'import opentelemetry.sdk, opentelemetry.exporter.otlp.proto.http' 2>/dev/null; then
  echo "installing the Python OpenTelemetry SDK for the OTLP client test" >&2
  python3 -m pip install --quiet --disable-pip-version-check \
    opentelemetry-sdk opentelemetry-exporter-otlp-proto-http >&2
fi
cargo build --release --bin argus
cargo test --release --workspace "$@"
