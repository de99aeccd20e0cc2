//! The GPU error type.

use thiserror::Error;

/// Why a GPU context could not be built or a kernel failed. Never hidden by a CPU fallback.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum GpuError {
    /// No adapter matched (no driver, `WGPU_BACKEND` names an absent backend, …).
    #[error("no GPU adapter found ({0}); on Linux install lavapipe: apt-get install mesa-vulkan-drivers libvulkan1")]
    NoAdapter(String),
    /// The adapter refused to create a device.
    #[error("could not open the device on {adapter}: {reason}")]
    Device {
        /// The adapter's name.
        adapter: String,
        /// wgpu's message.
        reason: String,
    },
    /// A kernel launch failed validation or ran out of memory.
    #[error("GPU error in {op}: {reason}")]
    Kernel {
        /// The kernel.
        op: &'static str,
        /// wgpu's message.
        reason: String,
    },
    /// The inputs do not fit the kernel's contract (shapes, counts, positions).
    #[error("invalid input to {op}: {reason}")]
    InvalidInput {
        /// The kernel.
        op: &'static str,
        /// What was wrong, with the numbers needed to debug it.
        reason: String,
    },
    /// One input is larger than a storage binding may be on this adapter.
    #[error("{op}: an input of {bytes} bytes exceeds the adapter's storage binding limit of {limit} bytes")]
    TooLarge {
        /// The kernel.
        op: &'static str,
        /// The input size.
        bytes: u64,
        /// `max_storage_buffer_binding_size`.
        limit: u64,
    },
}
