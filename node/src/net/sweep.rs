//! Many seeds of one scenario, summarised: what `crema sim` prints and what the simulation tests assert on.

use std::ops::Range;
use std::time::Instant;

use super::checker::Violation;
use super::scenario::{Rules, Scenario, run, run_with};
use crate::consensus::BlsScheme;
use crate::consensus::View;

/// The network sizes a sweep rotates through when none is fixed.
pub const SIZES: [usize; 3] = [4, 7, 10];

/// The summary of a sweep.
#[derive(Clone, Debug, Default)]
pub struct Sweep {
    /// Seeds run.
    pub runs: u64,
    /// Node inputs handled, over all runs.
    pub events: u64,
    /// Sum of the highest decided height per run.
    pub decided: u64,
    /// Sum and maximum of the views needed to decide after GST, over runs where every node did.
    pub recovery_sum: View,
    /// The worst recovery.
    pub recovery_max: View,
    /// Runs contributing to `recovery_sum`.
    pub recovered_runs: u64,
    /// Equivocations detected by honest nodes.
    pub equivocations: u64,
    /// Invalid inputs rejected by honest nodes (undecodable or unverifiable messages, bad shares, bad payloads).
    pub rejected: u64,
    /// Attacks mounted (relay tampering and replays, bad shares and payloads sent by Byzantine nodes).
    pub attacks: u64,
    /// Blocks honest nodes decided through range sync.
    pub synced: u64,
    /// The largest state footprint (map entries) of any honest node in any run.
    pub peak_footprint: usize,
    /// The highest view reached in any run.
    pub max_view: u64,
    /// Runs that used BLS certificates end to end.
    pub bls_runs: u64,
    /// Events and wall-clock seconds of the MAC runs only (BLS runs are pairing-bound; mixing them in would hide
    /// the simulator's own throughput). For reports only: wall-clock time never feeds back into a run.
    pub mac_events: u64,
    /// See `mac_events`.
    pub mac_secs: f64,
    /// Every violation, with the seed and network size that reproduce it.
    pub failures: Vec<(u64, usize, Violation)>,
}

impl Sweep {
    /// Mean decided height per run.
    pub fn decisions_per_run(&self) -> f64 {
        self.decided as f64 / self.runs.max(1) as f64
    }

    /// Simulator throughput over the MAC runs, in node inputs per second.
    pub fn mac_events_per_sec(&self) -> f64 {
        self.mac_events as f64 / self.mac_secs.max(1e-9)
    }

    /// Mean views to recover after GST.
    pub fn mean_recovery(&self) -> f64 {
        self.recovery_sum as f64 / self.recovered_runs.max(1) as f64
    }
}

/// The network size used for the `i`-th seed of a sweep: `fixed`, or rotating through [`SIZES`].
pub fn size_for(fixed: Option<usize>, i: u64) -> usize {
    fixed.unwrap_or(SIZES[(i % SIZES.len() as u64) as usize])
}

/// Whether a seed runs with BLS certificates: every `bls_every`-th seed (0 = never).
pub fn uses_bls(seed: u64, bls_every: u64) -> bool {
    bls_every > 0 && seed.is_multiple_of(bls_every)
}

/// Runs `seeds` of `scenario`; every `bls_every`-th seed uses real BLS certificates, the rest MACs.
pub fn sweep(scenario: Scenario, nodes: Option<usize>, seeds: Range<u64>, rules: Rules, bls_every: u64) -> Sweep {
    let mut s = Sweep::default();
    for (i, seed) in seeds.enumerate() {
        let n = size_for(nodes, i as u64);
        let out = if uses_bls(seed, bls_every) {
            s.bls_runs += 1;
            run_with::<BlsScheme>(scenario, n, seed, rules)
        } else {
            let started = Instant::now();
            let out = run(scenario, n, seed, rules);
            s.mac_secs += started.elapsed().as_secs_f64();
            s.mac_events += out.events;
            out
        };
        s.runs += 1;
        s.events += out.events;
        s.decided += out.decided_height;
        s.equivocations += out.equivocations;
        s.rejected += out.rejected;
        s.attacks += out.attacks;
        s.synced += out.synced;
        s.peak_footprint = s.peak_footprint.max(out.peak_footprint);
        s.max_view = s.max_view.max(out.max_view);
        if let Some(r) = out.recovery_views {
            s.recovery_sum += r;
            s.recovery_max = s.recovery_max.max(r);
            s.recovered_runs += 1;
        }
        s.failures.extend(out.violations.into_iter().map(|v| (seed, n, v)));
    }
    s
}
