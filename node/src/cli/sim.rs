//! `crema sim`: seeded consensus simulations with fault injection, checked for safety, liveness and availability.
//!
//! One line per scenario: seeds run; how many of them used real BLS certificates; the mean highest decided height
//! per run; the mean and worst number of views the slowest honest node needed to decide after GST; violations
//! (must be 0); equivocations detected by honest nodes; attacks mounted (relay tampering and replays, bad shares
//! sent) beside the inputs honest nodes rejected (undecodable or unverifiable messages, bad shares and payloads);
//! blocks decided through range sync; the peak state footprint of any honest node (map entries: it must stay
//! bounded however long the run); the highest view reached; seeds per second (all runs, seeds running side by side
//! on every core); consensus events (node inputs) per second per core over the MAC runs and over the BLS runs.
//! Every run disperses real VID (avidm; kzg on every 1000th seed). A run that lasts longer than ten seconds
//! reports its view on stderr as it goes (the 100,000-view marathon), and the last line gives the process's peak
//! resident memory.
//! Wall-clock figures depend on the machine's load.

use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::bail;

use crate::consensus::{CommitRule, VoteRule};
use crate::net::scenario::{Rules, Scenario};
use crate::net::sweep::sweep;

/// Options of `crema sim`.
#[derive(Clone, Debug)]
pub struct SimOptions {
    /// A scenario name, or "all".
    pub scenario: String,
    /// How many seeds per scenario.
    pub seeds: u64,
    /// The first seed.
    pub seed: u64,
    /// A fixed network size (otherwise 4, 7 and 10 in rotation).
    pub nodes: Option<usize>,
    /// Run the deliberately broken one-QC commit rule (the checkers should report violations).
    pub broken_commit: bool,
    /// Run the deliberately broken voting rule that ignores the lock (the checkers should report violations).
    pub broken_vote: bool,
    /// Every this-many-th seed runs with real BLS certificates (0: never).
    pub bls_every: u64,
    /// Stop every run at this view (the `marathon` scenario's length).
    pub views: Option<u64>,
}

/// Runs the simulations and prints one line per scenario; exit code 1 on any violation.
pub fn run(opts: &SimOptions) -> anyhow::Result<ExitCode> {
    let scenarios: Vec<Scenario> = if opts.scenario == "all" {
        Scenario::ALL.to_vec()
    } else {
        match Scenario::from_name(&opts.scenario) {
            Some(s) => vec![s],
            None => {
                let names: Vec<_> = Scenario::ALL.iter().chain(&[Scenario::Marathon]).map(|s| s.name()).collect();
                bail!("unknown scenario {:?}; known: all, {}", opts.scenario, names.join(", "));
            }
        }
    };
    if opts.seeds == 0 {
        bail!("--seeds 0 runs nothing; ask for at least one seed");
    }
    let Some(end) = opts.seed.checked_add(opts.seeds) else {
        bail!("--seed {} plus --seeds {} passes the last seed, {}", opts.seed, opts.seeds, u64::MAX);
    };
    if let Some(n) = opts.nodes {
        if !(1..=1000).contains(&n) {
            bail!("--nodes must be between 1 and 1000");
        }
        // Faulty roles need f = (n - 1) / 3 >= 1, a partition two sides.
        if let Some(s) = scenarios.iter().find(|s| n < s.min_nodes()) {
            bail!("--nodes {n} is too few for scenario {} (it needs at least {} nodes)", s.name(), s.min_nodes());
        }
    }
    let rules = Rules {
        commit: if opts.broken_commit { CommitRule::UnsafeOneChain } else { CommitRule::TwoChain },
        vote: if opts.broken_vote { VoteRule::UnsafeAnyJustify } else { VoteRule::Safe },
        max_view: opts.views,
        progress: true,
    };
    // Write, not println!: a closed pipe (`crema sim | head`) must end the run with an error, not a panic.
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{:<15} {:>6} {:>4} {:>8} {:>11} {:>5} {:>7} {:>17} {:>7} {:>9} {:>9} {:>8} {:>11} {:>9}",
        "scenario",
        "seeds",
        "bls",
        "dec/run",
        "recov a/max",
        "viol",
        "equiv",
        "attacks/rejected",
        "synced",
        "peak mem",
        "max view",
        "seeds/s",
        "mac ev/s",
        "bls ev/s"
    )?;
    let mut total_violations = 0usize;
    for s in scenarios {
        let started = Instant::now();
        let r = sweep(s, opts.nodes, opts.seed..end, rules, opts.bls_every);
        let secs = started.elapsed().as_secs_f64().max(1e-9);
        writeln!(
            out,
            "{:<15} {:>6} {:>4} {:>8.1} {:>5.1}/{:<5} {:>5} {:>7} {:>8}/{:<8} {:>7} {:>9} {:>9} {:>8.1} {:>11.0} {:>9.0}",
            s.name(),
            r.runs,
            r.bls_runs,
            r.decisions_per_run(),
            r.mean_recovery(),
            r.recovery_max,
            r.failures.len(),
            r.equivocations,
            r.attacks,
            r.rejected,
            r.synced,
            r.peak_footprint,
            r.max_view,
            r.runs as f64 / secs,
            r.mac_events_per_sec(),
            r.bls_events_per_sec(),
        )?;
        if r.available_by_da_only > 0 {
            writeln!(
                out,
                "  {} decided blocks were available through the DA committee only (kzg's threshold 1/2 is above the \
                 honest voters' guaranteed third)",
                r.available_by_da_only
            )?;
        }
        for (seed, n, v) in r.failures.iter().take(10) {
            writeln!(
                out,
                "  FAIL {v}\n    reproduce: crema sim --scenario {} --seed {seed} --seeds 1 --nodes {n} --bls-every {}{}{}",
                s.name(),
                opts.bls_every,
                if opts.broken_commit { " --broken-commit" } else { "" },
                if opts.broken_vote { " --broken-vote" } else { "" },
            )?;
        }
        total_violations += r.failures.len();
    }
    writeln!(out, "violations: {total_violations}")?;
    if let Some(kib) = peak_rss_kib() {
        writeln!(out, "peak resident memory: {:.1} MiB", kib as f64 / 1024.0)?;
    }
    Ok(if total_violations == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// The process's peak resident set (`VmHWM` in `/proc/self/status`), where the system reports it.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
