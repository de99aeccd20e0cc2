//! The devnet summary's three flags, each computed through the nodes' HTTP APIs only, as an outside observer
//! would: `safety_ok` (every node's decided headers agree), `namespaces_verified` (every namespace answer's proof
//! verifies against the header alone, and every decided submission appears exactly once), `payloads_recovered`
//! (with the DA committee stopped, every decided payload is rebuilt from shares fetched from the other nodes and
//! checked against its header's commitment).

use std::collections::BTreeSet;

use anyhow::Context;
use crema_engine::Backend;
use crema_engine::vid::{Codec, NamespaceProof, SchemeKind, Vid, verify_namespace};

use super::client::Client;
use super::observe::Observer;
use crate::consensus::{Digest, NodeId, VidShare};
use crate::da::{block, savoiardi};

/// The outcome of one check: whether it held, and what was checked or what failed.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Check {
    /// Whether it held.
    pub ok: bool,
    /// What was checked, or the first failure.
    pub detail: String,
}

impl Check {
    fn pass(detail: String) -> Self {
        Check { ok: true, detail }
    }

    fn fail(detail: String) -> Self {
        Check { ok: false, detail }
    }
}

/// Every node in `clients` has the same header hash at each height up to the lowest node's height.
pub fn safety(clients: &[(usize, Client)]) -> anyhow::Result<Check> {
    let heights: Vec<u64> = clients.iter().map(|(_, c)| c.height()).collect::<anyhow::Result<_>>()?;
    let common = heights.iter().copied().min().unwrap_or(0);
    if common == 0 {
        return Ok(Check::fail("no block decided on every node".into()));
    }
    let hashes = per_node(clients, |(i, c)| {
        (1..=common)
            .map(|h| {
                let v = c.header(h)?.with_context(|| format!("node {i} has no header at {h}"))?;
                Ok(v["header"]["hash"].as_str().unwrap_or_default().to_string())
            })
            .collect::<anyhow::Result<Vec<String>>>()
    })?;
    for (k, h) in (1..=common).enumerate() {
        let at_h: BTreeSet<&str> = hashes.iter().map(|node| node[k].as_str()).collect();
        if at_h.len() != 1 {
            return Ok(Check::fail(format!("nodes disagree at height {h}: {at_h:?}")));
        }
    }
    Ok(Check::pass(format!("{} nodes agree on heights 1..={common} (heights {heights:?})", clients.len())))
}

/// Runs `work` on each node's item (its client, and what to ask it) on a thread of its own; the results in
/// `items`' order. The checks make thousands of requests in a long run; one node at a time left the other nodes'
/// APIs idle.
fn per_node<I: Sync, T: Send>(items: &[I], work: impl Fn(&I) -> anyhow::Result<T> + Sync) -> anyhow::Result<Vec<T>> {
    std::thread::scope(|s| {
        let work = &work;
        let handles: Vec<_> = items.iter().map(|item| s.spawn(move || work(item))).collect();
        handles.into_iter().map(|h| h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))).collect()
    })
}

/// Every namespace of every non-empty block seen, fetched from the namespace endpoint (nodes in turn), carries
/// the transactions the payload holds and a proof that verifies against the header; every decided submission was
/// found exactly once.
pub fn namespaces(obs: &Observer, clients: &[(usize, Client)], backend: &dyn Backend) -> anyhow::Result<Check> {
    if clients.is_empty() {
        return Ok(Check::fail("no node is running to answer".into()));
    }
    // The answers to fetch, dealt to the nodes in turn: (height, namespace, transaction hashes).
    type Ask<'a> = (u64, u64, &'a [[u8; 32]]);
    let mut dealt: Vec<Vec<Ask<'_>>> = vec![Vec::new(); clients.len()];
    let mut k = 0;
    for b in obs.blocks.iter().filter(|b| b.payload_len > 0) {
        for (ns, txs) in &b.namespaces {
            dealt[k % clients.len()].push((b.height, *ns, txs.as_slice()));
            k += 1;
        }
    }
    let work: Vec<(&(usize, Client), Vec<_>)> = clients.iter().zip(dealt).collect();
    let failures = per_node(&work, |((i, client), asks)| {
        for &(height, ns, txs) in asks {
            let Some(v) = client.namespace(height, ns)? else {
                return Ok(Some((height, format!("node {i}: namespace {ns} of block {height} not found"))));
            };
            if let Err(why) = verify_answer(backend, &v, txs) {
                return Ok(Some((height, format!("node {i}: namespace {ns} of block {height}: {why}"))));
            }
        }
        Ok(None)
    })?;
    // The lowest failing height, whichever node it came from.
    if let Some((_, why)) = failures.into_iter().flatten().min_by_key(|(h, _)| *h) {
        return Ok(Check::fail(why));
    }
    if let Some((i, n)) = obs.found.iter().find(|(_, n)| **n != 1) {
        return Ok(Check::fail(format!("submitted transaction {i} was decided {n} times")));
    }
    if obs.unknown > 0 {
        return Ok(Check::fail(format!("{} decided transactions were never submitted", obs.unknown)));
    }
    Ok(Check::pass(format!("{k} namespace answers verified; {} decided submissions each found once", obs.found.len())))
}

