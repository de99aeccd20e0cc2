//! Crash safety of the store: a child process (this test binary again, in writer mode) stores a node's life in a
//! loop — safety state, its share, the DA payload, the decided header, retention now and then — and acknowledges
//! each call on stdout after it returns. The parent SIGKILLs it at a random moment, reopens the file and checks
//! that it opens and that every acknowledged write is there, intact; then starts the writer again on the same file
//! (it resumes from the stored tip), several times over.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use crema_node::consensus::mac::MacCert;
use crema_node::consensus::{CommitProof, Digest, Header, MacScheme, PersistedState, Qc, VidShare, View};
use crema_node::store::Store;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Set (to the directory of the store) in the child: run as the writer.
const CHILD_ENV: &str = "CREMA_STORE_CRASH_DIR";
/// Blocks whose shares and payloads the writer keeps when it prunes.
const KEEP: u64 = 20;
const ROUNDS: usize = 5;

/// The header the writer decides at `height` (in view `height`, so every block proves its parent decided).
fn header(height: u64, parent: Digest) -> Header {
    let c = blake3::hash(&height.to_le_bytes());
    Header { view: height, height, parent, payload_commitment: Digest(*c.as_bytes()), ..Header::genesis() }
}

fn qc(h: &Header) -> Qc<MacScheme> {
    // The store does not verify signatures (the verifier did, before consensus decided): any certificate does.
    Qc { view: h.view, block: h.hash(), cert: MacCert::default() }
}

/// The share and payload the writer stores for view `v`: sizes vary so records span several pages.
fn share_of(h: &Header) -> VidShare {
    let len = 100 + (h.view as usize * 7919) % 20_000;
    VidShare {
        view: h.view,
        commitment: h.payload_commitment,
        node: 1,
        common: Arc::new(vec![h.view as u8; 64]),
        share: vec![(h.view >> 3) as u8; len],
    }
}

fn payload_of(h: &Header) -> Vec<u8> {
    vec![(h.view as u8).wrapping_mul(3); 1_000 + (h.view as usize * 104_729) % 60_000]
}

/// The writer: resumes from the stored tip (pruning first, as a restarted node does) and writes until killed.
fn write_forever(dir: &Path) {
    let store = Store::<MacScheme>::open(&dir.join("crema.redb")).expect("the writer opens the store");
    store.prune(KEEP).expect("prune at start");
    let tip = store.tip().expect("tip").unwrap_or(0);
    let mut parent = match tip {
        0 => Header::genesis(),
        t => store.decided(t).expect("read the tip").expect("the tip is stored").0,
    };
    loop {
        let h = header(parent.height + 1, parent.hash());
        let child = header(h.height + 1, h.hash());
        let safety =
            PersistedState { last_voted_view: h.view, last_proposed_view: h.view, high_qc: qc(&h), decided: parent };
        store.put_safety(&safety).expect("put_safety");
        println!("ACK safety {}", h.view);
        store.put_share(&share_of(&h)).expect("put_share");
        println!("ACK share {}", h.view);
        store.put_payload(h.view, &h.payload_commitment, &payload_of(&h)).expect("put_payload");
        println!("ACK payload {}", h.view);
        let proof = CommitProof { child_qc: qc(&child), child };
        store.put_decided(&[(h.clone(), qc(&h))], &proof).expect("put_decided");
        println!("ACK decided {}", h.height);
        if h.height.is_multiple_of(10) {
            store.prune(KEEP).expect("prune");
            println!("ACK pruned {}", h.height);
        }
        parent = h;
    }
}

/// The writer mode of this binary; a no-op in a normal test run.
#[test]
fn child_writer() {
    if let Some(dir) = std::env::var_os(CHILD_ENV) {
        write_forever(Path::new(&dir));
    }
}

/// [`child_writer`]'s name as the test harness knows it: its path below the test binary's root module.
fn child_test() -> String {
    let module = module_path!().split_once("::").map_or("", |(_root, rest)| rest);
    format!("{module}::child_writer")
}

/// The highest acknowledged view or height of each kind.
#[derive(Default, Debug)]
struct Acks {
    safety: View,
    share: View,
    payload: View,
    decided: u64,
    count: usize,
}

