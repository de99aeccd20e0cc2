//! The VID cases of the plan: disperse, verify one share, recover at the threshold, for both
//! schemes (AvidM and KZG), written once over the engine's byte-level [`Vid`].

use std::sync::Arc;

use crema_engine::backend::Cpu;
use crema_engine::vid::{EncodedDispersal, Recovered, SchemeKind, Vid, Weights};

use super::inputs;
use super::ops::{Case, Failure, Runner, Target, Work, digest_all};

const MB: usize = 1_000_000;
/// Nodes in every VID case; the weight units are shared equally among them.
const NODES: usize = 100;

fn ops(scheme: SchemeKind) -> [&'static str; 3] {
    match scheme {
        SchemeKind::Avidm => ["avidm_disperse", "avidm_verify_share", "avidm_recover"],
        SchemeKind::Kzg => ["kzg_vid_disperse", "kzg_vid_verify_share", "kzg_vid_recover"],
    }
}

/// Nodes (of the last ones) kept for recovery: just enough weight for the threshold, and
/// none of the systematic part, so recovery has to decode.
fn kept(scheme: SchemeKind) -> usize {
    let threshold = scheme.default_threshold();
    threshold.ceil_of(NODES as u64) as usize + usize::from(scheme == SchemeKind::Avidm)
}

/// The payload size as shown.
fn size(bytes: usize, units: u32) -> String {
    if bytes >= MB {
        format!("{} MB -> {units} units", bytes / MB)
    } else {
        format!("{} kB -> {units} units", bytes / 1000)
    }
}

/// The scheme with its default threshold, for `units` weight units over [`NODES`] nodes.
fn build(scheme: SchemeKind, units: u32) -> anyhow::Result<Vid> {
    Ok(Vid::new(scheme, Weights::new(vec![units / NODES as u32; NODES])?, None)?)
}

fn recover_from(
    vid: &Vid,
    backend: &dyn crema_engine::Backend,
    d: &EncodedDispersal,
    nodes: &[usize],
) -> Result<Recovered, crema_engine::vid::VidError> {
    let shares: Vec<&[u8]> = nodes.iter().map(|&n| d.shares[n].as_slice()).collect();
    vid.recover(backend, &d.commitment, &d.common, &shares)
}

/// Disperse `bytes` to `units` weight units.
pub fn disperse(scheme: SchemeKind, bytes: usize, units: u32) -> Case {
    Case {
        family: "vid",
        op: ops(scheme)[0],
        size: size(bytes, units),
        work: Work::Bytes(bytes as u64),
        timed: match scheme {
            SchemeKind::Avidm => {
                "Avidm::disperse (GF(2^16) encode, Merkle tree, shares with proofs) + the shares' wire encoding \
                 (Vid::disperse: one copy of every unit; cargo bench times Avidm::disperse alone)"
            }
            SchemeKind::Kzg => {
                "Kzg::disperse (blob commitments, cells and FK20 proofs per blob) + the shares' wire encoding \
                 (Vid::disperse; cargo bench times Kzg::disperse alone)"
            }
        },
        prepare: Box::new(move || {
            let payload = inputs::bytes(13, bytes);
            let s = build(scheme, units)?;
            Ok(Box::new(move |t: &Target| {
                let backend = t.backend()?;
                t.time(
                    || Ok(s.disperse(backend, &payload, None)?),
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
pub fn verify_share(scheme: SchemeKind, bytes: usize, units: u32) -> Case {
    Case {
        family: "vid",
        op: ops(scheme)[1],
        size: size(bytes, units),
        work: Work::Items { count: 1, unit: "shares" },
        timed: match scheme {
            SchemeKind::Avidm => {
                "Avidm::verify_share of one node's share (BLAKE3 of its units, Merkle paths; on the host) + decoding \
                 the share and common data from wire bytes"
            }
            SchemeKind::Kzg => {
                "Kzg::verify_share of one node's share (one verify_cell_kzg_proof_batch over its cells) + decoding \
                 the share and common data from wire bytes"
            }
        },
        prepare: Box::new(move || {
            let s = build(scheme, units)?;
            let d = Arc::new(s.disperse(&Cpu::new(), &inputs::bytes(14, bytes), None)?);
            Ok(Box::new(move |t: &Target| {
                let backend = t.backend()?;
                t.time(
                    || Ok(s.verify_share(backend, &d.commitment, &d.common, &d.shares[57], 57)?),
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
pub fn recover(scheme: SchemeKind, bytes: usize, units: u32) -> Case {
    Case {
        family: "vid",
        op: ops(scheme)[2],
        size: size(bytes, units),
        work: Work::Bytes(bytes as u64),
        timed: match scheme {
            SchemeKind::Avidm => {
                "Avidm::recover from the last 34 of 100 nodes (every original lost; root check) + decoding their \
                 shares from wire bytes"
            }
            SchemeKind::Kzg => {
                "Kzg::recover from the last 50 of 100 nodes (cell recovery per blob; re-commit check) + decoding \
                 their shares from wire bytes"
            }
        },
        prepare: Box::new(move || {
            let payload = inputs::bytes(15, bytes);
            let s = build(scheme, units)?;
            let d = s.disperse(&Cpu::new(), &payload, None)?;
            let kept: Vec<usize> = (NODES - kept(scheme)..NODES).collect();
            Ok(Box::new(move |t: &Target| {
                let backend = t.backend()?;
                t.time(
                    || Ok(recover_from(&s, backend, &d, &kept)?),
                    |out, h| {
                        let Recovered::Plain(out) = out else {
                            return Err(Failure::Error(anyhow::anyhow!("a plain dispersal recovered as namespaced")));
                        };
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
