//! `crema vid disperse|verify|recover`: files in, share files out, and back.
//!
//! A dispersal directory holds `commitment.bin` (32 bytes), `common.bin` (the AvidM common
//! data) and `shares/node-NNNNN.share`, one per node. Every file is written to a temporary
//! name and renamed, so a crash never leaves a half-written file under a real name.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Subcommand;
use crema_engine::Backend;
use crema_engine::vid::avidm::{Avidm, Commitment, Common, Share};
use crema_engine::vid::{Fraction, VidScheme, Weights};
use indicatif::{ProgressBar, ProgressStyle};

/// The `crema vid` subcommands.
#[derive(Debug, Subcommand)]
pub enum VidCommand {
    /// Erasure-code FILE into one share per node, written under --out.
    Disperse {
        /// The VID scheme (only avidm so far).
        #[arg(long, default_value = "avidm")]
        scheme: String,
        /// Number of nodes, each of weight 1.
        #[arg(long, conflicts_with = "weights", required_unless_present = "weights")]
        nodes: Option<usize>,
        /// Comma-separated weights, one per node.
        #[arg(long, value_delimiter = ',')]
        weights: Option<Vec<u32>>,
        /// Recovery threshold as a fraction of the total weight.
        #[arg(long, default_value = "1/3")]
        threshold: String,
        /// The payload file.
        file: PathBuf,
        /// The dispersal directory to create.
        #[arg(long)]
        out: PathBuf,
    },
    /// Check every share in DIR against its commitment; exit 1 if any is bad.
    Verify {
        /// A dispersal directory.
        dir: PathBuf,
    },
    /// Rebuild the payload from the shares in DIR that verify.
    Recover {
        /// A dispersal directory.
        dir: PathBuf,
        /// Where to write the payload.
        #[arg(long)]
        out: PathBuf,
    },
}

/// Runs a `crema vid` subcommand.
pub fn run(cmd: VidCommand, backend: &dyn Backend) -> anyhow::Result<ExitCode> {
    match cmd {
        VidCommand::Disperse { scheme, nodes, weights, threshold, file, out } => {
            if scheme != "avidm" {
                bail!("unknown VID scheme {scheme:?}: this build has avidm (kzg arrives with a later release)");
            }
            let weights = match (nodes, weights) {
                (Some(n), None) => Weights::equal(n)?,
                (None, Some(w)) => Weights::new(w)?,
                _ => bail!("give exactly one of --nodes or --weights"),
            };
            disperse(backend, weights, Fraction::parse(&threshold)?, &file, &out)
        }
        VidCommand::Verify { dir } => verify(backend, &dir),
        VidCommand::Recover { dir, out } => recover(backend, &dir, &out),
    }
}

fn share_path(dir: &Path, node: usize) -> PathBuf {
    dir.join("shares").join(format!("node-{node:05}.share"))
}

/// Writes `bytes` to `path` through a temporary file and a rename.
fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let tmp = path.with_extension("tmp");
    fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    fs::rename(&tmp, path).with_context(|| format!("renaming {} into place", tmp.display()))
}

fn disperse(
    backend: &dyn Backend,
    weights: Weights,
    threshold: Fraction,
    file: &Path,
    out: &Path,
) -> anyhow::Result<ExitCode> {
    let payload = fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let nodes = weights.nodes();
    let spinner =
        ProgressBar::new_spinner().with_message(format!("encoding {} bytes for {nodes} nodes", payload.len()));
    let dispersal = Avidm::new(weights, threshold).disperse(backend, &payload)?;
    spinner.finish_and_clear();
    fs::create_dir_all(out.join("shares")).with_context(|| format!("creating {}", out.display()))?;
    let bar = ProgressBar::new(nodes as u64)
        .with_style(ProgressStyle::with_template("writing shares {bar:40} {pos}/{len}").expect("static template"));
    for (node, share) in dispersal.shares.iter().enumerate() {
        write_atomic(&share_path(out, node), &share.to_bytes())?;
        bar.inc(1);
    }
    bar.finish_and_clear();
    write_atomic(&out.join("common.bin"), &dispersal.common.to_bytes())?;
    // The commitment last: its presence marks a complete dispersal directory.
    write_atomic(&out.join("commitment.bin"), &dispersal.commitment)?;
    println!(
        "commitment {}\n{} bytes -> {nodes} shares, {} units of {} bytes, any {} units recover",
        hex(&dispersal.commitment),
        payload.len(),
        dispersal.common.weights.total(),
        dispersal.common.unit_bytes,
        dispersal.common.original_count
    );
    Ok(ExitCode::SUCCESS)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Loads the commitment and the common data, checking one against the other.
fn load_header(dir: &Path) -> anyhow::Result<(Commitment, Common)> {
    let path = dir.join("commitment.bin");
    let raw = fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
    let commitment: Commitment = raw
        .try_into()
        .map_err(|r: Vec<u8>| anyhow::anyhow!("{} has {} bytes, expected 32", path.display(), r.len()))?;
    let path = dir.join("common.bin");
    let common = Common::from_bytes(&fs::read(&path).with_context(|| format!("reading {}", path.display()))?)
        .with_context(|| format!("decoding {}", path.display()))?;
    if common.commitment() != commitment {
        bail!("{} does not match commitment.bin", path.display());
    }
    Ok((commitment, common))
}

/// Every share file in the directory with its node index and the decoded share (or why not).
fn load_shares(dir: &Path, nodes: usize) -> Vec<(usize, PathBuf, anyhow::Result<Share>)> {
    (0..nodes)
        .map(|node| share_path(dir, node))
        .enumerate()
        .filter(|(_, p)| p.exists())
        .map(|(node, p)| {
            let share = fs::read(&p).map_err(anyhow::Error::from).and_then(|b| Ok(Share::from_bytes(&b)?));
            (node, p, share)
        })
        .collect()
}

fn verify(backend: &dyn Backend, dir: &Path) -> anyhow::Result<ExitCode> {
    let (commitment, common) = load_header(dir)?;
    let scheme = Avidm::new(common.weights.clone(), Fraction::ONE_THIRD);
    let mut bad = 0;
    let shares = load_shares(dir, common.weights.nodes());
    for (node, path, share) in &shares {
        let verdict = share
            .as_ref()
            .map_err(|e| format!("{e:#}"))
            .and_then(|s| scheme.verify_share(backend, &commitment, &common, s, *node).map_err(|e| e.to_string()));
        match verdict {
            Ok(()) => println!("{}: ok", path.display()),
            Err(reason) => {
                bad += 1;
                println!("{}: BAD: {reason}", path.display());
            }
        }
    }
    println!("{} shares: {} ok, {bad} bad", shares.len(), shares.len() - bad);
    Ok(if bad == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

fn recover(backend: &dyn Backend, dir: &Path, out: &Path) -> anyhow::Result<ExitCode> {
    let (commitment, common) = load_header(dir)?;
    let scheme = Avidm::new(common.weights.clone(), Fraction::ONE_THIRD);
    let shares: Vec<Share> = load_shares(dir, common.weights.nodes())
        .into_iter()
        .filter_map(|(_, path, s)| s.map_err(|e| eprintln!("skipping {}: {e:#}", path.display())).ok())
        .collect();
    let payload = scheme.recover(backend, &commitment, &common, &shares).context("recovering the payload")?;
    write_atomic(out, &payload)?;
    println!("recovered {} bytes into {}", payload.len(), out.display());
    Ok(ExitCode::SUCCESS)
}
