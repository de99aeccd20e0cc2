//! Named simulation scenarios: each turns `(n, seed)` into a [`SimConfig`]. Which nodes are faulty, when GST
//! comes, the partition and the crash times are all drawn from the seed, so a failing seed is the whole repro.

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::byzantine::Role;
use super::memory::{Crash, Sim, SimConfig, SimOutcome, scheme_for};
use crate::consensus::{CommitRule, Config, MacScheme, NodeId, SimScheme, StakeTable, VidParams, VoteRule};

/// Every this-many-th seed disperses its blocks with the kzg scheme (the rest with avidm): KZG cell proofs cost
/// ~0.1 s per blob, so they are a share of the seeds, not all of them.
pub const KZG_EVERY: u64 = 1000;

/// A named scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scenario {
    /// No faults, short delays.
    Happy,
    /// Drops, duplicates and long random delays (reordering) until GST.
    Lossy,
    /// A random split of the network until GST.
    Partition,
    /// f nodes crashed for the whole run.
    Crash,
    /// f nodes crash (possibly mid-step) and restart from persisted state, before GST, with drops.
    CrashRestart,
    /// f equivocating leaders (two blocks, two payloads, two dispersals per view).
    Equivocate,
    /// f withholding leaders.
    Withhold,
    /// f leaders sending invalid VID shares.
    BadShares,
    /// f leaders sending a third of the nodes shares of another dispersal (equivocating dispersal).
    SplitDispersal,
    /// f nodes forging and under-filling certificates.
    Forge,
    /// f nodes flooding future-view votes and junk.
    Flood,
    /// f nodes attacking the lock (low high-QC claims in timeouts, proposals on old blocks), with drops until GST.
    Amnesia,
    /// Unequal stakes (leader election by stake), a DA committee that is a subset of the nodes, drops until GST.
    Weighted,
    /// Every message passes an untrusted relay that forges senders, rewrites shares and payloads, replays old data.
    Relay,
    /// f DA committee members withholding the payload (no DA vote, no shares served) or corrupting what they serve.
    DaFaulty,
    /// One node offline for 200+ views, then back: it must catch up by range sync of decided headers.
    Offline,
    /// f nodes with random faulty roles, plus a partition and drops until GST.
    Mixed,
    /// A long happy run (set its length with `max_view`): memory per node must stay bounded. Not in `ALL`.
    Marathon,
}

