//! Unit tests of every store method on real files: opening and versions, safety state, decided headers and
//! their ranges (checked by the consensus verifier), shares, payloads, retention, and damaged records.

use std::sync::Arc;

use crema_engine::vid::{SchemeKind, ns_commitment};
use tempfile::TempDir;

use super::*;
use crate::consensus::mac::{MacKey, MacVerifier};
use crate::consensus::{Config, MacScheme, Membership, Message, MessageVerifier, StakeTable, mac_keys, vote_message};

const N: usize = 4;

/// Signing keys for a four-node network, and builders of validly certified chains.
pub(super) struct Chain {
    keys: Vec<MacKey>,
    verifier: MacVerifier,
    cfg: Config,
}

/// A decided batch as consensus emits it: headers with their QCs, and the proof of the last.
pub(super) type Batch = (Vec<(Header, Qc<MacScheme>)>, CommitProof<MacScheme>);

impl Chain {
    pub(super) fn new() -> Self {
        let (keys, verifier) = mac_keys(N, 7);
        let cfg = Config::new(StakeTable::equal(N as u64).unwrap(), 100);
        Chain { keys, verifier, cfg }
    }

    fn checker(&self) -> MessageVerifier<MacScheme> {
        MessageVerifier::new(self.cfg.clone(), self.verifier.clone())
    }

    /// A QC on `h` signed by every node.
    pub(super) fn qc(&self, h: &Header) -> Qc<MacScheme> {
        let msg = vote_message(h.view, &h.hash());
        let sigs: Vec<_> = self.keys.iter().map(|k| (k.id, MacScheme::sign(k, &msg))).collect();
        Qc { view: h.view, block: h.hash(), cert: MacScheme::combine(&self.verifier, &sigs) }
    }

    /// A certified chain on genesis, one block per view in `views` (increasing).
    pub(super) fn blocks(&self, views: &[View]) -> Vec<(Header, Qc<MacScheme>)> {
        let mut parent = Header::genesis();
        let mut out = Vec::new();
        for &view in views {
            let root = Digest(*blake3::hash(&view.to_le_bytes()).as_bytes());
            let h = Header {
                view,
                height: parent.height + 1,
                parent: parent.hash(),
                proposer: self.cfg.table.leader(view),
                timestamp_ms: 1_000 * view,
                payload_commitment: Digest(ns_commitment(SchemeKind::Avidm, 1, &root.0)),
                payload_len: 10,
                namespaces: 1,
                ns_table_root: root,
                vid: self.cfg.vid,
            };
            out.push((h.clone(), self.qc(&h)));
            parent = h;
        }
        out
    }

    /// The batches the two-chain rule decides on `blocks`: a block whose child is from the next view is decided
    /// with everything below it, the child and its QC being the proof.
    pub(super) fn batches(blocks: &[(Header, Qc<MacScheme>)]) -> Vec<Batch> {
        let mut out = Vec::new();
        let mut start = 0;
        for i in 0..blocks.len().saturating_sub(1) {
            if blocks[i + 1].0.view == blocks[i].0.view + 1 {
                let (child, child_qc) = blocks[i + 1].clone();
                out.push((blocks[start..=i].to_vec(), CommitProof { child, child_qc }));
                start = i + 1;
            }
        }
        out
    }
}

fn temp() -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crema.redb");
    (dir, path)
}

fn open(path: &Path) -> Store<MacScheme> {
    Store::open(path).unwrap()
}

fn safety_state(chain: &Chain, voted: View, proposed: View) -> PersistedState<MacScheme> {
    let blocks = chain.blocks(&[1, 2]);
    PersistedState {
        last_voted_view: voted,
        last_proposed_view: proposed,
        high_qc: blocks[1].1.clone(),
        decided: blocks[0].0.clone(),
    }
}

fn share(view: View, commitment: Digest, fill: u8) -> VidShare {
    VidShare { view, commitment, node: 2, common: Arc::new(vec![fill; 40]), share: vec![fill; 300] }
}

