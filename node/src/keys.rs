//! A node's key files and the binding between its two identities.
//!
//! A node has a BLS key (it signs votes and certificates; its public key and proof of possession are in the stake
//! table) and a libp2p ed25519 keypair (it authenticates connections; peers know it by its PeerId). The stake
//! table binds them: each entry carries a BLS signature over [`binding_message`] of its PeerId, so a PeerId stands
//! for exactly one BLS key and nobody can announce another node's PeerId under their own key.
//!
//! Files in the keys directory, both mode 0600 and written atomically:
//! - `bls.key`: the 32-byte BLS secret key as 64 hex characters and a newline;
//! - `p2p.key`: the libp2p keypair's protobuf encoding (what `Keypair::to_protobuf_encoding` writes).

use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use crema_engine::bls::{self, BlsError, SECRET_KEY_BYTES, SecretKey};
use libp2p::identity::{KeyType, Keypair};
use libp2p::{Multiaddr, PeerId};
use rand::RngCore;

use crate::atomic_write::{WriteError, create_dir, write_atomic};
use crate::consensus::NodeId;
use crate::network_file::{NetworkFile, NodeEntry};

/// The BLS secret key's file name in the keys directory.
pub const BLS_KEY_FILE: &str = "bls.key";
/// The libp2p keypair's file name in the keys directory.
pub const P2P_KEY_FILE: &str = "p2p.key";
/// The domain the peer binding signs under.
pub const BINDING_DOMAIN: &[u8] = b"crema/peer-binding/v1";
/// Longest key file read: both are far smaller (65 bytes; an ed25519 protobuf is 68).
const MAX_KEY_FILE_BYTES: u64 = 1024;

/// Why a node's keys could not be read, written or placed in the network.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// A key file could not be read.
    #[error("{path}: cannot read: {error}")]
    Read {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        error: io::Error,
    },
    /// A key file's contents are not a valid key.
    #[error("{path}: {reason}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A key file could not be written.
    #[error(transparent)]
    Write(#[from] WriteError),
    /// This node's BLS key is not in the stake table.
    #[error("this node's BLS key {bls_key} is not in the network file's stake table")]
    NotInNetwork {
        /// The public key, hex.
        bls_key: String,
    },
    /// The stake table binds this node's BLS key to another PeerId than its p2p key's.
    #[error("node[{index}].peer_id is {listed}, but this node's p2p.key is PeerId {own}")]
    PeerMismatch {
        /// The node's index.
        index: NodeId,
        /// The PeerId in the stake table (boxed: PeerIds are large, errors should be small).
        listed: Box<PeerId>,
        /// The PeerId of the p2p key.
        own: Box<PeerId>,
    },
}

/// A node's two secret keys.
pub struct NodeKeys {
    /// Signs votes, proposals, certificates and the peer binding.
    pub bls: SecretKey,
    /// Authenticates the node's libp2p connections (ed25519).
    pub p2p: Keypair,
}

impl std::fmt::Debug for NodeKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Public halves only: a log line must never carry a secret key.
        f.debug_struct("NodeKeys").field("bls", &self.bls.public_key()).field("peer_id", &self.peer_id()).finish()
    }
}

/// The bytes a node's BLS key signs to bind its PeerId: `b"crema/peer-binding/v1" || peer.to_bytes()`.
pub fn binding_message(peer: &PeerId) -> Vec<u8> {
    let mut m = BINDING_DOMAIN.to_vec();
    m.extend_from_slice(&peer.to_bytes());
    m
}

/// The two key files of a keys directory: `[bls.key, p2p.key]`.
pub fn key_files(dir: &Path) -> [PathBuf; 2] {
    [dir.join(BLS_KEY_FILE), dir.join(P2P_KEY_FILE)]
}

