//! The VID cases of the plan: disperse, verify one share, recover at the threshold, for both
//! schemes (AvidM and KZG), written once over [`VidScheme`].

use std::sync::Arc;

use crema_engine::backend::cpu::Cpu;
use crema_engine::vid::avidm::Avidm;
use crema_engine::vid::kzg::Kzg;
use crema_engine::vid::{Codec, Fraction, VidError, VidScheme, Weights};

use super::inputs;
use super::ops::{Case, Failure, Runner, Target, Work, digest_all};

const MB: usize = 1_000_000;
/// Nodes in every VID case; the weight units are shared equally among them.
const NODES: usize = 100;

/// A scheme as the bench builds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// GF(2^16) + BLAKE3 Merkle, threshold 1/3.
    Avidm,
    /// EIP-7594 cells + KZG proofs, threshold 1/2.
    Kzg,
}

impl Scheme {
    fn ops(self) -> [&'static str; 3] {
        match self {
            Self::Avidm => ["avidm_disperse", "avidm_verify_share", "avidm_recover"],
            Self::Kzg => ["kzg_vid_disperse", "kzg_vid_verify_share", "kzg_vid_recover"],
        }
    }

    /// Nodes (of the last ones) kept for recovery: just enough weight for the threshold, and
    /// none of the systematic part, so recovery has to decode.
    fn kept(self) -> usize {
        match self {
            Self::Avidm => NODES.div_ceil(3) + 1,
            Self::Kzg => NODES / 2,
        }
    }
}

/// The payload size as shown.
fn size(bytes: usize, units: u32) -> String {
    if bytes >= MB {
        format!("{} MB -> {units} units", bytes / MB)
    } else {
        format!("{} kB -> {units} units", bytes / 1000)
    }
}

/// Runs `f` with the scheme built for `units` weight units over [`NODES`] nodes.
fn with_scheme<T>(
    scheme: Scheme,
    units: u32,
    f: impl FnOnce(&dyn DynScheme) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let weights = Weights::new(vec![units / NODES as u32; NODES])?;
    match scheme {
        Scheme::Avidm => f(&Avidm::new(weights, Fraction::ONE_THIRD)),
        Scheme::Kzg => f(&Kzg::new(weights, Fraction::ONE_HALF)?),
    }
}

/// Object-safe view of a scheme for the bench: dispersal to bytes and back, so one runner
/// serves both schemes. Encoding the shares is part of what every caller does anyway (they
/// are sent or stored), and it is cheap next to the dispersal.
trait DynScheme {
    fn boxed(&self) -> Box<dyn DynScheme + Send + Sync>;
    fn disperse(&self, backend: &dyn crema_engine::Backend, payload: &[u8]) -> Result<Encoded, VidError>;
    fn verify(&self, backend: &dyn crema_engine::Backend, d: &Encoded, node: usize) -> Result<(), VidError>;
    fn recover(&self, backend: &dyn crema_engine::Backend, d: &Encoded, nodes: &[usize]) -> Result<Vec<u8>, VidError>;
}

/// A dispersal in wire form.
struct Encoded {
    commitment: [u8; 32],
    common: Vec<u8>,
    shares: Vec<Vec<u8>>,
}

impl<S> DynScheme for S
where
    S: VidScheme<Commitment = [u8; 32]> + Clone + Send + Sync + 'static,
    S::Common: Codec,
    S::Share: Codec,
{
    fn boxed(&self) -> Box<dyn DynScheme + Send + Sync> {
        Box::new(self.clone())
    }

    fn disperse(&self, backend: &dyn crema_engine::Backend, payload: &[u8]) -> Result<Encoded, VidError> {
        let d = VidScheme::disperse(self, backend, payload)?;
        Ok(Encoded {
            commitment: d.commitment,
            common: d.common.encode(),
            shares: d.shares.iter().map(Codec::encode).collect(),
        })
    }

    fn verify(&self, backend: &dyn crema_engine::Backend, d: &Encoded, node: usize) -> Result<(), VidError> {
        let (common, share) = (S::Common::decode(&d.common)?, S::Share::decode(&d.shares[node])?);
        self.verify_share(backend, &d.commitment, &common, &share, node)
    }

    fn recover(&self, backend: &dyn crema_engine::Backend, d: &Encoded, nodes: &[usize]) -> Result<Vec<u8>, VidError> {
        let common = S::Common::decode(&d.common)?;
        let shares = nodes.iter().map(|&n| S::Share::decode(&d.shares[n])).collect::<Result<Vec<_>, _>>()?;
        VidScheme::recover(self, backend, &d.commitment, &common, &shares)
    }
}

