//! Simulation tests: every scenario over 200 seeds (n = 4, 7, 10 in rotation, f = ⌊(n−1)/3⌋ faulty), judged by the
//! safety, liveness and availability checkers (availability: every decided payload is rebuilt from the shares
//! honest nodes verified). Every run disperses real VID; seed 0 of every scenario runs with real BLS certificates
//! end to end; the rest use the MAC scheme for speed. A failure prints the seed and the command that reproduces it.

use crema_node::consensus::{BlsScheme, CommitRule, VoteRule};
use crema_node::net::checker::Violation;
use crema_node::net::scenario::{Rules, Scenario, run, run_with};
use crema_node::net::sweep::{Sweep, sweep};

const SEEDS: u64 = 200;
const BLS_EVERY: u64 = 200;

fn check(scenario: Scenario) -> Sweep {
    // A sweep keeps every core busy.
    let _machine = crate::machine::shared();
    let r = sweep(scenario, None, 0..SEEDS, Rules::default(), BLS_EVERY);
    for (seed, n, v) in &r.failures {
        let name = scenario.name();
        eprintln!(
            "{v}\n  reproduce: crema sim --scenario {name} --seed {seed} --seeds 1 --nodes {n} --bls-every {BLS_EVERY}"
        );
    }
    assert_eq!(r.bls_runs, 1);
    assert!(r.failures.is_empty(), "{}: {} violations", scenario.name(), r.failures.len());
    assert_eq!(r.runs, SEEDS);
    assert_eq!(r.recovered_runs, SEEDS, "every run recovered after GST");
    r
}

#[test]
fn happy() {
    let r = check(Scenario::Happy);
    assert!(r.decisions_per_run() >= 3.0);
}

#[test]
fn lossy() {
    check(Scenario::Lossy);
}

#[test]
fn partition() {
    check(Scenario::Partition);
}

#[test]
fn crash() {
    check(Scenario::Crash);
}

#[test]
fn crash_restart() {
    check(Scenario::CrashRestart);
}

#[test]
fn equivocate() {
    let r = check(Scenario::Equivocate);
    assert!(r.equivocations > 0, "equivocating leaders were never detected");
}

#[test]
fn withhold() {
    check(Scenario::Withhold);
}

#[test]
fn bad_shares() {
    let r = check(Scenario::BadShares);
    assert!(r.attacks > 0 && r.rejected > 0, "bad shares were sent and must have been caught: {r:?}");
}

#[test]
fn split_dispersal() {
    // Leaders send a third of the nodes another dispersal's shares: those fail, and the nodes fetch theirs.
    let r = check(Scenario::SplitDispersal);
    assert!(r.attacks > 0 && r.rejected > 0, "{r:?}");
}

/// Found at 10,000 seeds: a kzg seed (threshold 1/2) where the split-dispersing leader and the faulty voters left
/// the honest voters of a QC holding 4 of the 5 units needed. The block is available through the DA committee,
/// which the checker then requires; with avidm's 1/3 the honest voters always hold enough.
#[test]
fn split_dispersal_under_kzg_is_available_through_the_da_committee() {
    let out = run(Scenario::SplitDispersal, 10, 3500, Rules::default());
    assert!(out.violations.is_empty(), "{:?}", out.violations);
    assert!(out.available_by_da_only >= 1, "the seed no longer reaches the case: {out:?}");
}

#[test]
fn relay() {
    // Forged senders, rewritten shares and payloads, replays: every tampered copy is refused, progress continues.
    let r = check(Scenario::Relay);
    assert!(r.attacks > 100 && r.rejected > 100, "{r:?}");
}

#[test]
fn da_faulty() {
    check(Scenario::DaFaulty);
}

#[test]
fn offline_node_catches_up_by_range_sync() {
    // One node down for 220 views; `check` fails if it did not decide up to the others through range sync.
    let r = check(Scenario::Offline);
    assert!(r.synced >= 100 * SEEDS, "range sync must carry the gap: {} blocks synced", r.synced);
    assert!(r.max_view >= 220, "{r:?}");
}

#[test]
fn memory_stays_bounded_over_a_long_run() {
    let _machine = crate::machine::shared();
    // 4 nodes, MAC certificates, real VID: the footprint at 5,000 views must be that at 1,000 (within noise).
    let short = run(Scenario::Marathon, 4, 1, Rules { max_view: Some(1_000), ..Rules::default() });
    let long = run(Scenario::Marathon, 4, 1, Rules { max_view: Some(5_000), ..Rules::default() });
    assert!(short.violations.is_empty() && long.violations.is_empty(), "{long:?}");
    assert!(long.decided_height >= 4_900, "{long:?}");
    assert!(long.peak_footprint <= short.peak_footprint + 16, "{} vs {}", long.peak_footprint, short.peak_footprint);
}

