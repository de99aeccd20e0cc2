//! Simulation tests: every scenario over 200 seeds (n = 4, 7, 10 in rotation, f = ⌊(n−1)/3⌋ faulty), judged by the
//! safety, liveness and availability checkers. Seed 0 of every scenario runs with real BLS certificates end to
//! end (about a second each: pairings); the rest use the MAC scheme for speed. A failure prints the seed and the command that reproduces it.

use crema_node::consensus::{BlsScheme, CommitRule, VoteRule};
use crema_node::net::checker::Violation;
use crema_node::net::scenario::{Rules, Scenario, run, run_with};
use crema_node::net::sweep::{Sweep, sweep};

const SEEDS: u64 = 200;
const BLS_EVERY: u64 = 200;

fn check(scenario: Scenario) -> Sweep {
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
    check(Scenario::BadShares);
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
    for s in [Scenario::Mixed, Scenario::CrashRestart] {
        assert_eq!(run(s, 7, 12345, Rules::default()), run(s, 7, 12345, Rules::default()));
    }
}

#[test]
fn broken_one_qc_commit_rule_is_caught() {
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
