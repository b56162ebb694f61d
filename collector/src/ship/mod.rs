//! Shipping batches to the aggregator: [`otlp`] encodes them as OTLP/HTTP protobuf,
//! [`client`] posts them with retries and backoff; a batch's checkpoints advance only after
//! the aggregator acknowledged it.

pub mod client;
pub mod otlp;

/// Attribute names on the wire (OpenTelemetry semantic conventions, plus argus' own key).
pub mod attr {
    pub const NAMESPACE: &str = "k8s.namespace.name";
    pub const POD: &str = "k8s.pod.name";
    pub const POD_UID: &str = "k8s.pod.uid";
    pub const CONTAINER: &str = "k8s.container.name";
    pub const RESTART_COUNT: &str = "k8s.container.restart_count";
    pub const NODE: &str = "k8s.node.name";
    pub const CONTAINER_ID: &str = "container.id";
    pub const POD_LABEL_PREFIX: &str = "k8s.pod.label.";
    pub const IOSTREAM: &str = "log.iostream";
    pub const FILE_PATH: &str = "log.file.path";
    /// The file's fingerprint (int): with `argus.log.offset`, the idempotency key.
    pub const FINGERPRINT: &str = "argus.log.file.fingerprint";
    /// End offset of the record's last line in its file (int).
    pub const OFFSET: &str = "argus.log.offset";
}
