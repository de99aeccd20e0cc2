//! KZG polynomial commitments for Ethereum: EIP-4844 blobs and EIP-7594 (PeerDAS) cells,
//! byte-compatible with c-kzg-4844.
//!
//! Everything hangs off one [`KzgContext`]: the embedded trusted setup ([`TrustedSetup`]), the
//! domains and tables derived from it, and the [`Backend`] that runs the heavy steps (NTTs
//! and MSMs). The public API takes and returns byte arrays (`[u8; 48]` commitments and proofs,
//! `[u8; 131072]` blobs, `[u8; 2048]` cells, `[u8; 32]` field elements) and reports bad input
//! as a typed [`KzgError`], never a panic.
//!
//! Spec: <https://github.com/ethereum/consensus-specs/blob/dev/specs/deneb/polynomial-commitments.md>
//! and <https://github.com/ethereum/consensus-specs/blob/dev/specs/fulu/polynomial-commitments-sampling.md>.

mod domain;
mod eip4844;
mod eip7594;
mod fk20;
mod g1_fft;
mod recovery;
mod setup;

use std::sync::{Arc, Mutex, OnceLock};

use rayon::prelude::*;
use thiserror::Error;

use crate::backend::{Backend, G1Bases};
use crate::error::BackendError;
use crate::field::{DecodeError, G2Affine};

pub use domain::Domain;
pub use eip7594::{CellsAndProofs, compute_verify_cell_kzg_proof_batch_challenge};
pub use setup::{EMBEDDED_SHA256, NUM_G1, NUM_G2, SetupError, TrustedSetup};

/// Field elements in a blob.
pub const FIELD_ELEMENTS_PER_BLOB: usize = 4096;
/// Field elements in the Reed–Solomon extended blob.
pub const FIELD_ELEMENTS_PER_EXT_BLOB: usize = 2 * FIELD_ELEMENTS_PER_BLOB;
/// Field elements in a cell.
pub const FIELD_ELEMENTS_PER_CELL: usize = 64;
/// Cells in an extended blob.
pub const CELLS_PER_EXT_BLOB: usize = FIELD_ELEMENTS_PER_EXT_BLOB / FIELD_ELEMENTS_PER_CELL;
/// Bytes in a field element.
pub const BYTES_PER_FIELD_ELEMENT: usize = 32;
/// Bytes in a blob.
pub const BYTES_PER_BLOB: usize = FIELD_ELEMENTS_PER_BLOB * BYTES_PER_FIELD_ELEMENT;
/// Bytes in a cell.
pub const BYTES_PER_CELL: usize = FIELD_ELEMENTS_PER_CELL * BYTES_PER_FIELD_ELEMENT;
/// Bytes in a commitment or a proof (a compressed G1 point).
pub const BYTES_PER_COMMITMENT: usize = 48;

/// A blob: 4096 big-endian field elements.
pub type Blob = [u8; BYTES_PER_BLOB];
/// A cell: 64 big-endian field elements.
pub type Cell = [u8; BYTES_PER_CELL];
/// A compressed G1 point: a commitment or a proof.
pub type Bytes48 = [u8; BYTES_PER_COMMITMENT];
/// A big-endian field element.
pub type Bytes32 = [u8; BYTES_PER_FIELD_ELEMENT];

