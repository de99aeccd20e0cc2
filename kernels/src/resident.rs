//! Device buffers the algebra kernels keep across calls: NTT twiddles and scale tables, MSM
//! base tables. The caller names each table by an exact key (never a hash, so two tables can
//! never be confused) and builds its buffer only on a miss. The context holds one [`Resident`]
//! (`GpuContext::algebra`; `GpuContext::resident_table` uploads a table's words on a miss).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// What a resident table holds; part of its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Kind {
    /// NTT twiddles (`ω^i`, `i < n/2`).
    Twiddles,
    /// NTT input or output scales (coset powers).
    Scale,
    /// MSM fixed-base window tables.
    MsmTable,
}

/// How many scale tables to keep: callers may pass any coset, so this cache is bounded
/// (twiddles and MSM tables are few by nature: one per size, one per resident base set).
const MAX_SCALES: usize = 16;

type Key = (Kind, Vec<u32>);

/// The cache. Buffers are `Arc`ed out so a caller keeps using one even if it is evicted.
#[derive(Debug, Default)]
pub(crate) struct Resident {
    buffers: Mutex<HashMap<Key, Arc<wgpu::Buffer>>>,
}

impl Resident {
    /// The buffer for `(kind, key)`, made by `build` on a miss.
    pub(crate) fn get_or_build<E>(
        &self,
        kind: Kind,
        key: &[u32],
        build: impl FnOnce() -> Result<wgpu::Buffer, E>,
    ) -> Result<Arc<wgpu::Buffer>, E> {
        let key = (kind, key.to_vec());
        if let Some(b) = self.buffers.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
            return Ok(b.clone());
        }
        // Built outside the lock: a racing duplicate is harmless (the first insert wins).
        let buffer = Arc::new(build()?);
        let mut map = self.buffers.lock().unwrap_or_else(|e| e.into_inner());
        if kind == Kind::Scale && map.keys().filter(|(k, _)| *k == Kind::Scale).count() >= MAX_SCALES {
            map.retain(|(k, _), _| *k != Kind::Scale);
        }
        Ok(map.entry(key).or_insert(buffer).clone())
    }
}