/// Checks one namespace answer against its own header and the transactions (BLAKE3 hashes) the payload holds.
fn verify_answer(backend: &dyn Backend, v: &serde_json::Value, want: &[[u8; 32]]) -> Result<(), String> {
    let hex_field = |name: &str| -> Result<Vec<u8>, String> {
        hex::decode(v[name].as_str().ok_or(format!("no {name}"))?).map_err(|e| format!("{name}: {e}"))
    };
    let header = &v["header"];
    let commitment: [u8; 32] = hex::decode(header["payload_commitment"].as_str().unwrap_or_default())
        .ok()
        .and_then(|c| c.try_into().ok())
        .ok_or("no payload commitment")?;
    let scheme: SchemeKind =
        header["vid"]["scheme"].as_str().unwrap_or_default().parse().map_err(|e| format!("{e}"))?;
    let proof = NamespaceProof::decode(&hex_field("proof")?).map_err(|e| format!("proof: {e}"))?;
    let (common, bytes) = (hex_field("common")?, hex_field("namespace_bytes")?);
    verify_namespace(backend, scheme, &commitment, &proof, &common, &bytes).map_err(|e| format!("proof: {e}"))?;
    let txs = block::decode_transactions(&bytes).map_err(|e| format!("namespace bytes: {e}"))?;
    if !txs.iter().map(|t| *blake3::hash(t).as_bytes()).eq(want.iter().copied()) {
        return Err("the transactions differ from the payload's".into());
    }
    Ok(())
}

/// With the DA committee stopped: every non-empty payload seen is rebuilt from the shares the `holders` serve
/// (each share verified on its own), checked against the header's commitment, and equal to the payload seen.
pub fn recovery(
    obs: &Observer,
    holders: &[(usize, Client)],
    vid: &Vid,
    backend: &dyn Backend,
) -> anyhow::Result<Check> {
    let mut rebuilt = 0;
    for b in obs.blocks.iter().filter(|b| b.payload_len > 0) {
        let Some(want) = b.payload_hash else { continue };
        let header = holders[0].1.header(b.height)?.with_context(|| format!("no header at {}", b.height))?;
        let commitment: [u8; 32] = hex::decode(header["header"]["payload_commitment"].as_str().unwrap_or_default())?
            .try_into()
            .map_err(|_| anyhow::anyhow!("bad commitment"))?;
        let mut shares = Vec::new();
        for (i, c) in holders {
            let Some(s) = c.share(b.height)? else { continue };
            let share = VidShare {
                view: 0,
                commitment: Digest(commitment),
                node: s["node"].as_u64().and_then(|n| NodeId::try_from(n).ok()).context("share without node")?,
                common: std::sync::Arc::new(hex::decode(s["common"].as_str().unwrap_or_default())?),
                share: hex::decode(s["share"].as_str().unwrap_or_default())?,
            };
            if usize::from(share.node) != *i || !savoiardi::share_verifies(vid, backend, &share) {
                return Ok(Check::fail(format!("node {i} served a share of block {} that does not verify", b.height)));
            }
            shares.push(share);
        }
        let Some(common) = shares.first().map(|s| s.common.clone()) else {
            return Ok(Check::fail(format!("no node serves a share of block {}", b.height)));
        };
        let refs: Vec<&[u8]> = shares.iter().map(|s| s.share.as_slice()).collect();
        let namespaces = match savoiardi::recover(vid, backend, &Digest(commitment), &common, &refs) {
            Ok(ns) => ns,
            Err(e) => {
                return Ok(Check::fail(format!("block {}: {} shares do not rebuild it: {e}", b.height, refs.len())));
            }
        };
        let payload = crema_engine::vid::NamespacedPayload::new(namespaces)?;
        if *blake3::hash(&block::encode_payload(&payload)).as_bytes() != want {
            return Ok(Check::fail(format!("block {}: the rebuilt payload differs from the one served", b.height)));
        }
        rebuilt += 1;
    }
    let who: Vec<usize> = holders.iter().map(|(i, _)| *i).collect();
    Ok(Check::pass(format!("{rebuilt} payloads rebuilt from the shares of nodes {who:?} alone")))
}