/// Disperse `bytes` to `units` weight units.
pub fn disperse(scheme: Scheme, bytes: usize, units: u32) -> Case {
    Case {
        family: "vid",
        op: scheme.ops()[0],
        size: size(bytes, units),
        work: Work::Bytes(bytes as u64),
        timed: match scheme {
            Scheme::Avidm => "Avidm::disperse (GF(2^16) encode, Merkle tree, shares with proofs) + share encoding",
            Scheme::Kzg => "Kzg::disperse (blob commitments, cells and FK20 proofs per blob) + share encoding",
        },
        prepare: Box::new(move || {
            let payload = inputs::bytes(13, bytes);
            let s = with_scheme(scheme, units, |s| Ok(s.boxed()))?;
            Ok(Box::new(move |t: &Target| {
                let backend = t.backend()?;
                t.time(
                    || Ok(s.disperse(backend, &payload)?),
                    |d, h| {
                        h.update(&d.commitment);
                        digest_all(h, std::iter::once(d.common.as_slice()).chain(d.shares.iter().map(Vec::as_slice)));
                        Ok(())
                    },
                )
            }) as Runner)
        }),
    }
}

/// Verify one node's share of a dispersal of `bytes` to `units` units.
pub fn verify_share(scheme: Scheme, bytes: usize, units: u32) -> Case {
    Case {
        family: "vid",
        op: scheme.ops()[1],
        size: size(bytes, units),
        work: Work::Items { count: 1, unit: "shares" },
        timed: match scheme {
            Scheme::Avidm => "Avidm::verify_share of one node's share (BLAKE3 of its units, Merkle paths; on the host)",
            Scheme::Kzg => "Kzg::verify_share of one node's share (one verify_cell_kzg_proof_batch over its cells)",
        },
        prepare: Box::new(move || {
            let s = with_scheme(scheme, units, |s| Ok(s.boxed()))?;
            let d = Arc::new(s.disperse(&Cpu::new(), &inputs::bytes(14, bytes))?);
            Ok(Box::new(move |t: &Target| {
                let backend = t.backend()?;
                t.time(
                    || Ok(s.verify(backend, &d, 57)?),
                    |(), h| {
                        h.update(&[1]);
                        Ok(())
                    },
                )
            }) as Runner)
        }),
    }
}

/// Recover from just enough of the last nodes (no systematic part: a real decode).
pub fn recover(scheme: Scheme, bytes: usize, units: u32) -> Case {
    Case {
        family: "vid",
        op: scheme.ops()[2],
        size: size(bytes, units),
        work: Work::Bytes(bytes as u64),
        timed: match scheme {
            Scheme::Avidm => "Avidm::recover from the last 34 of 100 nodes (every original lost; re-encode check)",
            Scheme::Kzg => "Kzg::recover from the last 50 of 100 nodes (cell recovery per blob; re-commit check)",
        },
        prepare: Box::new(move || {
            let payload = inputs::bytes(15, bytes);
            let s = with_scheme(scheme, units, |s| Ok(s.boxed()))?;
            let d = s.disperse(&Cpu::new(), &payload)?;
            let kept: Vec<usize> = (NODES - scheme.kept()..NODES).collect();
            Ok(Box::new(move |t: &Target| {
                let backend = t.backend()?;
                t.time(
                    || Ok(s.recover(backend, &d, &kept)?),
                    |out, h| {
                        if out != &payload {
                            return Err(Failure::Error(anyhow::anyhow!("recover returned a different payload")));
                        }
                        h.update(out);
                        Ok(())
                    },
                )
            }) as Runner)
        }),
    }
}