/// Why a KZG call refused its input or failed.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum KzgError {
    /// A 32-byte field element was not below the BLS12-381 scalar modulus.
    #[error("{what} field element {index} is not canonical (>= BLS modulus)")]
    NonCanonicalFieldElement {
        /// Which input held it (`"blob"`, `"z"`, `"cell"` …).
        what: &'static str,
        /// Its position within that input.
        index: usize,
    },
    /// A 48-byte commitment or proof is not a valid compressed G1 point in the subgroup.
    #[error("{what} {index} is not a valid G1 point: {source}")]
    InvalidPoint {
        /// `"commitment"` or `"proof"`.
        what: &'static str,
        /// Its position within the call's inputs.
        index: usize,
        /// What the decoder found wrong.
        source: DecodeError,
    },
    /// An input had the wrong byte length (used by slice-taking helpers such as the vectors runner).
    #[error("{what} has {got} bytes, expected {expected}")]
    WrongLength {
        /// The input.
        what: &'static str,
        /// The required length.
        expected: usize,
        /// The length given.
        got: usize,
    },
    /// Parallel input lists have different lengths.
    #[error("length mismatch: {detail}")]
    LengthMismatch {
        /// The lists and their lengths.
        detail: String,
    },
    /// A cell index is not below [`CELLS_PER_EXT_BLOB`].
    #[error("cell index {index} is out of range (< {CELLS_PER_EXT_BLOB})")]
    CellIndexOutOfRange {
        /// The index given.
        index: u64,
    },
    /// The same cell index was given twice to recovery.
    #[error("cell index {index} is given more than once")]
    DuplicateCellIndex {
        /// The repeated index.
        index: u64,
    },
    /// Recovery takes cell indices in strictly increasing order (as the spec and c-kzg do).
    #[error("cell index {index} at position {position} does not follow {previous} in increasing order")]
    CellIndicesNotAscending {
        /// Position of the offending index in the list.
        position: usize,
        /// The index before it.
        previous: u64,
        /// The offending index.
        index: u64,
    },
    /// Recovery needs at least half of the cells and at most all of them.
    #[error("recovery needs between {min} and {max} cells, got {got}")]
    WrongCellCount {
        /// The least accepted.
        min: usize,
        /// The most accepted.
        max: usize,
        /// How many were given.
        got: usize,
    },
    /// The backend failed.
    #[error(transparent)]
    Backend(#[from] BackendError),
    /// The embedded trusted setup could not be loaded.
    #[error(transparent)]
    Setup(#[from] SetupError),
}

impl KzgError {
    /// Whether the call refused its input (a non-canonical element, an invalid point, a bad
    /// index or count), as opposed to failing on its own: a backend or device error, or a
    /// setup that does not load. The KZG layer checks every input before the backend sees
    /// it, so a backend error is never the input's fault.
    pub fn is_input_rejection(&self) -> bool {
        !matches!(self, KzgError::Backend(_) | KzgError::Setup(_))
    }
}

/// Everything a KZG call needs: the trusted setup, its derived bases and domains, and the
/// backend. Cheap to build and to share (`Arc` it): the bases and FK20 tables derived from a
/// setup are kept once per process and shared by every context over that setup, so backends
/// keep their precomputed tables across contexts.
pub struct KzgContext {
    backend: Arc<dyn Backend>,
    setup: &'static TrustedSetup,
    derived: Arc<Derived>,
    /// `[τ]₂` and `[τ^64]₂`.
    g2_tau: G2Affine,
    g2_tau_cell: G2Affine,
    domain: Domain,
}

/// What is derived from one setup, shared process-wide.
struct Derived {
    /// Lagrange bases in bit-reversed order, matching blob order (the spec's
    /// `bit_reversal_permutation(KZG_SETUP_G1_LAGRANGE)`); resident (fixed-base tables).
    lagrange_brp: G1Bases,
    /// The first [`FIELD_ELEMENTS_PER_CELL`] monomial bases (cell interpolation polynomials).
    monomial_cell: G1Bases,
    /// FK20 tables, built (or loaded) on first use.
    fk20: OnceLock<fk20::Fk20>,
}

/// The derived data for `setup`, made on first use.
fn derived(setup: &'static TrustedSetup) -> Arc<Derived> {
    type BySetup = Vec<(usize, Arc<Derived>)>;
    static ALL: OnceLock<Mutex<BySetup>> = OnceLock::new();
    let key = setup as *const TrustedSetup as usize;
    let mut all = ALL.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, d)) = all.iter().find(|(k, _)| *k == key) {
        return d.clone();
    }
    let d = Arc::new(Derived {
        lagrange_brp: G1Bases::resident(domain::bit_reversed(&setup.g1_lagrange)),
        monomial_cell: G1Bases::resident(setup.g1_monomial[..FIELD_ELEMENTS_PER_CELL].to_vec()),
        fk20: OnceLock::new(),
    });
    all.push((key, d.clone()));
    d
}

impl std::fmt::Debug for KzgContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KzgContext").field("backend", &self.backend.name()).finish_non_exhaustive()
    }
}

impl KzgContext {
    /// Builds a context over the embedded Ethereum trusted setup (decoded once per process).
    pub fn new(backend: Arc<dyn Backend>) -> Result<Self, KzgError> {
        Self::with_setup(backend, TrustedSetup::ethereum()?)
    }

    /// Builds a context over a given setup.
    pub fn with_setup(backend: Arc<dyn Backend>, setup: &'static TrustedSetup) -> Result<Self, KzgError> {
        Ok(Self {
            backend,
            setup,
            derived: derived(setup),
            g2_tau: setup.g2_monomial[1],
            g2_tau_cell: setup.g2_monomial[FIELD_ELEMENTS_PER_CELL],
            domain: Domain::new(),
        })
    }

    /// The backend running the heavy steps.
    pub fn backend(&self) -> &dyn Backend {
        self.backend.as_ref()
    }

    /// The trusted setup.
    pub fn setup(&self) -> &'static TrustedSetup {
        self.setup
    }

    /// Loads the FK20 tables and has the backend build its tables for every resident base set
    /// now, rather than lazily on first use, so a long-running node (or a bench) pays for them
    /// at start-up: hundreds of milliseconds on the CPU backend.
    pub fn warm_up(&self) -> Result<(), KzgError> {
        self.backend.prepare_bases(self.lagrange_brp())?;
        self.backend.prepare_bases(self.monomial_cell())?;
        for bases in self.fk20().bases() {
            self.backend.prepare_bases(bases)?;
        }
        Ok(())
    }

    fn lagrange_brp(&self) -> &G1Bases {
        &self.derived.lagrange_brp
    }

    fn monomial_cell(&self) -> &G1Bases {
        &self.derived.monomial_cell
    }

    /// The FK20 tables, loaded from the crate for the Ethereum setup, else computed (64 G1
    /// FFTs), on first use. The backend prepares its tables for FK20's 128 base sets right
    /// away: even one blob's proofs cost more without them (128 Pippenger MSMs) than building
    /// them (tens of milliseconds per core per set), unlike a lone commitment's MSM.
    fn fk20(&self) -> &fk20::Fk20 {
        self.derived.fk20.get_or_init(|| {
            let fk20 = fk20::Fk20::new(self.setup);
            // A failure here only means the backend runs without its tables.
            let _ = fk20.bases().par_iter().try_for_each(|b| self.backend.prepare_bases(b));
            fk20
        })
    }
}
