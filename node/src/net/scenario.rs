//! Named simulation scenarios: each turns `(n, seed)` into a [`SimConfig`]. Which nodes are faulty, when GST
//! comes, the partition and the crash times are all drawn from the seed, so a failing seed is the whole repro.

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::byzantine::Role;
use super::memory::{Crash, Sim, SimConfig, SimOutcome};
use crate::consensus::{CommitRule, Config, MacScheme, NodeId, SimScheme, StakeTable, VoteRule};

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
    /// f equivocating leaders.
    Equivocate,
    /// f withholding leaders.
    Withhold,
    /// f leaders sending invalid VID shares.
    BadShares,
    /// f nodes forging and under-filling certificates.
    Forge,
    /// f nodes flooding future-view votes and junk.
    Flood,
    /// f nodes attacking the lock (low high-QC claims in timeouts, proposals on old blocks), with drops until GST.
    Amnesia,
    /// Unequal stakes (leader election by stake), a DA committee that is a subset of the nodes, drops until GST.
    Weighted,
    /// f nodes with random faulty roles, plus a partition and drops until GST.
    Mixed,
}

impl Scenario {
    /// Every scenario, in report order.
    pub const ALL: [Scenario; 13] = [
        Scenario::Happy,
        Scenario::Lossy,
        Scenario::Partition,
        Scenario::Crash,
        Scenario::CrashRestart,
        Scenario::Equivocate,
        Scenario::Withhold,
        Scenario::BadShares,
        Scenario::Forge,
        Scenario::Flood,
        Scenario::Amnesia,
        Scenario::Weighted,
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
            Scenario::Forge => "forge",
            Scenario::Flood => "flood",
            Scenario::Amnesia => "amnesia",
            Scenario::Weighted => "weighted",
            Scenario::Mixed => "mixed",
        }
    }

    /// Parses a command-line name.
    pub fn from_name(name: &str) -> Option<Scenario> {
        Scenario::ALL.into_iter().find(|s| s.name() == name)
    }

    /// The run configuration for `n` nodes and `seed`.
    pub fn config(self, n: usize, seed: u64) -> SimConfig {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5ce7_a210);
        let f = (n - 1) / 3;
        let mut ids: Vec<NodeId> = (0..n as NodeId).collect();
        ids.shuffle(&mut rng);
        let faulty = &ids[..f];
        let mut roles = vec![Role::Honest; n];
        // Scenario sizes are 1..=65 535 nodes (the CLI validates --nodes), and every table below has a non-zero
        // total, so building the stake tables cannot fail.
        let table = |stakes: Vec<u64>| StakeTable::new(stakes).expect("a valid simulated stake table");
        let mut cfg = SimConfig {
            seed,
            consensus: Config::new(table(vec![1; n]), 100),
            roles: Vec::new(),
            delay_ms: (1, 10),
            pre_gst_delay_ms: (1, 10),
            drop_prob: 0.0,
            dup_prob: 0.0,
            gst_ms: 0,
            partition: Vec::new(),
            crashes: Vec::new(),
            end_ms: 0,
            target_decisions: 3,
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
                        cfg.crashes.push(Crash { node, at_ms: t, restart_ms: restart });
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
            Scenario::Forge => role_all(&mut roles, Role::Forger),
            Scenario::Flood => role_all(&mut roles, Role::Flooder),
            Scenario::Amnesia => {
                role_all(&mut roles, Role::Amnesiac);
                lossy(&mut cfg, &mut rng);
            }
            Scenario::Weighted => {
                let stakes = (0..n).map(|_| rng.gen_range(1..=5)).collect();
                cfg.consensus = Config::new(table(stakes), 100);
                // A DA committee smaller than the validator set (every node still gets its VID share).
                let mut committee: Vec<u64> = (0..n).map(|_| u64::from(rng.gen_bool(0.7))).collect();
                committee[ids[0] as usize] = 1;
                cfg.consensus.da_table = table(committee);
                lossy(&mut cfg, &mut rng);
            }
            Scenario::Mixed => {
                const BAD: [Role; 7] = [
                    Role::Crashed,
                    Role::Equivocator,
                    Role::Withholder,
                    Role::BadShares,
                    Role::Forger,
                    Role::Flooder,
                    Role::Amnesiac,
                ];
                for &i in faulty {
                    roles[i as usize] = *BAD.choose(&mut rng).expect("non-empty");
                }
                lossy(&mut cfg, &mut rng);
                let k = rng.gen_range(1..n);
                cfg.partition = ids[..k].to_vec();
            }
        }
        cfg.roles = roles;
        cfg.end_ms = cfg.gst_ms + 120_000;
        cfg
    }
}

/// The consensus rules a run uses: the safe defaults, or deliberately broken ones to show the checkers catch them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rules {
    /// The commit rule.
    pub commit: CommitRule,
    /// The voting rule.
    pub vote: VoteRule,
}

/// Runs one seed of a scenario under `rules`, with MAC certificates (fast).
pub fn run(scenario: Scenario, n: usize, seed: u64, rules: Rules) -> SimOutcome {
    run_with::<MacScheme>(scenario, n, seed, rules)
}

/// Runs one seed of a scenario under `rules`, with the certificate scheme `C` (e.g. [`crate::consensus::BlsScheme`] end to end).
pub fn run_with<C: SimScheme>(scenario: Scenario, n: usize, seed: u64, rules: Rules) -> SimOutcome {
    let mut cfg = scenario.config(n, seed);
    cfg.consensus.commit_rule = rules.commit;
    cfg.consensus.vote_rule = rules.vote;
    Sim::<C>::new(cfg).run()
}
