//! WGSL compute kernels and the wgpu host side for Crema's `gpu` backend.
//!
//! Every WGSL source lives in `kernels/wgsl/` and is embedded with `include_str!`. The host
//! side builds the device, queue, pipelines and bind-group layouts once and reuses them.
//! The kernels themselves arrive with the GPU issue; this crate is the place they land.

/// Every WGSL source this crate ships, as `(file name, source)`.
pub const WGSL_SOURCES: &[(&str, &str)] = &[];
