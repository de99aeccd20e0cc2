//! `crema vid disperse|verify|recover`: files in, share files out, and back. This file parses and prints; the
//! directory format is [`crate::da::dispersal_dir`] and the scheme is the engine's [`Vid`].

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Subcommand;
use crema_engine::Backend;
use crema_engine::stake::Fraction;
use crema_engine::vid::{NamespaceId, NamespacedPayload, Recovered, SchemeKind, Vid, Weights};
use indicatif::{ProgressBar, ProgressStyle};

use crate::atomic_write::{create_dir, write_atomic};
use crate::da::dispersal_dir::{DispersalDir, ranges};

/// The `crema vid` subcommands.
#[derive(Debug, Subcommand)]
pub enum VidCommand {
    /// Erasure-code FILE (or the --namespace files) into one share per node, written under --out.
    Disperse {
        /// The VID scheme: avidm (GF(2^16) Reed-Solomon + BLAKE3 Merkle, default threshold 1/3) or kzg (EIP-7594
        /// cells with KZG proofs, threshold 1/2, fixed by the code rate).
        #[arg(long, default_value = "avidm")]
        scheme: SchemeKind,
        /// Number of nodes, each of weight 1 (at most 65535).
        #[arg(long, conflicts_with = "weights", required_unless_present = "weights")]
        nodes: Option<u64>,
        /// Comma-separated weights, one per node (at most 65535 units in total, none zero).
        #[arg(long, value_delimiter = ',')]
        weights: Option<Vec<u32>>,
        /// Recovery threshold as a fraction of the total weight, e.g. 1/3 (default: the scheme's own).
        #[arg(long)]
        threshold: Option<Fraction>,
        /// A rollup namespace, as ID=FILE; repeat for several. Makes a namespaced dispersal.
        #[arg(long = "namespace", value_name = "ID=FILE", conflicts_with = "file", required_unless_present = "file")]
        namespaces: Vec<String>,
        /// The payload file (a plain, one-payload dispersal; it may be empty).
        file: Option<PathBuf>,
        /// The dispersal directory to create.
        #[arg(long)]
        out: PathBuf,
    },
    /// Check every share in DIR against its commitment, name the missing ones, and say whether the shares that
    /// verify can rebuild the payload; exit 1 if any share is bad or none is present.
    Verify {
        /// A dispersal directory.
        dir: PathBuf,
        /// Check only this namespace's part of each share (namespaced dispersals).
        #[arg(long)]
        namespace: Option<NamespaceId>,
    },
    /// Rebuild the payload from the shares in DIR that verify.
    Recover {
        /// A dispersal directory.
        dir: PathBuf,
        /// Where to write the payload; for a namespaced dispersal without --namespace, a
        /// directory that receives one `ns-<id>.bin` per namespace.
        #[arg(long)]
        out: PathBuf,
        /// Rebuild only this namespace (namespaced dispersals); --out is then a file.
        #[arg(long)]
        namespace: Option<NamespaceId>,
    },
}

/// Runs a `crema vid` subcommand.
pub fn run(cmd: VidCommand, backend: &dyn Backend) -> anyhow::Result<ExitCode> {
    match cmd {
        VidCommand::Disperse { scheme, nodes, weights, threshold, namespaces, file, out } => {
            let weights = match (nodes, weights) {
                (Some(n), None) => Weights::equal(usize::try_from(n).unwrap_or(usize::MAX))?,
                (None, Some(w)) => Weights::new(w)?,
                _ => bail!("give exactly one of --nodes or --weights"),
            };
            let vid = Vid::new(scheme, weights, threshold)?;
            let input = match file {
                Some(f) => Input::Plain(f),
                None => Input::Namespaced(namespaces.iter().map(|s| parse_namespace(s)).collect::<Result<_, _>>()?),
            };
            disperse(backend, &vid, input, &DispersalDir::new(out))
        }
        VidCommand::Verify { dir, namespace } => verify(backend, &DispersalDir::new(dir), namespace),
        VidCommand::Recover { dir, out, namespace } => recover(backend, &DispersalDir::new(dir), &out, namespace),
    }
}

/// What to disperse.
enum Input {
    Plain(PathBuf),
    Namespaced(Vec<(NamespaceId, PathBuf)>),
}

fn parse_namespace(s: &str) -> anyhow::Result<(NamespaceId, PathBuf)> {
    let (id, file) = s.split_once('=').with_context(|| format!("--namespace {s:?}: expected ID=FILE"))?;
    let id =
        id.trim().parse().with_context(|| format!("--namespace {s:?}: the id must be an unsigned 64-bit integer"))?;
    Ok((id, PathBuf::from(file)))
}

fn read(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("reading {}", path.display()))
}

fn spinner(message: String) -> ProgressBar {
    let bar = ProgressBar::new_spinner().with_message(message);
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}

fn bar(len: usize, template: &'static str) -> ProgressBar {
    // The templates are literals of this file; a bad one is a bug caught by the CLI tests.
    ProgressBar::new(len as u64).with_style(ProgressStyle::with_template(template).expect("static template"))
}

