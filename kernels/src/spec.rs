//! [`KernelSpec`]: how a kernel family describes one compute entry point — its WGSL source,
//! entry and bindings. Plain data with no wgpu type in it, so the families and the context
//! depend on it without depending on each other (the registry, `registry.rs`, joins them).

/// How a kernel uses one storage binding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    /// `var<storage, read>`.
    Read,
    /// `var<storage, read_write>`.
    ReadWrite,
}

/// One compute entry point: its WGSL module, entry name and bindings. The bind-group layout is
/// explicit: storage bindings `0..storage.len()` with the given access, then one uniform.
#[derive(Debug, Clone, Copy)]
pub(crate) struct KernelSpec {
    /// A unique name; `GpuContext::kernel` looks kernels up by it.
    pub(crate) name: &'static str,
    /// The file (or template) the module comes from, for error messages.
    pub(crate) file: &'static str,
    /// Builds the module's full source (WGSL has no `#include`: families concatenate or fill
    /// templates here).
    pub(crate) source: fn() -> String,
    /// The `@compute` entry point.
    pub(crate) entry: &'static str,
    /// Storage bindings in binding order.
    pub(crate) storage: &'static [Access],
}