#[test]
fn open_creates_a_versioned_file_and_reopens_it() {
    let (_dir, path) = temp();
    let store = open(&path);
    assert_eq!(store.tip().unwrap(), None);
    assert_eq!(store.safety().unwrap(), None);
    drop(store);
    assert!(path.exists());
    let store = open(&path);
    assert_eq!(store.path(), path.as_path());
}

#[test]
fn a_file_of_another_version_is_refused() {
    let (_dir, path) = temp();
    drop(open(&path));
    let db = Database::create(&path).unwrap();
    tables::set_version(&db, FORMAT_VERSION + 1).unwrap();
    drop(db);
    let err = Store::<MacScheme>::open(&path).unwrap_err();
    assert!(matches!(err, StoreError::Version { found, supported: FORMAT_VERSION, .. } if found == FORMAT_VERSION + 1));
    let says = format!("format version {}; this build reads version {FORMAT_VERSION}", FORMAT_VERSION + 1);
    assert!(err.to_string().contains(&says), "{err}");
}

#[test]
fn foreign_files_are_refused() {
    let (dir, path) = temp();
    // A redb database of someone else's.
    let db = Database::create(&path).unwrap();
    let txn = db.begin_write().unwrap();
    txn.open_table(redb::TableDefinition::<u64, u64>::new("theirs")).unwrap().insert(1, 2).unwrap();
    txn.commit().unwrap();
    drop(db);
    let err = Store::<MacScheme>::open(&path).unwrap_err();
    assert!(matches!(err, StoreError::NotAStore { .. }), "{err}");
    // Not a database at all.
    let junk = dir.path().join("junk.redb");
    std::fs::write(&junk, vec![0x5a; 4096]).unwrap();
    assert!(matches!(Store::<MacScheme>::open(&junk), Err(StoreError::Open { .. })));
}

#[test]
fn the_safety_state_round_trips_survives_reopening_and_never_goes_back() {
    let (_dir, path) = temp();
    let chain = Chain::new();
    let store = open(&path);
    let s = safety_state(&chain, 5, 3);
    store.put_safety(&s).unwrap();
    assert_eq!(store.safety().unwrap(), Some(s.clone()));
    drop(store);
    let store = open(&path);
    assert_eq!(store.safety().unwrap(), Some(s.clone()));
    // Same views again (a new high QC, say) is fine; lower views are refused.
    store.put_safety(&s).unwrap();
    for (voted, proposed) in [(4, 3), (5, 2)] {
        let err = store.put_safety(&safety_state(&chain, voted, proposed)).unwrap_err();
        assert!(matches!(err, StoreError::Refused { what: "safety state", .. }), "{err}");
    }
    store.put_safety(&safety_state(&chain, 9, 8)).unwrap();
    assert_eq!(store.safety().unwrap().unwrap().last_voted_view, 9);
}

#[test]
fn decided_headers_are_stored_by_height_with_their_proofs() {
    let (_dir, path) = temp();
    let chain = Chain::new();
    let blocks = chain.blocks(&[1, 2, 3, 5, 6, 8, 9]);
    let batches = Chain::batches(&blocks);
    assert_eq!(batches.len(), 4, "[1] by 2, [2] by 3, [3, 5] by 6, [6, 8] by 9");
    let store = open(&path);
    for (b, proof) in &batches {
        store.put_decided(b, proof).unwrap();
    }
    assert_eq!(store.tip().unwrap(), Some(6));
    for (h, qc) in &blocks[..6] {
        assert_eq!(store.decided(h.height).unwrap(), Some((h.clone(), qc.clone())));
    }
    assert_eq!(store.decided(7).unwrap(), None);
    assert_eq!(store.decided(0).unwrap(), None, "genesis is not stored");
    // Deciding a stored batch again (a restarted node replays) changes nothing.
    store.put_decided(&batches[1].0, &batches[1].1).unwrap();
    assert_eq!(store.tip().unwrap(), Some(6));
}

