//! One [`KzgContext`] per backend kind for the whole process.
//!
//! A context is cheap to build after the first (the setup is decoded once per process), but its
//! FK20 tables are built on the first cell-proof call and take seconds; every dispersal, check
//! and recovery on the same kind of backend must reuse one context.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Arc, Mutex, OnceLock};

use super::super::VidError;
use crate::backend::{Backend, BackendChoice};
use crate::error::BackendError;
use crate::kzg::KzgContext;

/// The process-wide context for backends named like `backend` (`"cpu"`, `"gpu"`, `"reference"`).
///
/// [`VidScheme`](super::super::VidScheme) methods receive `&dyn Backend`, while a context owns an
/// `Arc<dyn Backend>`; the first call for a backend kind builds a fresh backend of that kind
/// (same results by the backend contract) and its context, later calls share them.
pub fn shared_context(backend: &dyn Backend) -> Result<Arc<KzgContext>, VidError> {
    static CONTEXTS: OnceLock<Mutex<HashMap<&'static str, Arc<KzgContext>>>> = OnceLock::new();
    // A panic elsewhere while holding the lock leaves the map itself intact: keep using it.
    let mut map = CONTEXTS.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
    if let Some(ctx) = map.get(backend.name()) {
        return Ok(ctx.clone());
    }
    let built = BackendChoice::from_str(backend.name()).and_then(BackendChoice::build)?;
    let ctx = Arc::new(KzgContext::new(built)?);
    if ctx.backend().name() != backend.name() {
        return Err(VidError::Backend(BackendError::invalid(
            "kzg context",
            format!("asked for backend {:?}, built {:?}", backend.name(), ctx.backend().name()),
        )));
    }
    map.insert(backend.name(), ctx.clone());
    Ok(ctx)
}
