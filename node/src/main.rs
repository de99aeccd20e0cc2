//! The `crema` command: the user's entry point to the engine and the node.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use crema_engine::BackendChoice;

/// Crema: a data-availability compute engine and node.
#[derive(Debug, Parser)]
#[command(name = "crema", version, about)]
struct Cli {
    /// Compute backend: auto, cpu, gpu or reference.
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
    },
}

fn main() -> ExitCode {
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
    let choice: BackendChoice = cli.backend.parse()?;
    match cli.command {
        Command::Info => {
            crema_node::cli::info::print(choice);
            Ok(ExitCode::SUCCESS)
        }
        Command::Vectors { paths } => {
            let backend = choice.build().context("building the backend")?;
            crema_node::cli::vectors::run(&paths, backend.as_ref())
        }
        Command::Vid { command } => {
            let backend = choice.build().context("building the backend")?;
            crema_node::cli::vid::run(command, backend.as_ref())
        }
        Command::Sim { scenario, seeds, seed, nodes, broken_commit, broken_vote, bls_every } => {
            let opts = crema_node::cli::sim::SimOptions {
                scenario,
                seeds,
                seed,
                nodes,
                broken_commit,
                broken_vote,
                bls_every,
            };
            crema_node::cli::sim::run(&opts)
        }
    }
}
