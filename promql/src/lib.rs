//! argus' PromQL engine (being written).
