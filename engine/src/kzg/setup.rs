//! Ethereum's KZG trusted setup, embedded in the crate.
//!
//! The source is the ceremony's `trusted_setup.txt` (c-kzg-4844 format: two count lines, then
//! 4096 G1 Lagrange points in natural order, 65 G2 monomial points, 4096 G1 monomial points, all
//! compressed hex). Decompressing and subgroup-checking 8k points costs hundreds of milliseconds,
//! too much for short CLI runs, so the crate embeds `assets/trusted_setup.bin`: the same points,
//! **uncompressed** (arkworks' ZCash encoding, `x ‖ y`), generated from the text by
//! [`TrustedSetup::from_text`] + [`TrustedSetup::to_binary`] (see `engine/tests/kzg_setup.rs`,
//! which regenerates it with `CREMA_REGEN_KZG_SETUP=1` and otherwise checks the embedded bytes
//! against the text file).
//!
//! Validation choice: at load we check the SHA-256 of the embedded bytes against
//! [`EMBEDDED_SHA256`] and that every point is on its curve (a few field multiplications each),
//! but skip the per-point subgroup check. The hash pins the bytes to the ones the generator
//! produced after full validation (on curve and in the subgroup) of the text file, so a subgroup
//! check at every start would re-prove a fact already fixed at build time.

use std::sync::OnceLock;

use ark_ec::AffineRepr;
use ark_ec::short_weierstrass::{Affine, SWCurveConfig};
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize, Compress, Validate};
use rayon::prelude::*;
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::field::{DecodeError, G1Affine, G2Affine, g1_from_bytes, g2_from_bytes};

/// G1 Lagrange (and monomial) points in the setup.
pub const NUM_G1: usize = 4096;
/// G2 monomial points in the setup.
pub const NUM_G2: usize = 65;

const MAGIC: &[u8; 8] = b"CRKZGTS1";
const G1_UNCOMPRESSED: usize = 96;
const G2_UNCOMPRESSED: usize = 192;
const BINARY_LEN: usize = MAGIC.len() + 2 * NUM_G1 * G1_UNCOMPRESSED + NUM_G2 * G2_UNCOMPRESSED;

/// The embedded binary setup.
static EMBEDDED: &[u8] = include_bytes!("../../assets/trusted_setup.bin");

/// SHA-256 of `assets/trusted_setup.bin`, checked before decoding it.
pub const EMBEDDED_SHA256: &str = "a97511acfe88790282f6243e2304a71087038be53a168d6e0f3e89d52c116db2";

/// Why a trusted setup could not be read.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum SetupError {
    /// The text file is malformed.
    #[error("trusted setup text, line {line}: {reason}")]
    Text {
        /// 1-based line number.
        line: usize,
        /// What was wrong there.
        reason: String,
    },
    /// A point in the text file failed validation.
    #[error("trusted setup text, line {line}: {source}")]
    Point {
        /// 1-based line number.
        line: usize,
        /// The decoder's reason.
        source: DecodeError,
    },
    /// The binary form has the wrong size or magic.
    #[error("binary trusted setup is malformed: {reason}")]
    Binary {
        /// What was wrong.
        reason: String,
    },
    /// The embedded bytes do not hash to [`EMBEDDED_SHA256`].
    #[error("embedded trusted setup hash {got} does not match {expected}")]
    HashMismatch {
        /// The pinned hash.
        expected: &'static str,
        /// The hash of the embedded bytes.
        got: String,
    },
}

/// The trusted setup's points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedSetup {
    /// `[L_i(τ)]₁` in natural (not bit-reversed) order, as in the ceremony file.
    pub g1_lagrange: Vec<G1Affine>,
    /// `[τ^i]₂` for i in 0..65.
    pub g2_monomial: Vec<G2Affine>,
    /// `[τ^i]₁` for i in 0..4096.
    pub g1_monomial: Vec<G1Affine>,
}