impl Acks {
    fn note(&mut self, line: &str) {
        let mut words = line.split_whitespace();
        let (Some("ACK"), Some(kind), Some(n)) = (words.next(), words.next(), words.next()) else { return };
        let Ok(n) = n.parse::<u64>() else { return };
        let slot = match kind {
            "safety" => &mut self.safety,
            "share" => &mut self.share,
            "payload" => &mut self.payload,
            "decided" => &mut self.decided,
            _ => return,
        };
        *slot = (*slot).max(n);
        self.count += 1;
    }
}

/// Runs the writer until it has acknowledged `acks` writes (plus a random pause), SIGKILLs it, and returns every
/// acknowledgement it printed.
fn run_and_kill(dir: &Path, acks: usize, pause_us: u64) -> Acks {
    let exe = std::env::current_exe().expect("the test binary's path");
    let mut child = Command::new(exe)
        .args(["--exact", &child_test(), "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn the writer");
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen = Acks::default();
    while seen.count < acks {
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(line) => seen.note(&line),
            Err(e) => panic!("the writer stopped acknowledging after {seen:?}: {e}"),
        }
    }
    std::thread::sleep(Duration::from_micros(pause_us));
    child.kill().expect("SIGKILL the writer"); // Child::kill is SIGKILL on Unix
    let status = child.wait().expect("reap the writer");
    assert!(!status.success(), "the writer was killed, not finished: {status}");
    reader.join().expect("the reader thread");
    // Acknowledgements printed before the kill are still in the pipe.
    for line in rx.try_iter() {
        seen.note(&line);
    }
    seen
}

/// Checks everything the acknowledgements promise, and the store's own consistency, after a round that started
/// at decided height `start`; returns the tip.
fn check(dir: &Path, start: u64, acks: &Acks) -> u64 {
    let store = Store::<MacScheme>::open(&dir.join("crema.redb")).expect("the store opens after SIGKILL");
    let safety = store.safety().expect("read safety").expect("a safety state");
    assert!(safety.last_voted_view >= acks.safety, "voted {} < acknowledged {}", safety.last_voted_view, acks.safety);
    let tip = store.tip().expect("tip").expect("decided headers");
    assert!(tip >= acks.decided, "tip {tip} < acknowledged {}", acks.decided);
    // At most one write past the last acknowledgement can have landed.
    assert!(tip <= acks.decided + 1 && safety.last_voted_view <= acks.safety + 1);
    // The decided chain is whole and linked from genesis.
    let mut parent = Header::genesis();
    for height in 1..=tip {
        let (h, q) = store.decided(height).expect("read a header").expect("no gap in decided heights");
        assert_eq!((h.parent, q), (parent.hash(), qc(&h)));
        parent = h;
    }
    // Every acknowledged share and payload not yet old enough to prune is there, intact.
    let kept_from = tip.saturating_sub(KEEP) + 1;
    for view in kept_from.max(1)..=acks.share.max(acks.payload) {
        let h = match store.decided(view).expect("read a header") {
            Some((h, _)) => h,
            None => header(view, parent.hash()), // acknowledged but not decided before the kill: view = tip + 1
        };
        if view <= acks.share {
            assert_eq!(store.share(&h.payload_commitment).expect("read a share"), Some(share_of(&h)), "view {view}");
        }
        if view <= acks.payload {
            assert_eq!(store.payload(&h.payload_commitment).expect("read a payload"), Some(payload_of(&h)));
        }
    }
    // Retention ran: at the round's start, and at every multiple of 10 the writer went past.
    let pruned_at = start.max(tip.saturating_sub(1) / 10 * 10);
    for height in 1..=pruned_at.saturating_sub(KEEP) {
        let h = store.decided(height).expect("read").expect("headers stay").0;
        assert_eq!(store.share(&h.payload_commitment).expect("read"), None, "height {height} pruned");
    }
    let range = store.range(1, 1000).expect("range").expect("a range from genesis");
    assert!(!range.blocks.is_empty());
    tip
}

#[test]
fn a_writer_killed_at_any_moment_loses_nothing_it_stored() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let mut rng = ChaCha8Rng::seed_from_u64(13);
    let mut tip = 0;
    for round in 0..ROUNDS {
        let acks = run_and_kill(dir.path(), rng.gen_range(8..120), rng.gen_range(0..3_000));
        eprintln!("round {round}: killed after {acks:?}");
        tip = check(dir.path(), tip, &acks);
    }
}