#[test]
fn conflicting_or_malformed_decisions_are_refused() {
    let (_dir, path) = temp();
    let chain = Chain::new();
    let blocks = chain.blocks(&[1, 2, 3, 4]);
    let batches = Chain::batches(&blocks);
    let store = open(&path);
    store.put_decided(&batches[0].0, &batches[0].1).unwrap();
    // Another chain: different headers at heights 1.. (different views).
    let other = chain.blocks(&[11, 12, 13]);
    let ob = Chain::batches(&other);
    assert!(matches!(store.put_decided(&ob[0].0, &ob[0].1), Err(StoreError::Conflict { height: 1 })));
    // A block at height 2 whose parent is not the stored height 1.
    assert!(matches!(store.put_decided(&ob[1].0, &ob[1].1), Err(StoreError::Conflict { height: 2 })));
    let refused = |r: Result<(), StoreError>| matches!(r, Err(StoreError::Refused { what: "decided headers", .. }));
    assert!(refused(store.put_decided(&[], &batches[1].1)), "empty");
    let mut bad_qc = batches[1].0.clone();
    bad_qc[0].1 = blocks[0].1.clone();
    assert!(refused(store.put_decided(&bad_qc, &batches[1].1)), "a QC for another block");
    assert!(refused(store.put_decided(&[blocks[1].clone(), blocks[3].clone()], &batches[2].1)), "not linked");
    assert!(refused(store.put_decided(&batches[1].0, &batches[0].1)), "the proof of another block");
    // Nothing of the refused writes landed.
    assert_eq!(store.tip().unwrap(), Some(1));
}

#[test]
fn ranges_end_at_a_proof_and_pass_the_message_verifier() {
    let (_dir, path) = temp();
    let chain = Chain::new();
    let checker = chain.checker();
    // Views with gaps, so that not every height has a proof.
    let views: Vec<View> = (1..=40).filter(|v| v % 5 != 0).collect();
    let blocks = chain.blocks(&views);
    let store = open(&path);
    let mut proven = Vec::new();
    for (b, proof) in Chain::batches(&blocks) {
        proven.push(b.last().unwrap().0.height);
        store.put_decided(&b, &proof).unwrap();
    }
    let tip = store.tip().unwrap().unwrap();
    for from in 1..=tip {
        for max in [1, 2, 3, 7, 100] {
            let Some(range) = store.range(from, max).unwrap() else {
                // Only when no height in reach is proven (not even by a next-view child).
                let reach = from..(from + max as u64).min(tip + 1);
                assert!(reach.clone().all(|h| !proven.contains(&h)), "from {from} max {max}");
                continue;
            };
            assert_eq!(range.blocks[0].0.height, from);
            assert!(range.blocks.len() <= max);
            let top = range.blocks.last().unwrap().0.height;
            // It ends at the highest proven height in reach (every batch top; the chain has no other).
            let best = proven.iter().copied().filter(|h| (from..from + max as u64).contains(h)).max();
            assert_eq!(Some(top), best, "from {from} max {max}");
            checker.verify(Message::SyncResponse(range)).expect("a stored range verifies");
        }
    }
    assert_eq!(store.range(0, 10).unwrap(), None, "genesis is never served");
    assert_eq!(store.range(tip + 1, 10).unwrap(), None);
    assert_eq!(store.range(1, 0).unwrap(), None);
}

#[test]
fn ranges_are_capped_and_use_next_view_children_as_proofs() {
    let (_dir, path) = temp();
    let chain = Chain::new();
    let checker = chain.checker();
    // One batch of 600 headers decided at once (a long partition healing): only its top has a stored proof, but
    // every header's child is from the next view, so any range ends at its last header.
    let views: Vec<View> = (1..=601).collect();
    let blocks = chain.blocks(&views);
    let proof = CommitProof { child: blocks[600].0.clone(), child_qc: blocks[600].1.clone() };
    let store = open(&path);
    store.put_decided(&blocks[..600], &proof).unwrap();
    let range = store.range(1, usize::MAX).unwrap().unwrap();
    assert_eq!(range.blocks.len(), MAX_SYNC_BLOCKS);
    assert_eq!(range.proof.child, blocks[MAX_SYNC_BLOCKS].0, "proved by the stored next header");
    checker.verify(Message::SyncResponse(range)).unwrap();
    let range = store.range(590, 50).unwrap().unwrap();
    assert_eq!((range.blocks.len(), &range.proof), (11, &proof), "ends at the stored proof of the top");
    checker.verify(Message::SyncResponse(range)).unwrap();
}