fn disperse(backend: &dyn Backend, vid: &Vid, input: Input, dir: &DispersalDir) -> anyhow::Result<ExitCode> {
    let (d, what) = match input {
        Input::Plain(file) => {
            let payload = read(&file)?;
            let d = match vid.progress_steps(payload.len()) {
                // KZG cell proofs cost ~100 ms per blob: show them blob by blob.
                Some(steps) => {
                    let bar = bar(steps, "proving blobs {bar:40} {pos}/{len}");
                    let d = vid.disperse(backend, &payload, Some(&|done, _| bar.set_position(done as u64)));
                    bar.finish_and_clear();
                    d?
                }
                None => {
                    let bar = spinner(format!("encoding {} bytes", payload.len()));
                    let d = vid.disperse(backend, &payload, None);
                    bar.finish_and_clear();
                    d?
                }
            };
            (d, format!("{} bytes", payload.len()))
        }
        Input::Namespaced(files) => {
            let list = files.iter().map(|(id, f)| Ok((*id, read(f)?))).collect::<anyhow::Result<Vec<_>>>()?;
            let total: usize = list.iter().map(|(_, b)| b.len()).sum();
            let payload = NamespacedPayload::new(list)?;
            let bar = spinner(format!("encoding {} namespaces, {total} bytes", payload.len()));
            let d = vid.disperse_namespaced(backend, &payload);
            bar.finish_and_clear();
            (d?, format!("{total} bytes in {} namespaces", payload.len()))
        }
    };
    let progress = bar(d.shares.len(), "writing shares {bar:40} {pos}/{len}");
    dir.write(&d, |done| progress.set_position(done as u64))?;
    progress.finish_and_clear();
    println!("commitment {}", hex(&d.commitment));
    println!("{what} -> {} shares ({})", d.shares.len(), vid.kind());
    println!("{}", vid.describe(&d.common)?);
    Ok(ExitCode::SUCCESS)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn verify(backend: &dyn Backend, dir: &DispersalDir, namespace: Option<NamespaceId>) -> anyhow::Result<ExitCode> {
    let h = dir.read_header()?;
    let (files, missing) = dir.read_shares(h.vid.weights().nodes());
    if files.is_empty() {
        bail!("{}: no share file at all ({} nodes expected under shares/)", dir.path().display(), missing.len());
    }
    let weights = h.vid.weights();
    let (mut ok, mut bad, mut weight_ok) = (0usize, 0usize, 0u64);
    for f in &files {
        let verdict = f.bytes.as_ref().map_err(|e| e.to_string()).and_then(|bytes| {
            let checked = match namespace {
                None => h.vid.verify_share(backend, &h.commitment, &h.common, bytes, f.node),
                Some(id) => h.vid.verify_namespace_share(backend, &h.commitment, &h.common, bytes, f.node, id),
            };
            checked.map_err(|e| e.to_string())
        });
        match verdict {
            Ok(()) => {
                ok += 1;
                weight_ok += u64::from(weights.weight(f.node)?);
                println!("{}: ok", f.path.display());
            }
            Err(reason) => {
                bad += 1;
                println!("{}: BAD: {reason}", f.path.display());
            }
        }
    }
    if !missing.is_empty() {
        println!("missing: {} share file(s), nodes {}", missing.len(), ranges(&missing));
    }
    println!("{} shares: {ok} ok, {bad} bad, {} missing", files.len(), missing.len());
    let need = h.vid.threshold().ceil_of(weights.total());
    let verdict = if weight_ok >= need { "enough to recover" } else { "NOT enough to recover" };
    println!("verified weight {weight_ok} of {}: {verdict} (needs {need})", weights.total());
    Ok(if bad == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

fn recover(
    backend: &dyn Backend,
    dir: &DispersalDir,
    out: &Path,
    namespace: Option<NamespaceId>,
) -> anyhow::Result<ExitCode> {
    let h = dir.read_header()?;
    let (files, missing) = dir.read_shares(h.vid.weights().nodes());
    if !missing.is_empty() {
        eprintln!("missing: {} share file(s), nodes {}", missing.len(), ranges(&missing));
    }
    let readable: Vec<&[u8]> = files
        .iter()
        .filter_map(|f| match &f.bytes {
            Ok(b) => Some(b.as_slice()),
            Err(e) => {
                eprintln!("skipping {}: {e}", f.path.display());
                None
            }
        })
        .collect();
    let (c, common) = (&h.commitment, &h.common);
    match namespace {
        Some(id) => {
            let payload = h
                .vid
                .recover_namespace(backend, c, common, &readable, id)
                .with_context(|| format!("recovering namespace {id}"))?;
            write_atomic(out, &payload)?;
            println!("recovered namespace {id}: {} bytes into {}", payload.len(), out.display());
        }
        None => match h.vid.recover(backend, c, common, &readable).context("recovering the payload")? {
            Recovered::Plain(payload) => {
                write_atomic(out, &payload)?;
                println!("recovered {} bytes into {}", payload.len(), out.display());
            }
            Recovered::Namespaced(payload) => {
                create_dir(out)?;
                for (id, bytes) in payload.iter() {
                    write_atomic(&out.join(format!("ns-{id}.bin")), bytes)?;
                }
                println!("recovered {} namespaces into {}", payload.len(), out.display());
            }
        },
    }
    Ok(ExitCode::SUCCESS)
}
