//! argus' rule engine (being written).
