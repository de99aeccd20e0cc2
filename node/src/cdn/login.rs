//! What a node signs to log in to a broker, and the cache keys both sides agree on.
//!
//! The login signature covers a domain tag, the broker's per-connection nonce, the node's clock and its index, so
//! a signature cannot be replayed on another connection, by another node, or much later. The broker checks it
//! against the node's BLS key in the stake table (`network.toml`).

use crema_engine::bls::{self, PublicKey, SecretKey, Signature};

use super::frame::CacheKey;
use crate::consensus::{Digest, NodeId};

/// How far a login's timestamp may be from the broker's clock.
pub const MAX_CLOCK_SKEW_MS: u64 = 30_000;

const LOGIN_DOMAIN: &[u8] = b"crema/cdn-login/v1";

/// The bytes a node signs to log in.
pub fn login_message(nonce: &[u8; 32], timestamp_ms: u64, node: NodeId) -> Vec<u8> {
    let mut m = Vec::with_capacity(LOGIN_DOMAIN.len() + 44);
    m.extend_from_slice(LOGIN_DOMAIN);
    m.extend_from_slice(nonce);
    m.extend_from_slice(&timestamp_ms.to_le_bytes());
    m.extend_from_slice(&node.to_le_bytes());
    m
}

/// The node's login signature, compressed.
pub fn sign_login(sk: &SecretKey, nonce: &[u8; 32], timestamp_ms: u64, node: NodeId) -> Vec<u8> {
    // Signing with our own valid key has no failure mode; an error here is a bug.
    sk.sign(&login_message(nonce, timestamp_ms, node)).expect("BLS signing with a valid key").to_bytes().to_vec()
}

/// Why a login was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoginError {
    /// The node index is not in the stake table.
    #[error("node {0} is not in the stake table")]
    UnknownNode(NodeId),
    /// The timestamp is too far from the broker's clock.
    #[error("login timestamp is {skew_ms} ms from the broker's clock (at most {MAX_CLOCK_SKEW_MS} ms)")]
    Clock {
        /// The difference.
        skew_ms: u64,
    },
    /// The signature does not decode or does not verify.
    #[error("bad login signature")]
    BadSignature,
}

/// Checks a login against the stake table's keys (`keys[node]`) and the broker's clock.
pub fn check_login(
    keys: &[PublicKey],
    nonce: &[u8; 32],
    node: NodeId,
    timestamp_ms: u64,
    signature: &[u8],
    now_ms: u64,
) -> Result<(), LoginError> {
    let pk = keys.get(node as usize).ok_or(LoginError::UnknownNode(node))?;
    let skew_ms = now_ms.abs_diff(timestamp_ms);
    if skew_ms > MAX_CLOCK_SKEW_MS {
        return Err(LoginError::Clock { skew_ms });
    }
    let sig: [u8; bls::SIGNATURE_BYTES] = signature.try_into().map_err(|_| LoginError::BadSignature)?;
    let sig = Signature::from_bytes(&sig).map_err(|_| LoginError::BadSignature)?;
    match bls::verify(pk, &login_message(nonce, timestamp_ms, node), &sig) {
        Ok(true) => Ok(()),
        _ => Err(LoginError::BadSignature),
    }
}

/// The cache key of a block's DA proposal (the full payload), by payload commitment.
pub fn payload_key(commitment: &Digest) -> CacheKey {
    keyed(b"payload", commitment, None)
}

/// The cache key of node `node`'s VID share of the block with `commitment`.
pub fn share_key(commitment: &Digest, node: NodeId) -> CacheKey {
    keyed(b"share", commitment, Some(node))
}

fn keyed(what: &[u8], commitment: &Digest, node: Option<NodeId>) -> CacheKey {
    let mut h = blake3::Hasher::new();
    h.update(b"crema/cdn-cache/v1/").update(what).update(&commitment.0);
    if let Some(n) = node {
        h.update(&n.to_le_bytes());
    }
    *h.finalize().as_bytes()
}

/// Milliseconds since the Unix epoch on this machine's clock.
pub fn unix_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seed: u8) -> SecretKey {
        SecretKey::key_gen(&[seed; 32], b"").unwrap()
    }

    #[test]
    fn a_login_verifies_only_for_its_node_nonce_and_time() {
        let (a, b) = (key(1), key(2));
        let keys = vec![a.public_key(), b.public_key()];
        let nonce = [7; 32];
        let now = 1_000_000;
        let sig = sign_login(&a, &nonce, now, 0);
        assert_eq!(check_login(&keys, &nonce, 0, now, &sig, now + 5), Ok(()));
        assert_eq!(check_login(&keys, &nonce, 1, now, &sig, now), Err(LoginError::BadSignature));
        assert_eq!(check_login(&keys, &[8; 32], 0, now, &sig, now), Err(LoginError::BadSignature));
        assert_eq!(check_login(&keys, &nonce, 0, now + 1, &sig, now), Err(LoginError::BadSignature));
        assert_eq!(check_login(&keys, &nonce, 2, now, &sig, now), Err(LoginError::UnknownNode(2)));
        assert!(matches!(check_login(&keys, &nonce, 0, now, &sig, now + 60_000), Err(LoginError::Clock { .. })));
        assert_eq!(check_login(&keys, &nonce, 0, now, &sig[..10], now), Err(LoginError::BadSignature));
    }

    #[test]
    fn cache_keys_differ_by_kind_commitment_and_node() {
        let (c1, c2) = (Digest([1; 32]), Digest([2; 32]));
        assert_ne!(payload_key(&c1), payload_key(&c2));
        assert_ne!(payload_key(&c1), share_key(&c1, 0));
        assert_ne!(share_key(&c1, 0), share_key(&c1, 1));
    }
}