#[test]
fn a_gap_in_the_heights_ends_a_range() {
    let (_dir, path) = temp();
    let chain = Chain::new();
    let blocks = chain.blocks(&(1..=10).collect::<Vec<_>>());
    let store = open(&path);
    let batches = Chain::batches(&blocks);
    // Heights 1-3 and 6-9 stored; 4 and 5 missing.
    for (b, proof) in batches.iter().filter(|(b, _)| !matches!(b[0].0.height, 4 | 5)) {
        store.put_decided(b, proof).unwrap();
    }
    let range = store.range(1, 20).unwrap().unwrap();
    assert_eq!(range.blocks.len(), 3);
    assert_eq!(store.range(6, 20).unwrap().unwrap().blocks.len(), 4);
    assert_eq!(store.range(4, 20).unwrap(), None);
}

#[test]
fn shares_and_payloads_round_trip_by_commitment() {
    let (_dir, path) = temp();
    let store = open(&path);
    let c = Digest([3; 32]);
    assert_eq!(store.share(&c).unwrap(), None);
    assert!(!store.has_share(&c).unwrap());
    assert_eq!(store.payload(&c).unwrap(), None);
    let s = share(4, c, 9);
    store.put_share(&s).unwrap();
    store.put_payload(4, &c, b"the payload").unwrap();
    drop(store);
    let store = open(&path);
    assert_eq!(store.share(&c).unwrap(), Some(s));
    assert!(store.has_share(&c).unwrap());
    assert!(!store.has_share(&Digest([4; 32])).unwrap());
    assert_eq!(store.payload(&c).unwrap().as_deref(), Some(&b"the payload"[..]));
    assert_eq!(store.share(&Digest([4; 32])).unwrap(), None);
    let huge = vec![0u8; records::MAX_BLOB_BYTES + 1];
    assert!(matches!(store.put_payload(5, &c, &huge), Err(StoreError::Refused { what: "da payload", .. })));
}

/// A store with a decided chain of views 1..=n (consecutive, so every height is proven), a share and a payload
/// for every decided view, and both for the undecided views in `extra`.
fn stocked(path: &Path, chain: &Chain, n: u64, extra: &[View]) -> Store<MacScheme> {
    let store = open(path);
    let blocks = chain.blocks(&(1..=n + 1).collect::<Vec<_>>());
    for (b, proof) in Chain::batches(&blocks) {
        store.put_decided(&b, &proof).unwrap();
    }
    for (h, _) in &blocks[..n as usize] {
        store.put_share(&share(h.view, h.payload_commitment, 1)).unwrap();
        store.put_payload(h.view, &h.payload_commitment, &[2; 50]).unwrap();
    }
    for &v in extra {
        let c = Digest([v as u8; 32]);
        store.put_share(&share(v, c, 3)).unwrap();
        store.put_payload(v, &c, &[4; 50]).unwrap();
    }
    store
}

#[test]
fn prune_keeps_the_last_blocks_and_drops_old_undecided_views() {
    let (_dir, path) = temp();
    let chain = Chain::new();
    // Decided views 1..=20 (heights = views); stray undecided data in views 3 and 25 (not in the chain).
    let store = stocked(&path, &chain, 20, &[3, 25]);
    let stray_old = Digest([3; 32]);
    let stray_new = Digest([25; 32]);
    let commitment = |h: u64| store.decided(h).unwrap().unwrap().0.payload_commitment;
    assert_eq!(
        store.prune(30).unwrap(),
        PruneStats { shares: 0, payloads: 0, through_view: None },
        "fewer blocks than kept"
    );
    let stats = store.prune(8).unwrap();
    // Heights 1..=12 go (12 blocks below the 8 kept) and the stray view 3.
    assert_eq!(stats, PruneStats { shares: 13, payloads: 13, through_view: Some(12) });
    for h in 1..=12 {
        assert_eq!(store.share(&commitment(h)).unwrap(), None, "height {h}");
        assert_eq!(store.payload(&commitment(h)).unwrap(), None, "height {h}");
        assert!(store.decided(h).unwrap().is_some(), "headers stay forever");
    }
    for h in 13..=20 {
        assert!(store.share(&commitment(h)).unwrap().is_some(), "height {h}");
        assert!(store.payload(&commitment(h)).unwrap().is_some(), "height {h}");
    }
    assert_eq!(store.share(&stray_old).unwrap(), None);
    assert!(store.share(&stray_new).unwrap().is_some(), "a view above the tip may still be decided");
    assert_eq!(store.prune(8).unwrap().shares, 0, "nothing left to prune");
    let stats = store.prune(0).unwrap();
    assert_eq!((stats.shares, stats.payloads, stats.through_view), (8, 8, Some(20)));
    assert!(store.share(&stray_new).unwrap().is_some());
}

