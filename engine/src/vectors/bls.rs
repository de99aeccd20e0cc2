//! The ethereum bls12-381-tests JSON layout. PLACEHOLDER: every case fails until BLS lands.

use crate::backend::Backend;

/// The handler folders this runner recognises.
pub const HANDLERS: &[&str] = &[
    "sign",
    "verify",
    "aggregate",
    "fast_aggregate_verify",
    "aggregate_verify",
    "batch_verify",
    "hash_to_G2",
    "deserialization_G1",
    "deserialization_G2",
];

/// Runs one JSON case of `handler`.
pub fn run_case(handler: &str, _json: &str, _backend: &dyn Backend) -> Result<(), String> {
    Err(format!("handler {handler} is not implemented yet"))
}
