//! Criterion benches for Crema live in `benches/benches/`; this library is empty.
