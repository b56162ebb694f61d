//! argus' embedded metrics store (being written).