#[test]
fn a_commitment_stored_again_in_a_later_view_outlives_the_earlier_one() {
    let (_dir, path) = temp();
    let chain = Chain::new();
    let store = stocked(&path, &chain, 10, &[]);
    // An identical (say, empty) payload in the undecided view 12: same commitment as decided height 2.
    let c = store.decided(2).unwrap().unwrap().0.payload_commitment;
    store.put_share(&share(12, c, 1)).unwrap();
    store.put_payload(12, &c, &[2; 50]).unwrap();
    // Storing it for an earlier view afterwards keeps the later view's record.
    store.put_share(&share(1, c, 1)).unwrap();
    assert_eq!(store.share(&c).unwrap().unwrap().view, 12);
    let stats = store.prune(2).unwrap();
    assert_eq!(stats.through_view, Some(8));
    assert_eq!(stats.shares, 7, "heights 1..=8 but the one still needed by view 12");
    assert!(store.share(&c).unwrap().is_some());
    assert!(store.payload(&c).unwrap().is_some());
}

/// Overwrites one record with raw bytes.
macro_rules! damage {
    ($store:expr, $def:expr, $key:expr, $bytes:expr) => {{
        let txn = $store.db.begin_write().unwrap();
        txn.open_table($def).unwrap().insert($key, &$bytes[..]).unwrap();
        txn.commit().unwrap();
    }};
}

#[test]
fn damaged_records_are_typed_errors_naming_table_and_key() {
    let (_dir, path) = temp();
    let chain = Chain::new();
    let store = stocked(&path, &chain, 6, &[]);
    let c3 = store.decided(3).unwrap().unwrap().0.payload_commitment;
    let is_corrupt = |e: StoreError, t: &str, k: &str| {
        assert!(matches!(&e, StoreError::Corrupt { table, key, .. } if *table == t && key == k), "{e}");
    };
    // A record moved under another key (a valid header record at the wrong height).
    let moved = store.db.begin_read().unwrap().open_table(HEADERS).unwrap().get(2).unwrap().unwrap().value().to_vec();
    damage!(store, HEADERS, 3, &moved);
    is_corrupt(store.decided(3).unwrap_err(), "headers", "3");
    is_corrupt(store.range(1, 10).unwrap_err(), "headers", "3");
    damage!(store, HEADERS, 4, b"CSH\x01short");
    is_corrupt(store.decided(4).unwrap_err(), "headers", "4");
    damage!(store, PROOFS, 6, b"CSP\x02");
    is_corrupt(store.range(5, 10).unwrap_err(), "proofs", "6");
    damage!(store, SAFETY, (), b"CSS\x01\x00");
    is_corrupt(store.safety().unwrap_err(), "safety", "()");
    is_corrupt(store.put_safety(&safety_state(&chain, 1, 1)).unwrap_err(), "safety", "()");
    damage!(store, Kind::Shares.table(), &c3.0, b"junk");
    is_corrupt(store.share(&c3).unwrap_err(), "shares", &c3.hex());
    damage!(store, Kind::Payloads.table(), &c3.0, b"CSD\x01\x01\x00\x00\x00\x00\x00\x00\x00\xff\xff\xff\xff");
    is_corrupt(store.payload(&c3).unwrap_err(), "payloads", &c3.hex());
    // Retention reports a damaged record it must look at rather than guess.
    is_corrupt(store.prune(1).unwrap_err(), "shares", &c3.hex());
    let err = store.decided(4).unwrap_err().to_string();
    assert!(err.starts_with("corrupt record in table headers at key 4: truncated"), "{err}");
}