impl Scenario {
    /// Every scenario `crema sim --scenario all` runs, in report order.
    pub const ALL: [Scenario; 17] = [
        Scenario::Happy,
        Scenario::Lossy,
        Scenario::Partition,
        Scenario::Crash,
        Scenario::CrashRestart,
        Scenario::Equivocate,
        Scenario::Withhold,
        Scenario::BadShares,
        Scenario::SplitDispersal,
        Scenario::Forge,
        Scenario::Flood,
        Scenario::Amnesia,
        Scenario::Weighted,
        Scenario::Relay,
        Scenario::DaFaulty,
        Scenario::Offline,
        Scenario::Mixed,
    ];

    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Happy => "happy",
            Scenario::Lossy => "lossy",
            Scenario::Partition => "partition",
            Scenario::Crash => "crash",
            Scenario::CrashRestart => "crash-restart",
            Scenario::Equivocate => "equivocate",
            Scenario::Withhold => "withhold",
            Scenario::BadShares => "bad-shares",
            Scenario::SplitDispersal => "split-dispersal",
            Scenario::Forge => "forge",
            Scenario::Flood => "flood",
            Scenario::Amnesia => "amnesia",
            Scenario::Weighted => "weighted",
            Scenario::Relay => "relay",
            Scenario::DaFaulty => "da-faulty",
            Scenario::Offline => "offline",
            Scenario::Mixed => "mixed",
            Scenario::Marathon => "marathon",
        }
    }

    /// Parses a command-line name.
    pub fn from_name(name: &str) -> Option<Scenario> {
        Scenario::ALL.into_iter().chain([Scenario::Marathon]).find(|s| s.name() == name)
    }

    /// The fewest nodes the scenario makes sense for (a partition needs two sides; faulty roles need f ≥ 1).
    pub fn min_nodes(self) -> usize {
        match self {
            Scenario::Happy | Scenario::Lossy | Scenario::Weighted | Scenario::Relay | Scenario::Marathon => 1,
            Scenario::Partition => 2,
            _ => 4,
        }
    }

    /// The run configuration for `n` nodes and `seed` (`n` at least [`Scenario::min_nodes`], at most 65 535).
    pub fn config(self, n: usize, seed: u64) -> SimConfig {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5ce7_a210);
        let f = n.saturating_sub(1) / 3;
        let mut ids: Vec<NodeId> = (0..n as NodeId).collect();
        ids.shuffle(&mut rng);
        let faulty = &ids[..f];
        let mut roles = vec![Role::Honest; n];
        // Every table below has 1..=65 535 entries (the CLI validates --nodes) and a non-zero total, so building
        // it cannot fail.
        let table = |stakes: Vec<u64>| StakeTable::new(stakes).expect("a valid simulated stake table");
        let mut consensus = Config::new(table(vec![1; n]), 100);
        let scheme = scheme_for(seed, KZG_EVERY);
        consensus.vid = VidParams { scheme, threshold: scheme.default_threshold() };
        let mut cfg = SimConfig {
            seed,
            consensus,
            roles: Vec::new(),
            delay_ms: (1, 10),
            pre_gst_delay_ms: (1, 10),
            drop_prob: 0.0,
            dup_prob: 0.0,
            gst_ms: 0,
            partition: Vec::new(),
            crashes: Vec::new(),
            must_catch_up: Vec::new(),
            relay: false,
            txs_per_block: 4,
            end_ms: 0,
            target_decisions: 3,
            max_view: None,
            progress: false,
            liveness_bound: 100,
        };
        let lossy = |cfg: &mut SimConfig, rng: &mut ChaCha8Rng| {
            cfg.pre_gst_delay_ms = (1, 60);
            cfg.drop_prob = 0.2;
            cfg.dup_prob = 0.05;
            cfg.gst_ms = rng.gen_range(300..1500);
        };
        let role_all = |roles: &mut Vec<Role>, r: Role| faulty.iter().for_each(|&i| roles[i as usize] = r);
        match self {
            Scenario::Happy => {}
            Scenario::Lossy => lossy(&mut cfg, &mut rng),
            Scenario::Partition => {
                let k = rng.gen_range(1..n);
                cfg.partition = ids[..k].to_vec();
                cfg.pre_gst_delay_ms = (1, 20);
                cfg.gst_ms = rng.gen_range(500..2000);
            }
            Scenario::Crash => {
                role_all(&mut roles, Role::Crashed);
                cfg.dup_prob = 0.05;
            }
            Scenario::CrashRestart => {
                lossy(&mut cfg, &mut rng);
                cfg.drop_prob = 0.05;
                cfg.gst_ms = rng.gen_range(1000..2500);
                for &node in faulty {
                    let mut t = rng.gen_range(0..400);
                    while t + 100 < cfg.gst_ms {
                        let restart = (t + rng.gen_range(1..400)).min(cfg.gst_ms - 1);
                        cfg.crashes.push(Crash { node, at_ms: t, restart_ms: restart, restart_after_views: None });
                        t = restart + rng.gen_range(50..800);
                    }
                }
            }
            Scenario::Equivocate => {
                role_all(&mut roles, Role::Equivocator);
                cfg.dup_prob = 0.05;
            }
            Scenario::Withhold => role_all(&mut roles, Role::Withholder),
            Scenario::BadShares => role_all(&mut roles, Role::BadShares),
            Scenario::SplitDispersal => role_all(&mut roles, Role::SplitDisperser),
            Scenario::Forge => role_all(&mut roles, Role::Forger),
            Scenario::Flood => role_all(&mut roles, Role::Flooder),
            Scenario::Amnesia => {
                role_all(&mut roles, Role::Amnesiac);
                lossy(&mut cfg, &mut rng);
            }
            Scenario::Weighted => {
                let stakes = (0..n).map(|_| rng.gen_range(1..=5)).collect();
                cfg.consensus = Config { table: table(stakes), ..cfg.consensus.clone() };
                // A DA committee smaller than the validator set (every node still gets its VID share).
                let mut committee: Vec<u64> = (0..n).map(|_| u64::from(rng.gen_bool(0.7))).collect();
                committee[ids[0] as usize] = 1;
                cfg.consensus.da_table = table(committee);
                lossy(&mut cfg, &mut rng);
            }
            Scenario::Relay => {
                cfg.relay = true;
                cfg.dup_prob = 0.02;
            }
            Scenario::DaFaulty => {
                for &i in faulty {
                    roles[i as usize] = if rng.gen_bool(0.5) { Role::DaWithholder } else { Role::DaCorrupter };
                }
            }
            Scenario::Offline => {
                // One node (the fault budget) is down from early on until 200+ views later, then must catch up.
                let node = faulty[0];
                let at_ms = rng.gen_range(100..400);
                cfg.crashes.push(Crash { node, at_ms, restart_ms: 0, restart_after_views: Some(220) });
                cfg.must_catch_up.push(node);
                // The others run on meanwhile: the liveness bound must not end the run before the restart.
                cfg.liveness_bound = 2_000;
            }
            Scenario::Mixed => {
                const BAD: [Role; 11] = [
                    Role::Crashed,
                    Role::Equivocator,
                    Role::Withholder,
                    Role::BadShares,
                    Role::SplitDisperser,
                    Role::Forger,
                    Role::Flooder,
                    Role::Amnesiac,
                    Role::DaWithholder,
                    Role::DaCorrupter,
                    Role::Crashed,
                ];
                for &i in faulty {
                    roles[i as usize] = *BAD.choose(&mut rng).unwrap_or(&Role::Crashed);
                }
                lossy(&mut cfg, &mut rng);
                let k = rng.gen_range(1..n);
                cfg.partition = ids[..k].to_vec();
                cfg.relay = rng.gen_bool(0.3);
            }
            Scenario::Marathon => {
                cfg.target_decisions = u64::MAX;
                cfg.liveness_bound = u64::MAX / 4;
                cfg.max_view = Some(10_000);
            }
        }
        cfg.roles = roles;
        cfg.end_ms = cfg.gst_ms + if self == Scenario::Marathon { u64::MAX / 4 } else { 120_000 };
        cfg
    }
}

