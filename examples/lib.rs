//! Placeholder library target for the examples package.