/// The names of the files in a store's share or payload directory, sorted.
fn blob_files(store: &Store<MacScheme>, kind: &str) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(store.blobs.dir().join(kind))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn shares_and_payloads_are_files_written_once_and_deleted_with_their_blocks() {
    let (_dir, path) = temp();
    let chain = Chain::new();
    let store = stocked(&path, &chain, 10, &[]);
    assert_eq!(blob_files(&store, "shares").len(), 10);
    assert_eq!(blob_files(&store, "payloads").len(), 10);
    let c2 = store.decided(2).unwrap().unwrap().0.payload_commitment;
    // The same commitment in a later view: its file replaces the earlier view's, one file per commitment.
    store.put_payload(12, &c2, &[2; 50]).unwrap();
    assert_eq!(blob_files(&store, "payloads").len(), 10);
    assert!(blob_files(&store, "payloads").contains(&format!("{}-12", c2.hex())));
    // An earlier view after it writes no file.
    store.put_payload(1, &c2, &[2; 50]).unwrap();
    assert!(!blob_files(&store, "payloads").contains(&format!("{}-1", c2.hex())));
    let stats = store.prune(2).unwrap();
    assert_eq!((stats.shares, stats.payloads), (8, 7));
    assert_eq!(blob_files(&store, "shares").len(), 2, "the files go with their refs");
    assert_eq!(blob_files(&store, "payloads").len(), 3, "heights 9, 10 and view 12's");
    assert_eq!(store.payload(&c2).unwrap().as_deref(), Some(&[2u8; 50][..]));
}

#[test]
fn a_damaged_or_missing_file_is_a_corrupt_record_and_strays_are_swept_at_open() {
    let (_dir, path) = temp();
    let chain = Chain::new();
    let store = stocked(&path, &chain, 4, &[]);
    let c = |h: u64| store.decided(h).unwrap().unwrap().0.payload_commitment;
    let (c1, c2, c3, c4) = (c(1), c(2), c(3), c(4));
    let file = |kind: &str, c: Digest, view: View| store.blobs.dir().join(kind).join(format!("{}-{view}", c.hex()));
    let is_corrupt = |e: StoreError, t: &str, k: &Digest| {
        assert!(matches!(&e, StoreError::Corrupt { table, key, .. } if *table == t && *key == k.hex()), "{e}");
    };
    // One byte changed, the length kept: the hash catches it.
    let mut bytes = std::fs::read(file("payloads", c1, 1)).unwrap();
    *bytes.last_mut().unwrap() ^= 1;
    std::fs::write(file("payloads", c1, 1), &bytes).unwrap();
    is_corrupt(store.payload(&c1).unwrap_err(), "payloads", &c1);
    // Grown and truncated.
    std::fs::OpenOptions::new().append(true).open(file("shares", c2, 2)).unwrap().set_len(10_000).unwrap();
    is_corrupt(store.share(&c2).unwrap_err(), "shares", &c2);
    std::fs::OpenOptions::new().write(true).open(file("payloads", c2, 2)).unwrap().set_len(3).unwrap();
    is_corrupt(store.payload(&c2).unwrap_err(), "payloads", &c2);
    // Gone.
    std::fs::remove_file(file("shares", c3, 3)).unwrap();
    let err = store.share(&c3).unwrap_err();
    assert!(err.to_string().contains("missing"), "{err}");
    // What a crash leaves: a file whose transaction never committed, a temporary file, a foreign name.
    let stray = file("shares", Digest([9; 32]), 7);
    std::fs::write(&stray, b"never referenced").unwrap();
    let kept = blob_files(&store, "payloads");
    let tmp = store.blobs.dir().join("payloads").join(format!(".{}-4.abc.tmp", c4.hex()));
    std::fs::write(&tmp, b"half").unwrap();
    drop(store);
    let store = open(&path);
    assert!(!stray.exists() && !tmp.exists(), "unreferenced files are swept");
    assert_eq!(blob_files(&store, "payloads"), kept, "referenced files stay, damaged ones too");
    assert_eq!(store.payload(&c4).unwrap().as_deref(), Some(&[2u8; 50][..]));
}
