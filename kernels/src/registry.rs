//! The registry: every kernel family's [`KernelSpec`]s in one list, and the constructors that
//! hand it to a new [`GpuContext`].
//!
//! It sits above both: each family (`blake3.rs`, `gf16.rs`, `curve.rs`, `ntt.rs`, `msm.rs`,
//! and `field.rs`'s test kernels) declares its specs next to its code, the context builds
//! whatever specs it is given (each pipeline once, on first use), and only this file names
//! them all — so the context imports no family and a family imports only the context.

use crate::context::GpuContext;
use crate::error::GpuError;
use crate::spec::KernelSpec;

/// Every kernel of every family.
fn all_specs() -> Vec<KernelSpec> {
    [crate::blake3::KERNELS, crate::gf16::KERNELS, crate::curve::KERNELS, crate::ntt::KERNELS, crate::msm::KERNELS]
        .concat()
}

/// Test-only kernels (e.g. raw field operations), registered only by
/// [`GpuContext::with_test_kernels`].
fn test_specs() -> Vec<KernelSpec> {
    [crate::field::TEST_KERNELS].concat()
}

/// Every WGSL module this crate builds (test-only ones included), as `(kernel name, full
/// source)`, for validation.
pub fn wgsl_modules() -> Vec<(&'static str, String)> {
    all_specs().iter().chain(&test_specs()).map(|s| (s.name, (s.source)())).collect()
}

impl GpuContext {
    /// Opens the best adapter (a high-performance one when there is a choice) and registers
    /// every kernel; each pipeline is built on its first use. Fails with
    /// [`GpuError::NoAdapter`] when there is no adapter.
    pub fn new() -> Result<Self, GpuError> {
        Self::with_kernels(all_specs())
    }

    /// Like [`GpuContext::new`], plus the test-only kernels (differential field tests).
    #[doc(hidden)]
    pub fn with_test_kernels() -> Result<Self, GpuError> {
        Self::with_kernels([all_specs(), test_specs()].concat())
    }
}
