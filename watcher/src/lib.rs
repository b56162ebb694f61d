//! argus' cluster watcher: lists and watches the Kubernetes API server, records every
//! Event occurrence once (into the aggregator's event store), serves the
//! kube-state-metrics-compatible `kube_*` series, and discovers collector pods. `fake`
//! is a faithful fake of the API server's list/watch protocol, used by the tests and by
//! `all-in-one --demo`.