/// The consensus rules a run uses (the safe defaults, or deliberately broken ones to show the checkers catch
/// them), and how long a marathon runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rules {
    /// The commit rule.
    pub commit: CommitRule,
    /// The voting rule.
    pub vote: VoteRule,
    /// Stop each run at this view instead of the scenario's own stop (the marathon's length).
    pub max_view: Option<crate::consensus::View>,
    /// Print a progress line to stderr every [`super::memory::PROGRESS_EVERY`] of wall-clock time a run lasts.
    pub progress: bool,
}

/// Runs one seed of a scenario under `rules`, with MAC certificates (fast).
pub fn run(scenario: Scenario, n: usize, seed: u64, rules: Rules) -> SimOutcome {
    run_with::<MacScheme>(scenario, n, seed, rules)
}

/// Runs one seed of a scenario under `rules`, with the certificate scheme `C` (e.g. [`crate::consensus::BlsScheme`] end to end).
pub fn run_with<C: SimScheme>(scenario: Scenario, n: usize, seed: u64, rules: Rules) -> SimOutcome {
    run_config::<C>(scenario.config(n, seed), rules)
}

/// Runs a prepared configuration under `rules`.
pub fn run_config<C: SimScheme>(mut cfg: SimConfig, rules: Rules) -> SimOutcome {
    cfg.consensus.commit_rule = rules.commit;
    cfg.consensus.vote_rule = rules.vote;
    if rules.max_view.is_some() {
        cfg.max_view = rules.max_view;
    }
    cfg.progress = rules.progress;
    Sim::<C>::new(cfg).run()
}
