//! Placeholder library target so the bench package builds; the benches live in `benches/`.