impl NodeKeys {
    /// Fresh keys from the operating system's randomness (BLS: KeyGen over 32 random bytes).
    pub fn generate() -> Self {
        let mut ikm = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut ikm);
        // 32 bytes of IKM is the least KeyGen takes, so it cannot refuse them.
        let bls = SecretKey::key_gen(&ikm, b"").expect("32 bytes of IKM are enough for KeyGen");
        NodeKeys { bls, p2p: Keypair::generate_ed25519() }
    }

    /// Writes `bls.key` and `p2p.key` into `dir` (created if missing), each atomically with mode 0600. Existing
    /// files are replaced: refusing to overwrite is the caller's decision (see [`key_files`]).
    pub fn write(&self, dir: &Path) -> Result<(), KeyError> {
        create_dir(dir)?;
        let [bls_path, p2p_path] = key_files(dir);
        let p2p = self.p2p.to_protobuf_encoding().map_err(|e| KeyError::Invalid {
            path: p2p_path.clone(),
            reason: format!("cannot encode the p2p key: {e}"),
        })?;
        write_private(&bls_path, format!("{}\n", hex::encode(self.bls.to_bytes())).as_bytes())?;
        Ok(write_private(&p2p_path, &p2p)?)
    }

    /// Reads and checks `bls.key` and `p2p.key` from `dir`.
    pub fn read(dir: &Path) -> Result<Self, KeyError> {
        let [bls_path, p2p_path] = key_files(dir);
        let bls = decode_bls(&read_small(&bls_path)?)
            .map_err(|reason| KeyError::Invalid { path: bls_path.clone(), reason })?;
        let p2p = decode_p2p(&read_small(&p2p_path)?)
            .map_err(|reason| KeyError::Invalid { path: p2p_path.clone(), reason })?;
        Ok(NodeKeys { bls, p2p })
    }

    /// The PeerId of the p2p key.
    pub fn peer_id(&self) -> PeerId {
        self.p2p.public().to_peer_id()
    }

    /// This node's stake-table entry: its public keys, a fresh proof of possession and the peer binding.
    pub fn entry(&self, stake: u64, da_member: bool, p2p: Multiaddr, api: Option<String>) -> NodeEntry {
        let peer_id = self.peer_id();
        // Signing hashes to G2 under the ciphersuite's fixed DSTs, which only fails for a DST over 255 bytes.
        let pop = bls::pop_prove(&self.bls).expect("PopProve with the fixed PoP DST");
        let binding = self.bls.sign(&binding_message(&peer_id)).expect("Sign with the fixed signature DST");
        NodeEntry { bls_key: self.bls.public_key(), pop, peer_id, binding, stake, da_member, p2p, api }
    }

    /// This node's index in `network`: the position of its BLS key, whose entry must list this p2p key's PeerId
    /// (else peers would refuse its connections).
    pub fn index_in(&self, network: &NetworkFile) -> Result<NodeId, KeyError> {
        let pk = self.bls.public_key();
        let index =
            network.index_of(&pk).ok_or_else(|| KeyError::NotInNetwork { bls_key: hex::encode(pk.to_bytes()) })?;
        let own = self.peer_id();
        match network.nodes.get(usize::from(index)) {
            Some(e) if e.peer_id == own => Ok(index),
            Some(e) => Err(KeyError::PeerMismatch { index, listed: Box::new(e.peer_id), own: Box::new(own) }),
            None => Err(KeyError::NotInNetwork { bls_key: hex::encode(pk.to_bytes()) }),
        }
    }
}

/// Writes a secret file atomically and leaves it readable by its owner only.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    // The temporary file behind `write_atomic` is created 0600 already; setting it again states the intent and
    // covers a platform where the default differs.
    write_atomic(path, bytes)?;
    set_owner_only(path).map_err(|source| WriteError { path: path.to_path_buf(), source })
}

#[cfg(unix)]
fn set_owner_only(path: &Path) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(0o600))
}

#[cfg(not(unix))]
fn set_owner_only(_path: &Path) -> io::Result<()> {
    Ok(())
}

fn read_small(path: &Path) -> Result<Vec<u8>, KeyError> {
    let read_err = |error| KeyError::Read { path: path.to_path_buf(), error };
    let mut bytes = Vec::new();
    fs::File::open(path).and_then(|f| f.take(MAX_KEY_FILE_BYTES + 1).read_to_end(&mut bytes)).map_err(read_err)?;
    if bytes.len() as u64 > MAX_KEY_FILE_BYTES {
        return Err(KeyError::Invalid {
            path: path.to_path_buf(),
            reason: format!("larger than {MAX_KEY_FILE_BYTES} bytes: not a key file"),
        });
    }
    Ok(bytes)
}

