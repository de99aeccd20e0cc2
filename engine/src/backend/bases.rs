//! [`G1Bases`]: a fixed set of G1 points for multi-scalar multiplication, under a
//! process-unique id so a backend may keep them (or tables derived from them) resident.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::field::G1Affine;

/// A fixed set of G1 bases for multi-scalar multiplication, with a process-unique id so a
/// backend may keep them (or tables derived from them) resident across calls.
#[derive(Clone)]
pub struct G1Bases {
    id: u64,
    points: Arc<[G1Affine]>,
    resident: bool,
}

impl G1Bases {
    /// Wraps `points` under a fresh id.
    pub fn new(points: Vec<G1Affine>) -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        Self { id: NEXT.fetch_add(1, Ordering::Relaxed), points: points.into(), resident: false }
    }

    /// Wraps long-lived `points` (a trusted setup, FK20 tables) under a fresh id, inviting the
    /// backend to build and keep precomputed tables for them for the life of the process.
    pub fn resident(points: Vec<G1Affine>) -> Self {
        Self { resident: true, ..Self::new(points) }
    }

    /// True when built by [`G1Bases::resident`].
    pub fn is_resident(&self) -> bool {
        self.resident
    }

    /// The id backends key their caches on.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The points themselves.
    pub fn points(&self) -> &[G1Affine] {
        &self.points
    }

    /// Number of bases.
    pub fn len(&self) -> usize {
        self.points.len()
    }

    /// True when there are no bases.
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }
}

impl fmt::Debug for G1Bases {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("G1Bases")
            .field("id", &self.id)
            .field("len", &self.points.len())
            .field("resident", &self.resident)
            .finish()
    }
}
