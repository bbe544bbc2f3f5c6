//! Sealing to a recipient (placeholder until written).