fn decode_bls(bytes: &[u8]) -> Result<SecretKey, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "not text: expected 64 hex characters".to_string())?;
    let text = text.trim();
    if text.len() != 2 * SECRET_KEY_BYTES {
        return Err(format!("expected {} hex characters, found {}", 2 * SECRET_KEY_BYTES, text.len()));
    }
    let raw = hex::decode(text).map_err(|e| format!("not hex: {e}"))?;
    SecretKey::from_slice(&raw).map_err(|e: BlsError| e.to_string())
}

fn decode_p2p(bytes: &[u8]) -> Result<Keypair, String> {
    let kp = Keypair::from_protobuf_encoding(bytes).map_err(|e| format!("not a libp2p keypair: {e}"))?;
    if kp.key_type() != KeyType::Ed25519 {
        return Err(format!("a {:?} key; crema uses ed25519", kp.key_type()));
    }
    Ok(kp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_read_round_trip_with_private_files() {
        let dir = tempfile::tempdir().unwrap();
        let keys = NodeKeys::generate();
        keys.write(&dir.path().join("keys")).unwrap();
        let back = NodeKeys::read(&dir.path().join("keys")).unwrap();
        assert_eq!(back.bls, keys.bls);
        assert_eq!(back.peer_id(), keys.peer_id());
        let text = fs::read_to_string(dir.path().join("keys/bls.key")).unwrap();
        assert_eq!(text, format!("{}\n", hex::encode(keys.bls.to_bytes())));
        #[cfg(unix)]
        for f in key_files(&dir.path().join("keys")) {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(fs::metadata(&f).unwrap().permissions().mode() & 0o777, 0o600, "{}", f.display());
        }
        assert!(!format!("{keys:?}").contains(&hex::encode(keys.bls.to_bytes())), "Debug hides the secret");
    }

    #[test]
    fn the_entry_verifies_and_binds_only_its_own_peer() {
        let keys = NodeKeys::generate();
        let e = keys.entry(3, true, "/ip4/127.0.0.1/tcp/9000".parse().unwrap(), None);
        assert_eq!(e.bls_key, keys.bls.public_key());
        assert!(bls::pop_verify(&e.bls_key, &e.pop).unwrap());
        assert!(bls::verify(&e.bls_key, &binding_message(&e.peer_id), &e.binding).unwrap());
        let other = NodeKeys::generate().peer_id();
        assert!(!bls::verify(&e.bls_key, &binding_message(&other), &e.binding).unwrap());
        assert!(binding_message(&e.peer_id).starts_with(b"crema/peer-binding/v1"));
    }

    #[test]
    fn broken_key_files_are_named_errors() {
        let dir = tempfile::tempdir().unwrap();
        NodeKeys::generate().write(dir.path()).unwrap();
        let [bls_path, p2p_path] = key_files(dir.path());
        let (not_hex, zero) = (b"zz".repeat(32), format!("{}\n", "00".repeat(32)));
        let cases: [(&Path, &[u8], &str); 6] = [
            (&bls_path, &not_hex, "not hex"),
            (&bls_path, b"abcd\n", "expected 64 hex characters, found 4"),
            (&bls_path, zero.as_bytes(), "secret key is zero"),
            (&bls_path, &[0xff; 64], "not text"),
            (&p2p_path, b"\x08\x01\x12\x03abc", "not a libp2p keypair"),
            (&p2p_path, &[0u8; 2000], "larger than 1024 bytes"),
        ];
        for (path, bytes, want) in cases {
            let good = fs::read(path).unwrap();
            fs::write(path, bytes).unwrap();
            let e = NodeKeys::read(dir.path()).unwrap_err().to_string();
            assert!(e.contains(want) && e.contains(&path.display().to_string()), "{want}: {e}");
            fs::write(path, good).unwrap();
        }
        fs::remove_file(&p2p_path).unwrap();
        let e = NodeKeys::read(dir.path()).unwrap_err().to_string();
        assert!(e.contains("p2p.key: cannot read"), "{e}");
    }
}
