//! Typed errors shared across module boundaries.
//!
//! Each module with its own failure modes has its own error enum next to it
//! (`erasure::Gf16Error`, `bls::BlsError`, …); this file holds the backend-level one that
//! every [`crate::Backend`] method returns.

use thiserror::Error;

/// An error from a [`crate::Backend`] primitive.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum BackendError {
    /// The caller passed inputs that do not fit the primitive's contract.
    #[error("invalid input to {op}: {reason}")]
    InvalidInput {
        /// The primitive that refused the input.
        op: &'static str,
        /// What was wrong, with the numbers needed to debug it.
        reason: String,
    },
    /// The requested backend cannot be built on this machine.
    #[error("backend {backend} is unavailable: {reason}")]
    Unavailable {
        /// The backend name (`cpu`, `gpu`, `reference`).
        backend: &'static str,
        /// Why it could not be built (no adapter, missing driver, …).
        reason: String,
    },
    /// The device failed while running a primitive. Never silently retried elsewhere.
    #[error("device error in {op}: {reason}")]
    Device {
        /// The primitive that was running.
        op: &'static str,
        /// The device's own message.
        reason: String,
    },
}

impl BackendError {
    /// Shorthand for [`BackendError::InvalidInput`].
    pub fn invalid(op: &'static str, reason: impl Into<String>) -> Self {
        Self::InvalidInput { op, reason: reason.into() }
    }
}