#[test]
fn kzg_dispersal_end_to_end() {
    // A seed whose blocks use the KZG scheme (cells and proofs, every share provably consistent).
    let out = run(Scenario::Relay, 4, 500, Rules::default());
    assert!(out.violations.is_empty(), "{:?}", out.violations);
    assert!(out.decided_height >= 3, "{out:?}");
}

#[test]
fn forge() {
    let r = check(Scenario::Forge);
    assert!(r.rejected > 0, "forgeries were sent, so honest nodes must have rejected some");
}

#[test]
fn flood() {
    let r = check(Scenario::Flood);
    assert!(r.rejected > 0);
}

#[test]
fn amnesia() {
    check(Scenario::Amnesia);
}

#[test]
fn weighted() {
    check(Scenario::Weighted);
}

#[test]
fn mixed() {
    check(Scenario::Mixed);
}

#[test]
fn a_seed_reproduces_exactly() {
    for s in [Scenario::Mixed, Scenario::CrashRestart, Scenario::Relay] {
        assert_eq!(run(s, 7, 12345, Rules::default()), run(s, 7, 12345, Rules::default()));
    }
}

#[test]
fn broken_one_qc_commit_rule_is_caught() {
    let _machine = crate::machine::shared();
    // Committing on a single QC is unsafe: a QC'd block can be abandoned after a timeout. Crash-restart runs make
    // that happen often (a restarted leader lost its unpersisted high QC), and the safety checker must see it.
    let r = sweep(
        Scenario::CrashRestart,
        None,
        0..SEEDS,
        Rules { commit: CommitRule::UnsafeOneChain, ..Rules::default() },
        0,
    );
    let safety = r.failures.iter().filter(|(_, _, v)| matches!(v, Violation::Safety(_))).count();
    assert!(safety > 0, "the checkers missed a broken commit rule");
}

#[test]
fn broken_voting_rule_is_caught() {
    let _machine = crate::machine::shared();
    // Voting without the lock check lets an amnesiac leader fork off certified blocks; the checker must see it.
    let rules = Rules { vote: VoteRule::UnsafeAnyJustify, ..Rules::default() };
    let r = sweep(Scenario::Amnesia, None, 0..60, rules, 0);
    let safety = r.failures.iter().filter(|(_, _, v)| matches!(v, Violation::Safety(_))).count();
    assert!(safety > 0, "the checkers missed a broken voting rule");
}

#[test]
fn bls_end_to_end_with_forgers_on_seven_nodes() {
    // Forged and under-threshold certificates against real BLS aggregate verification.
    let out = run_with::<BlsScheme>(Scenario::Forge, 7, 3, Rules::default());
    assert!(out.violations.is_empty(), "{:?}", out.violations);
    assert!(out.rejected > 0 && out.decided_height >= 3, "{out:?}");
}

#[test]
fn every_scenario_runs_at_the_smallest_size_the_cli_accepts() {
    // `crema sim --scenario partition --nodes 1` panicked (an empty `gen_range(1..1)`); `crema sim` now refuses a
    // size below `min_nodes` (node/tests/bad_invocations.rs), so each scenario must run at exactly that size.
    for s in Scenario::ALL {
        let n = s.min_nodes();
        for seed in 0..3 {
            let out = run(s, n, seed, Rules::default());
            assert!(out.violations.is_empty(), "{} on {n} nodes, seed {seed}: {:?}", s.name(), out.violations);
        }
    }
}

#[test]
fn a_sweep_split_into_ranges_runs_every_seed_as_the_whole_sweep_does() {
    // Each seed's network size comes from the seed, not from its place in the sweep: seeds 2..6 on their own ran
    // seed 2 on 4 nodes where the sweep from 0 ran it on 10, so a split sweep was another sweep, and
    // `--seed 2 --seeds 1` did not repeat seed 2.
    let run = |seeds| sweep(Scenario::Happy, None, seeds, Rules::default(), 0);
    let (whole, head, tail) = (run(0..6), run(0..2), run(2..6));
    assert_eq!((whole.events, whole.decided), (head.events + tail.events, head.decided + tail.decided));
    let alone = run(2..3);
    assert_eq!(alone.events, run(0..3).events - head.events, "one seed alone runs as it does in a sweep");
}
