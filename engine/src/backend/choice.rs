//! [`BackendChoice`]: which backend to build, chosen at run time (`--backend`,
//! `CREMA_BACKEND`), and the factory that builds it — with `auto`'s adapter detection, the only
//! place a fallback happens.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use super::{Backend, cpu, gpu, reference};
use crate::error::BackendError;

/// Which backend to build, chosen at run time (`--backend`, `CREMA_BACKEND`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BackendChoice {
    /// A real GPU when one is present, else the CPU; the choice is logged once.
    #[default]
    Auto,
    /// rayon + SIMD on the CPU.
    Cpu,
    /// wgpu compute shaders; an error when no adapter exists.
    Gpu,
    /// The textbook oracle: slow, obviously right.
    Reference,
}

impl BackendChoice {
    /// Every choice, in the order `crema info` lists them.
    pub const ALL: [BackendChoice; 4] = [Self::Auto, Self::Cpu, Self::Gpu, Self::Reference];

    /// The name used on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Cpu => "cpu",
            Self::Gpu => "gpu",
            Self::Reference => "reference",
        }
    }

    /// Reads `CREMA_BACKEND`, defaulting to [`BackendChoice::Auto`] when unset.
    pub fn from_env() -> Result<Self, BackendError> {
        match std::env::var("CREMA_BACKEND") {
            Ok(v) => v.parse(),
            Err(_) => Ok(Self::Auto),
        }
    }

    /// Builds the backend. Fallback happens only here (`Auto` without a GPU); a device error
    /// after construction is always reported, never hidden.
    pub fn build(self) -> Result<Arc<dyn Backend>, BackendError> {
        match self {
            Self::Cpu => Ok(Arc::new(cpu::Cpu::new())),
            Self::Reference => Ok(Arc::new(reference::Reference::new())),
            Self::Gpu => Ok(Arc::new(gpu::Gpu::shared()?)),
            Self::Auto => Ok(Self::auto()),
        }
    }

    /// `auto`: the gpu backend when a real GPU is present, else the CPU, with the choice and its
    /// reason printed once. A CPU-type adapter (lavapipe, SwiftShader) does not count — it runs
    /// the kernels correctly but far slower than the CPU backend; `--backend gpu` uses it.
    fn auto() -> Arc<dyn Backend> {
        let real = gpu::adapters().into_iter().find(|a| !a.is_cpu);
        let reason = match real {
            None => "no GPU adapter besides CPU-type ones".to_string(),
            Some(adapter) => match gpu::Gpu::shared() {
                Ok(gpu) if !gpu.adapter().is_cpu => return Arc::new(gpu),
                Ok(gpu) => {
                    format!("wgpu opened the CPU-type adapter {} rather than {}", gpu.adapter().name, adapter.name)
                }
                Err(e) => format!("{} could not be opened: {e}", adapter.name),
            },
        };
        eprintln!("crema: backend auto -> cpu ({reason})");
        Arc::new(cpu::Cpu::new())
    }
}

impl FromStr for BackendChoice {
    type Err = BackendError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|c| c.as_str() == s.trim().to_ascii_lowercase()).ok_or_else(|| {
            BackendError::invalid(
                "backend choice",
                format!("unknown backend {s:?}; expected auto, cpu, gpu or reference"),
            )
        })
    }
}

impl fmt::Display for BackendChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