impl TrustedSetup {
    /// The embedded Ethereum setup, decoded on first call (hash check + on-curve checks).
    pub fn ethereum() -> Result<&'static TrustedSetup, SetupError> {
        static SETUP: OnceLock<Result<TrustedSetup, SetupError>> = OnceLock::new();
        SETUP.get_or_init(|| Self::from_embedded(EMBEDDED)).as_ref().map_err(Clone::clone)
    }

    fn from_embedded(bytes: &[u8]) -> Result<Self, SetupError> {
        let got = hex::encode(Sha256::digest(bytes));
        if got != EMBEDDED_SHA256 {
            return Err(SetupError::HashMismatch { expected: EMBEDDED_SHA256, got });
        }
        Self::from_binary(bytes)
    }

    /// Parses the c-kzg-4844 text format with full validation of every point.
    pub fn from_text(text: &str) -> Result<Self, SetupError> {
        let lines: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
        let count = |i: usize, want: usize| -> Result<(), SetupError> {
            let got: usize = lines
                .get(i)
                .and_then(|l| l.parse().ok())
                .ok_or_else(|| SetupError::Text { line: i + 1, reason: "expected a point count".into() })?;
            if got != want {
                return Err(SetupError::Text { line: i + 1, reason: format!("count {got}, expected {want}") });
            }
            Ok(())
        };
        count(0, NUM_G1)?;
        count(1, NUM_G2)?;
        let want_lines = 2 + 2 * NUM_G1 + NUM_G2;
        if lines.len() != want_lines {
            return Err(SetupError::Text {
                line: lines.len(),
                reason: format!("{} non-empty lines, expected {want_lines}", lines.len()),
            });
        }
        let bytes_at = |i: usize| {
            hex::decode(lines[i]).map_err(|e| SetupError::Text { line: i + 1, reason: format!("bad hex: {e}") })
        };
        let g1_at = |i: usize| g1_from_bytes(&bytes_at(i)?).map_err(|source| SetupError::Point { line: i + 1, source });
        let g2_at = |i: usize| g2_from_bytes(&bytes_at(i)?).map_err(|source| SetupError::Point { line: i + 1, source });
        let g1_lagrange = (2..2 + NUM_G1).into_par_iter().map(g1_at).collect::<Result<Vec<_>, _>>()?;
        let g2_start = 2 + NUM_G1;
        let g2_monomial = (g2_start..g2_start + NUM_G2).into_par_iter().map(g2_at).collect::<Result<Vec<_>, _>>()?;
        let m_start = g2_start + NUM_G2;
        let g1_monomial = (m_start..m_start + NUM_G1).into_par_iter().map(g1_at).collect::<Result<Vec<_>, _>>()?;
        Ok(Self { g1_lagrange, g2_monomial, g1_monomial })
    }

    /// The compact binary form embedded in the crate: magic, then every point uncompressed.
    pub fn to_binary(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(BINARY_LEN);
        out.extend_from_slice(MAGIC);
        for p in &self.g1_lagrange {
            p.serialize_with_mode(&mut out, Compress::No).expect("Vec grows");
        }
        for p in &self.g2_monomial {
            p.serialize_with_mode(&mut out, Compress::No).expect("Vec grows");
        }
        for p in &self.g1_monomial {
            p.serialize_with_mode(&mut out, Compress::No).expect("Vec grows");
        }
        out
    }

    /// Decodes [`TrustedSetup::to_binary`]'s output, checking that every point is on its curve
    /// (not the subgroup: see the module docs).
    pub fn from_binary(bytes: &[u8]) -> Result<Self, SetupError> {
        if bytes.len() != BINARY_LEN || &bytes[..MAGIC.len()] != MAGIC {
            return Err(SetupError::Binary {
                reason: format!("{} bytes, expected {BINARY_LEN} with magic", bytes.len()),
            });
        }
        let body = &bytes[MAGIC.len()..];
        let (lagrange, rest) = body.split_at(NUM_G1 * G1_UNCOMPRESSED);
        let (g2, monomial) = rest.split_at(NUM_G2 * G2_UNCOMPRESSED);
        Ok(Self {
            g1_lagrange: decode_points(lagrange, G1_UNCOMPRESSED)?,
            g2_monomial: decode_points(g2, G2_UNCOMPRESSED)?,
            g1_monomial: decode_points(monomial, G1_UNCOMPRESSED)?,
        })
    }
}

/// Concatenated uncompressed encodings (arkworks' `x ‖ y`) of `points`.
#[cfg(test)]
pub(crate) fn encode_uncompressed_g1(points: &[G1Affine]) -> Vec<u8> {
    let mut out = Vec::with_capacity(points.len() * G1_UNCOMPRESSED);
    for p in points {
        p.serialize_with_mode(&mut out, Compress::No).expect("Vec grows");
    }
    out
}

/// Decodes concatenated uncompressed G1 points, checking each is on the curve.
pub(crate) fn decode_uncompressed_g1(bytes: &[u8]) -> Result<Vec<G1Affine>, SetupError> {
    if !bytes.len().is_multiple_of(G1_UNCOMPRESSED) {
        return Err(SetupError::Binary { reason: format!("{} bytes is not a whole number of points", bytes.len()) });
    }
    decode_points(bytes, G1_UNCOMPRESSED)
}

fn decode_points<P: SWCurveConfig>(bytes: &[u8], size: usize) -> Result<Vec<Affine<P>>, SetupError> {
    bytes
        .par_chunks(size)
        .enumerate()
        .map(|(i, c)| {
            let p = Affine::<P>::deserialize_with_mode(c, Compress::No, Validate::No)
                .map_err(|e| SetupError::Binary { reason: format!("point {i}: {e}") })?;
            if !p.is_zero() && !p.is_on_curve() {
                return Err(SetupError::Binary { reason: format!("point {i} is not on the curve") });
            }
            Ok(p)
        })
        .collect()
}
