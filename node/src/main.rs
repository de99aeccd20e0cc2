//! The `crema` command: the user's entry point to the engine and the node.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use crema_engine::BackendChoice;

/// VID calls allocate and free tens of MB of shards each; glibc malloc returns that memory to
/// the OS and page-faults it back in on the next call (measured: avidm recover of 10 MB,
/// 56 ms with it, 33 ms with mimalloc).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_delay` (the position of `mi_option_purge_delay` in `mi_option_e`, mimalloc.h, the
/// same in mimalloc v2 and v3).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Keeps freed memory mapped instead of handing it back to the OS 10 ms later (mimalloc's default). A node frees
/// and reallocates megabytes per block; with purging on, each block's buffers were faulted in and zeroed afresh
/// (2.3 million page faults in a 30 s, 10-node devnet, a quarter of the nodes' CPU). The process keeps its peak
/// instead, and every queue and cache that sets that peak is bounded.
fn keep_freed_memory() {
    // SAFETY: sets a plain integer option; mimalloc documents -1 as "no purging at all", valid at any time.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
}

/// Crema: a data-availability compute engine and node.
#[derive(Debug, Parser)]
#[command(name = "crema", version, about)]
struct Cli {
    /// Compute backend: auto, cpu, gpu or reference (for `crema bench`: cpu, gpu or all; auto = all).
    #[arg(long, global = true, env = "CREMA_BACKEND", default_value = "auto")]
    backend: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print the version, the backends available and the CPU features detected.
    Info,
    /// Run public reference vectors (bls12-381-tests JSON and c-kzg-4844 YAML layouts); last line "N passed, N failed".
    Vectors {
        /// Files or directories to walk.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Benchmark every engine operation on the CPU and GPU backends: median, spread, kernel-only
    /// time, throughput, gpu/cpu ratio; outputs must agree across backends (else MISMATCH, exit 1).
    ///
    /// Each case runs once untimed (lazy tables and GPU pipelines are built there), then several
    /// timed runs: 5 to 20, stopping after 2 s per case and backend, 3 when one call takes longer
    /// (--quick: 3 to 5 and 0.3 s; --runs N fixes the count). The default runs the full size
    /// ranges (NTT 2^12..2^20, MSM 2^10..2^20, 1M-point sums, 10 MB VID, ...) and takes minutes
    /// (2-3 on a 2-core machine today, more as GPU ops are ported: each runs on both backends);
    /// --quick runs small sizes and finishes in under a minute with --backend all. An op a
    /// backend does not offer (not ported to the GPU yet, no adapter) shows as "n/a (reason)".
    /// The table goes to stdout, progress to stderr. Build with --release for real numbers.
    ///
    /// Example: crema bench --backend all --quick --json bench.json --plot bench.png
    Bench(crema_node::cli::bench::BenchArgs),
    /// Verifiable information dispersal: disperse a file into shares, verify them, recover it.
    Vid {
        #[command(subcommand)]
        command: crema_node::cli::vid::VidCommand,
    },
    /// Run seeded consensus simulations with fault injection; exit 1 on any safety, liveness or availability
    /// violation.
    Sim {
        /// Scenario name, or "all".
        #[arg(long, default_value = "all")]
        scenario: String,
        /// Seeds per scenario.
        #[arg(long, default_value_t = 200)]
        seeds: u64,
        /// First seed.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Fixed number of nodes (default: 4, 7 and 10 in rotation).
        #[arg(long)]
        nodes: Option<usize>,
        /// Use the deliberately broken one-QC commit rule, to see the checkers catch it.
        #[arg(long)]
        broken_commit: bool,
        /// Use the deliberately broken voting rule that ignores the lock, to see the checkers catch it.
        #[arg(long)]
        broken_vote: bool,
        /// Every N-th seed (seed % N == 0) runs with real BLS certificates end to end; 0 = never.
        #[arg(long, default_value_t = 1000)]
        bls_every: u64,
        /// Stop every run at this view; with `--scenario marathon` (a long happy run that checks memory stays
        /// bounded), its length: e.g. --scenario marathon --seeds 1 --views 100000 --bls-every 0 (about 20 s; seed
        /// 0 is a BLS seed by default, and 100,000 views of real pairings take hours).
        #[arg(long)]
        views: Option<u64>,
    },
    /// Generate a node's keys (a BLS key with its proof of possession, a libp2p ed25519 key) into --out, and print
    /// its `[[node]]` entry for network.toml's stake table.
    ///
    /// Example: crema keygen --out node-7/keys --p2p /ip4/10.0.0.7/tcp/9000 --api 10.0.0.7:8000
    Keygen(crema_node::cli::keygen::KeygenArgs),
    /// Write a local network: DIR/network.toml (parameters and stake table) and, per node i,
    /// DIR/node-<i>/node.toml with its keys in DIR/node-<i>/keys/; then print how to start each node.
    ///
    /// Example: crema init --nodes 4 --out devnet && crema node --config devnet/node-0/node.toml
    Init(crema_node::cli::init::InitArgs),
    /// Load a node's node.toml, the network.toml it names and its keys, exactly as the node does at start-up, and
    /// print what node they make; exit 1 naming the file, key and problem if they do not make one.
    Check {
        /// The node's configuration file.
        #[arg(long)]
        config: PathBuf,
    },
    /// Bring up a real local network on 127.0.0.1 (N `crema node` processes: libp2p, redb, HTTP APIs), drive
    /// transactions through their APIs, apply fault drills, then print a summary computed through the APIs alone:
    /// blocks, MB/s, submit-to-decide p50/p99, bytes per DA layer, and three flags — safety_ok (every node's headers
    /// agree), namespaces_verified (every namespace proof verifies, every decided transaction found once),
    /// payloads_recovered (with the DA committee stopped, every payload rebuilt from the other nodes' shares).
    /// Exit 1 if a flag is false or nothing was decided. Every process is stopped at the end. `--preset throughput`
    /// or `wan` is the throughput benchmark; `--plot F.png` draws throughput and latency over the run.
    ///
    /// Example: crema devnet --nodes 4 --da-committee 2 --duration 10 --crash 1@3 --restart 1@6
    Devnet(crema_node::cli::devnet::DevnetArgs),
    /// Run a node: consensus, data availability, the HTTP API and metrics, until SIGTERM or Ctrl-C (which stop it
    /// cleanly). Logs go to stderr (`RUST_LOG=debug` for more). The backend comes from node.toml.
    ///
    /// Example: crema init --nodes 4 --out net && crema node --config net/node-0/node.toml
    Node {
        /// The node's configuration file (see `crema init`).
        #[arg(long)]
        config: PathBuf,
        /// Fault drills only: misbehave on purpose — da-withhold (a DA member that never DA-votes nor serves
        /// payloads), da-corrupt (serves corrupted payloads), bad-shares (as leader, sends corrupted VID shares),
        /// equivocate (as leader, sends two different validly signed proposals for its view to two halves of the
        /// nodes).
        #[arg(long, value_name = "KIND")]
        byzantine: Option<crema_node::runtime::byzantine::Misbehaviour>,
    },
    /// Run a Cocoa broker, the untrusted CDN that fans blocks out to the nodes (see `crema cdn --help`).
    ///
    /// Example: crema cdn --listen 127.0.0.1:7000 --stake-table net/network.toml --metrics 127.0.0.1:7001
    Cdn(crema_node::cli::cdn::CdnArgs),
}

fn main() -> ExitCode {
    keep_freed_memory();
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match &cli.command {
        // Key and file tools: no backend involved.
        Command::Keygen(args) => return crema_node::cli::keygen::run(args),
        Command::Init(args) => return crema_node::cli::init::run(args),
        Command::Check { config } => return crema_node::cli::check::run(config),
        Command::Node { config, byzantine } => return crema_node::cli::node::run(config, *byzantine),
        Command::Cdn(args) => return crema_node::cli::cdn::run(args),
        _ => {}
    }
    // `crema bench` takes `--backend all`, which is no BackendChoice: it reads the string itself.
    if let Command::Bench(args) = &cli.command {
        return crema_node::cli::bench::run(&cli.backend, args);
    }
    if let Command::Devnet(args) = &cli.command {
        return crema_node::cli::devnet::run(&cli.backend, args);
    }
    let choice: BackendChoice = cli.backend.parse()?;
    match cli.command {
        Command::Bench(_)
        | Command::Devnet(_)
        | Command::Keygen(_)
        | Command::Init(_)
        | Command::Check { .. }
        | Command::Node { .. }
        | Command::Cdn(_) => {
            unreachable!("handled above")
        }
        Command::Info => {
            crema_node::cli::info::print(choice);
            Ok(ExitCode::SUCCESS)
        }
        Command::Vectors { paths } => {
            let backend = choice.build().context("building the backend")?;
            crema_node::cli::vectors::run(&paths, backend)
        }
        Command::Vid { command } => {
            let backend = choice.build().context("building the backend")?;
            crema_node::cli::vid::run(command, backend.as_ref())
        }
        Command::Sim { scenario, seeds, seed, nodes, broken_commit, broken_vote, bls_every, views } => {
            let opts = crema_node::cli::sim::SimOptions {
                scenario,
                seeds,
                seed,
                nodes,
                broken_commit,
                broken_vote,
                bls_every,
                views,
            };
            crema_node::cli::sim::run(&opts)
        }
    }
}
