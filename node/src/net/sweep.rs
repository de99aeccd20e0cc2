//! Many seeds of one scenario, summarised: what `crema sim` prints and what the simulation tests assert on.

use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use super::checker::Violation;
use super::scenario::{Rules, Scenario, run, run_with};
use crate::consensus::BlsScheme;
use crate::consensus::View;

/// The stack of a simulation thread (the main thread's default: a run nests the core's handlers in the engine's).
const RUN_STACK_BYTES: usize = 8 << 20;

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
    /// Decided blocks whose honest VID shares fell short of the kzg threshold, available through the DA committee.
    pub available_by_da_only: u64,
    /// The largest state footprint (map entries) of any honest node in any run.
    pub peak_footprint: usize,
    /// The highest view reached in any run.
    pub max_view: u64,
    /// Runs that used BLS certificates end to end.
    pub bls_runs: u64,
    /// Events and wall-clock seconds of the MAC runs only (BLS runs are pairing-bound; mixing them in would hide
    /// the simulator's own throughput), the seconds summed run by run: runs proceed side by side on every core, so
    /// their ratio is per core. For reports only: wall-clock time never feeds back into a run.
    pub mac_events: u64,
    /// See `mac_events`.
    pub mac_secs: f64,
    /// Events and summed per-run seconds of the BLS runs (real pairings for every certificate and vote).
    pub bls_events: u64,
    /// See `bls_events`.
    pub bls_secs: f64,
    /// Every violation, with the seed and network size that reproduce it.
    pub failures: Vec<(u64, usize, Violation)>,
}

impl Sweep {
    /// Mean decided height per run.
    pub fn decisions_per_run(&self) -> f64 {
        self.decided as f64 / self.runs.max(1) as f64
    }

    /// Simulator throughput over the MAC runs, in node inputs per second on one core.
    pub fn mac_events_per_sec(&self) -> f64 {
        self.mac_events as f64 / self.mac_secs.max(1e-9)
    }

    /// The same over the BLS runs (0 when none ran).
    pub fn bls_events_per_sec(&self) -> f64 {
        if self.bls_runs == 0 { 0.0 } else { self.bls_events as f64 / self.bls_secs.max(1e-9) }
    }

    /// Mean views to recover after GST.
    pub fn mean_recovery(&self) -> f64 {
        self.recovery_sum as f64 / self.recovered_runs.max(1) as f64
    }
}

/// The network size a seed runs with: `fixed`, or rotating through [`SIZES`] by the seed itself, so a seed
/// runs the same whatever sweep it is in (`--seed 3500 --seeds 1` repeats seed 3500 of a sweep from 0, and a
/// sweep split into ranges is the sweep).
pub fn size_for(fixed: Option<usize>, seed: u64) -> usize {
    fixed.unwrap_or(SIZES[(seed % SIZES.len() as u64) as usize])
}

/// Whether a seed runs with BLS certificates: every `bls_every`-th seed (0 = never).
pub fn uses_bls(seed: u64, bls_every: u64) -> bool {
    bls_every > 0 && seed.is_multiple_of(bls_every)
}

/// Runs `seeds` of `scenario` on every core (each run on one thread, deterministic by its seed, so the summary does
/// not depend on the core count); every `bls_every`-th seed uses real BLS certificates, the rest MACs.
pub fn sweep(scenario: Scenario, nodes: Option<usize>, seeds: Range<u64>, rules: Rules, bls_every: u64) -> Sweep {
    let first = seeds.start;
    let count = seeds.end.saturating_sub(seeds.start);
    // Plain threads pulling seeds from a counter, not the rayon pool: a run installs its own one-thread pool, and a
    // rayon worker waiting on it would steal the next run onto the same stack.
    let next = AtomicU64::new(0);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(count.max(1) as usize);
    let mut s = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                std::thread::Builder::new()
                    .name("sim".into())
                    .stack_size(RUN_STACK_BYTES)
                    .spawn_scoped(scope, || {
                        let mut s = Sweep::default();
                        loop {
                            let i = next.fetch_add(1, Ordering::Relaxed);
                            if i >= count {
                                return s;
                            }
                            let seed = first + i;
                            s.add_run(scenario, size_for(nodes, seed), seed, rules, bls_every);
                        }
                    })
                    .expect("spawn a simulation thread")
            })
            .collect();
        workers
            .into_iter()
            .fold(Sweep::default(), |all, w| all.merge(w.join().unwrap_or_else(|e| std::panic::resume_unwind(e))))
    });
    s.failures.sort_by_key(|(seed, _, _)| *seed);
    s
}

impl Sweep {
    /// Runs one seed and adds its outcome.
    fn add_run(&mut self, scenario: Scenario, n: usize, seed: u64, rules: Rules, bls_every: u64) {
        let bls = uses_bls(seed, bls_every);
        let started = Instant::now();
        let out = if bls { run_with::<BlsScheme>(scenario, n, seed, rules) } else { run(scenario, n, seed, rules) };
        let secs = started.elapsed().as_secs_f64();
        let recovery = out.recovery_views;
        let one = Sweep {
            runs: 1,
            events: out.events,
            decided: out.decided_height,
            recovery_sum: recovery.unwrap_or(0),
            recovery_max: recovery.unwrap_or(0),
            recovered_runs: u64::from(recovery.is_some()),
            equivocations: out.equivocations,
            rejected: out.rejected,
            attacks: out.attacks,
            synced: out.synced,
            available_by_da_only: out.available_by_da_only,
            peak_footprint: out.peak_footprint,
            max_view: out.max_view,
            bls_runs: u64::from(bls),
            mac_events: if bls { 0 } else { out.events },
            mac_secs: if bls { 0.0 } else { secs },
            bls_events: if bls { out.events } else { 0 },
            bls_secs: if bls { secs } else { 0.0 },
            failures: out.violations.into_iter().map(|v| (seed, n, v)).collect(),
        };
        *self = std::mem::take(self).merge(one);
    }

    /// The summary of two disjoint sets of runs.
    fn merge(mut self, o: Sweep) -> Sweep {
        self.runs += o.runs;
        self.events += o.events;
        self.decided += o.decided;
        self.recovery_sum += o.recovery_sum;
        self.recovery_max = self.recovery_max.max(o.recovery_max);
        self.recovered_runs += o.recovered_runs;
        self.equivocations += o.equivocations;
        self.rejected += o.rejected;
        self.attacks += o.attacks;
        self.synced += o.synced;
        self.available_by_da_only += o.available_by_da_only;
        self.peak_footprint = self.peak_footprint.max(o.peak_footprint);
        self.max_view = self.max_view.max(o.max_view);
        self.bls_runs += o.bls_runs;
        self.mac_events += o.mac_events;
        self.mac_secs += o.mac_secs;
        self.bls_events += o.bls_events;
        self.bls_secs += o.bls_secs;
        self.failures.extend(o.failures);
        self
    }
}
