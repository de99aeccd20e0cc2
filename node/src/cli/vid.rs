//! `crema vid disperse|verify|recover`: files in, share files out, and back.
//!
//! A dispersal directory holds `commitment.bin` (32 bytes), `common.bin` (the common data) and
//! `shares/node-NNNNN.share`, one per node. The tag at the start of `common.bin` names the scheme
//! (avidm or kzg) and whether the dispersal is namespaced, so `verify` and `recover` need no flag.
//! Every file is written to a temporary name and renamed, so a crash never leaves a half-written
//! file under a real name; the commitment is written last and marks a complete directory.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Subcommand, ValueEnum};
use crema_engine::Backend;
use crema_engine::vid::avidm::{self, Avidm};
use crema_engine::vid::kzg::{self, Kzg};
use crema_engine::vid::namespace::{NamespaceScheme, NsCommon, NsShare};
use crema_engine::vid::wire::common_kind;
use crema_engine::vid::{
    Codec, CommonKind, Fraction, NamespaceId, Namespaced, NamespacedPayload, SchemeTag, VidScheme, Weights,
};
use indicatif::{ProgressBar, ProgressStyle};

/// The VID schemes `crema vid disperse` offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SchemeArg {
    /// GF(2^16) Reed–Solomon + BLAKE3 Merkle (default threshold 1/3).
    Avidm,
    /// EIP-7594 cells with KZG proofs (threshold 1/2, fixed by the code rate).
    Kzg,
}

/// The `crema vid` subcommands.
#[derive(Debug, Subcommand)]
pub enum VidCommand {
    /// Erasure-code FILE (or the --namespace files) into one share per node, written under --out.
    Disperse {
        /// The VID scheme.
        #[arg(long, value_enum, default_value = "avidm")]
        scheme: SchemeArg,
        /// Number of nodes, each of weight 1.
        #[arg(long, conflicts_with = "weights", required_unless_present = "weights")]
        nodes: Option<usize>,
        /// Comma-separated weights, one per node.
        #[arg(long, value_delimiter = ',')]
        weights: Option<Vec<u32>>,
        /// Recovery threshold as a fraction of the total weight (default 1/3 for avidm, 1/2 for
        /// kzg, which refuses anything lower).
        #[arg(long)]
        threshold: Option<String>,
        /// A rollup namespace, as ID=FILE; repeat for several. Makes a namespaced dispersal.
        #[arg(long = "namespace", value_name = "ID=FILE", conflicts_with = "file", required_unless_present = "file")]
        namespaces: Vec<String>,
        /// The payload file (a plain, one-payload dispersal).
        file: Option<PathBuf>,
        /// The dispersal directory to create.
        #[arg(long)]
        out: PathBuf,
    },
    /// Check every share in DIR against its commitment; exit 1 if any is bad.
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
                (Some(n), None) => Weights::equal(n)?,
                (None, Some(w)) => Weights::new(w)?,
                _ => bail!("give exactly one of --nodes or --weights"),
            };
            let input = match file {
                Some(f) => Input::Plain(f),
                None => Input::Namespaced(namespaces.iter().map(|s| parse_namespace(s)).collect::<Result<_, _>>()?),
            };
            match scheme {
                SchemeArg::Avidm => {
                    let threshold = Fraction::parse(threshold.as_deref().unwrap_or("1/3"))?;
                    disperse(backend, &Avidm::new(weights, threshold), input, &out)
                }
                SchemeArg::Kzg => {
                    let threshold = Fraction::parse(threshold.as_deref().unwrap_or("1/2"))?;
                    let scheme = Kzg::new(weights, threshold)
                        .context("the kzg scheme's code has rate 1/2: recovery always needs half of the weight")?;
                    disperse(backend, &scheme, input, &out)
                }
            }
        }
        VidCommand::Verify { dir, namespace } => {
            let (commitment, common) = load_header(&dir)?;
            match common_kind(&common).with_context(|| format!("reading {}", dir.join("common.bin").display()))? {
                CommonKind::Plain(tag) if namespace.is_some() => {
                    bail!("{} is a plain {} dispersal: it has no namespaces", dir.display(), tag.name())
                }
                CommonKind::Plain(SchemeTag::Avidm) => verify::<Avidm>(backend, &dir, &commitment, &common),
                CommonKind::Plain(SchemeTag::Kzg) => verify::<Kzg>(backend, &dir, &commitment, &common),
                CommonKind::Namespaced(SchemeTag::Avidm) => {
                    verify_ns::<Avidm>(backend, &dir, &commitment, &common, namespace)
                }
                CommonKind::Namespaced(SchemeTag::Kzg) => {
                    verify_ns::<Kzg>(backend, &dir, &commitment, &common, namespace)
                }
            }
        }
        VidCommand::Recover { dir, out, namespace } => {
            let (commitment, common) = load_header(&dir)?;
            match common_kind(&common).with_context(|| format!("reading {}", dir.join("common.bin").display()))? {
                CommonKind::Plain(tag) if namespace.is_some() => {
                    bail!("{} is a plain {} dispersal: it has no namespaces", dir.display(), tag.name())
                }
                CommonKind::Plain(SchemeTag::Avidm) => recover::<Avidm>(backend, &dir, &commitment, &common, &out),
                CommonKind::Plain(SchemeTag::Kzg) => recover::<Kzg>(backend, &dir, &commitment, &common, &out),
                CommonKind::Namespaced(SchemeTag::Avidm) => {
                    recover_ns::<Avidm>(backend, &dir, &commitment, &common, &out, namespace)
                }
                CommonKind::Namespaced(SchemeTag::Kzg) => {
                    recover_ns::<Kzg>(backend, &dir, &commitment, &common, &out, namespace)
                }
            }
        }
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

/// What the CLI needs from a scheme beyond the library traits.
trait CliScheme: NamespaceScheme + Clone {
    /// The scheme that checks and rebuilds dispersals with this common data.
    fn from_common(common: &Self::Common) -> anyhow::Result<Self>;
    /// The weights the common data records.
    fn weights(common: &Self::Common) -> &Weights;
    /// Disperses with a progress display.
    fn disperse_shown(
        &self,
        backend: &dyn Backend,
        payload: &[u8],
    ) -> anyhow::Result<crema_engine::vid::DispersalOf<Self>>;
    /// One line on the layout, after the commitment.
    fn describe(common: &Self::Common) -> String;
}

fn spinner(message: String) -> ProgressBar {
    let bar = ProgressBar::new_spinner().with_message(message);
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}

impl CliScheme for Avidm {
    fn from_common(common: &avidm::Common) -> anyhow::Result<Self> {
        // The threshold only matters for dispersal: checks and recovery read the common data.
        Ok(Avidm::new(common.weights.clone(), Fraction::ONE_THIRD))
    }
    fn weights(common: &avidm::Common) -> &Weights {
        &common.weights
    }
    fn disperse_shown(
        &self,
        backend: &dyn Backend,
        payload: &[u8],
    ) -> anyhow::Result<crema_engine::vid::DispersalOf<Self>> {
        let bar = spinner(format!("encoding {} bytes", payload.len()));
        let d = self.disperse(backend, payload);
        bar.finish_and_clear();
        Ok(d?)
    }
    fn describe(c: &avidm::Common) -> String {
        format!("{} units of {} bytes, any {} units recover", c.weights.total(), c.unit_bytes, c.original_count)
    }
}

impl CliScheme for Kzg {
    fn from_common(common: &kzg::Common) -> anyhow::Result<Self> {
        Ok(Kzg::new(common.weights.clone(), Kzg::THRESHOLD)?)
    }
    fn weights(common: &kzg::Common) -> &Weights {
        &common.weights
    }
    fn disperse_shown(
        &self,
        backend: &dyn Backend,
        payload: &[u8],
    ) -> anyhow::Result<crema_engine::vid::DispersalOf<Self>> {
        // Cell proofs cost ~100 ms per blob: show them blob by blob.
        let bar = ProgressBar::new(kzg::blob_count(payload.len()) as u64)
            .with_style(ProgressStyle::with_template("proving blobs {bar:40} {pos}/{len}").expect("static template"));
        let d = self.disperse_with_progress(backend, payload, &|done, _| bar.set_position(done as u64));
        bar.finish_and_clear();
        Ok(d?)
    }
    fn describe(c: &kzg::Common) -> String {
        let total = c.weights.total();
        format!(
            "{} blob(s) x {} cells, any {} of {total} weight units recover",
            c.blob_commitments.len(),
            crema_engine::kzg::CELLS_PER_EXT_BLOB,
            Kzg::THRESHOLD.ceil_of(total)
        )
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

fn read(path: &Path) -> anyhow::Result<Vec<u8>> {
    fs::read(path).with_context(|| format!("reading {}", path.display()))
}

/// Writes shares, then the common data, then the commitment.
fn write_dispersal(out: &Path, commitment: &[u8; 32], common: &[u8], shares: &[Vec<u8>]) -> anyhow::Result<()> {
    fs::create_dir_all(out.join("shares")).with_context(|| format!("creating {}", out.display()))?;
    let bar = ProgressBar::new(shares.len() as u64)
        .with_style(ProgressStyle::with_template("writing shares {bar:40} {pos}/{len}").expect("static template"));
    for (node, share) in shares.iter().enumerate() {
        write_atomic(&share_path(out, node), share)?;
        bar.inc(1);
    }
    bar.finish_and_clear();
    write_atomic(&out.join("common.bin"), common)?;
    write_atomic(&out.join("commitment.bin"), commitment)
}

fn disperse<S: CliScheme>(backend: &dyn Backend, scheme: &S, input: Input, out: &Path) -> anyhow::Result<ExitCode> {
    match input {
        Input::Plain(file) => {
            let payload = read(&file)?;
            let d = scheme.disperse_shown(backend, &payload)?;
            let shares: Vec<Vec<u8>> = d.shares.iter().map(Codec::encode).collect();
            write_dispersal(out, &d.commitment, &d.common.encode(), &shares)?;
            println!(
                "commitment {}\n{} bytes -> {} shares ({}), {}",
                hex(&d.commitment),
                payload.len(),
                shares.len(),
                S::TAG.name(),
                S::describe(&d.common)
            );
        }
        Input::Namespaced(files) => {
            let list = files.iter().map(|(id, f)| Ok((*id, read(f)?))).collect::<anyhow::Result<Vec<_>>>()?;
            let total: usize = list.iter().map(|(_, b)| b.len()).sum();
            let payload = NamespacedPayload::new(list)?;
            let bar = spinner(format!("encoding {} namespaces, {total} bytes", payload.len()));
            let d = Namespaced::new(scheme.clone()).disperse_namespaced(backend, &payload);
            bar.finish_and_clear();
            let d = d?;
            let shares: Vec<Vec<u8>> = d.shares.iter().map(Codec::encode).collect();
            write_dispersal(out, &d.commitment, &d.common.encode(), &shares)?;
            println!(
                "commitment {}\n{total} bytes in {} namespaces -> {} shares ({})",
                hex(&d.commitment),
                payload.len(),
                shares.len(),
                S::TAG.name()
            );
            for (e, c) in d.common.table.entries().iter().zip(&d.common.commons) {
                println!("namespace {}: {} bytes, {}", e.id, e.len, S::describe(c));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The commitment and the raw common data.
fn load_header(dir: &Path) -> anyhow::Result<([u8; 32], Vec<u8>)> {
    let path = dir.join("commitment.bin");
    let raw = read(&path)?;
    let commitment: [u8; 32] = raw
        .try_into()
        .map_err(|r: Vec<u8>| anyhow::anyhow!("{} has {} bytes, expected 32", path.display(), r.len()))?;
    Ok((commitment, read(&dir.join("common.bin"))?))
}

fn decode_common<M: Codec>(dir: &Path, bytes: &[u8]) -> anyhow::Result<M> {
    M::decode(bytes).with_context(|| format!("decoding {}", dir.join("common.bin").display()))
}

/// Every share file present for `nodes` nodes, with its node index and the decoded share (or why not).
fn load_shares<T: Codec>(dir: &Path, nodes: usize) -> Vec<(usize, PathBuf, anyhow::Result<T>)> {
    (0..nodes)
        .map(|node| (node, share_path(dir, node)))
        .filter(|(_, p)| p.exists())
        .map(|(node, p)| {
            let share = read(&p).and_then(|b| Ok(T::decode(&b)?));
            (node, p, share)
        })
        .collect()
}

/// Prints one line per share and the summary; exit 1 if any is bad.
fn report(verdicts: Vec<(PathBuf, Result<(), String>)>) -> ExitCode {
    let bad = verdicts.iter().filter(|(_, v)| v.is_err()).count();
    for (path, verdict) in &verdicts {
        match verdict {
            Ok(()) => println!("{}: ok", path.display()),
            Err(reason) => println!("{}: BAD: {reason}", path.display()),
        }
    }
    println!("{} shares: {} ok, {bad} bad", verdicts.len(), verdicts.len() - bad);
    if bad == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

fn verify<S: CliScheme>(
    backend: &dyn Backend,
    dir: &Path,
    commitment: &[u8; 32],
    common: &[u8],
) -> anyhow::Result<ExitCode> {
    let common: S::Common = decode_common(dir, common)?;
    if &S::common_commitment(&common) != commitment {
        bail!("{} does not match commitment.bin", dir.join("common.bin").display());
    }
    let scheme = S::from_common(&common)?;
    let verdicts = load_shares::<S::Share>(dir, S::weights(&common).nodes())
        .into_iter()
        .map(|(node, path, share)| {
            let v = share
                .map_err(|e| format!("{e:#}"))
                .and_then(|s| scheme.verify_share(backend, commitment, &common, &s, node).map_err(|e| e.to_string()));
            (path, v)
        })
        .collect();
    Ok(report(verdicts))
}

/// Decodes and checks namespaced common data; returns it with the inner scheme.
fn load_ns<S: CliScheme>(
    dir: &Path,
    commitment: &[u8; 32],
    common: &[u8],
) -> anyhow::Result<(Namespaced<S>, NsCommon<S::Common>)> {
    let common: NsCommon<S::Common> = decode_common(dir, common)?;
    let first = common.commons.first().context("namespaced common data without namespaces")?;
    let ns = Namespaced::new(S::from_common(first)?);
    ns.verify_common(commitment, &common).with_context(|| format!("checking {}", dir.join("common.bin").display()))?;
    Ok((ns, common))
}

fn verify_ns<S: CliScheme>(
    backend: &dyn Backend,
    dir: &Path,
    commitment: &[u8; 32],
    common: &[u8],
    namespace: Option<NamespaceId>,
) -> anyhow::Result<ExitCode> {
    let (ns, common) = load_ns::<S>(dir, commitment, common)?;
    let nodes = S::weights(&common.commons[0]).nodes();
    let only = namespace.map(|id| common.namespace(id)).transpose()?;
    let verdicts = load_shares::<NsShare<S::Share>>(dir, nodes)
        .into_iter()
        .map(|(node, path, share)| {
            let v = share.map_err(|e| format!("{e:#}")).and_then(|s| {
                let checked = match &only {
                    None => ns.verify_share(backend, commitment, &common, &s, node),
                    Some((proof, ns_common)) => match s.shares.get(proof.index as usize) {
                        Some(inner) => ns.verify_namespace_share(backend, commitment, proof, ns_common, inner, node),
                        None => Err(crema_engine::vid::VidError::MalformedShare(format!(
                            "no share of namespace {}",
                            proof.entry.id
                        ))),
                    },
                };
                checked.map_err(|e| e.to_string())
            });
            (path, v)
        })
        .collect();
    Ok(report(verdicts))
}

/// The shares that decode; the others are named on stderr and left out.
fn decodable<T: Codec>(dir: &Path, nodes: usize) -> Vec<T> {
    load_shares::<T>(dir, nodes)
        .into_iter()
        .filter_map(|(_, path, s)| s.map_err(|e| eprintln!("skipping {}: {e:#}", path.display())).ok())
        .collect()
}

fn recover<S: CliScheme>(
    backend: &dyn Backend,
    dir: &Path,
    commitment: &[u8; 32],
    common: &[u8],
    out: &Path,
) -> anyhow::Result<ExitCode> {
    let common: S::Common = decode_common(dir, common)?;
    if &S::common_commitment(&common) != commitment {
        bail!("{} does not match commitment.bin", dir.join("common.bin").display());
    }
    let scheme = S::from_common(&common)?;
    let shares = decodable::<S::Share>(dir, S::weights(&common).nodes());
    let payload = scheme.recover(backend, commitment, &common, &shares).context("recovering the payload")?;
    write_atomic(out, &payload)?;
    println!("recovered {} bytes into {}", payload.len(), out.display());
    Ok(ExitCode::SUCCESS)
}

fn recover_ns<S: CliScheme>(
    backend: &dyn Backend,
    dir: &Path,
    commitment: &[u8; 32],
    common: &[u8],
    out: &Path,
    namespace: Option<NamespaceId>,
) -> anyhow::Result<ExitCode> {
    let (ns, common) = load_ns::<S>(dir, commitment, common)?;
    let shares = decodable::<NsShare<S::Share>>(dir, S::weights(&common.commons[0]).nodes());
    match namespace {
        Some(id) => {
            let (proof, ns_common) = common.namespace(id)?;
            let inner: Vec<S::Share> = shares
                .into_iter()
                .filter_map(|mut s| {
                    (proof.index < s.shares.len() as u32).then(|| s.shares.swap_remove(proof.index as usize))
                })
                .collect();
            let payload = ns
                .recover_namespace(backend, commitment, &proof, ns_common, &inner)
                .with_context(|| format!("recovering namespace {id}"))?;
            write_atomic(out, &payload)?;
            println!("recovered namespace {id}: {} bytes into {}", payload.len(), out.display());
        }
        None => {
            let payload = ns.recover(backend, commitment, &common, &shares).context("recovering the namespaces")?;
            fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
            for (id, bytes) in payload.iter() {
                write_atomic(&out.join(format!("ns-{id}.bin")), bytes)?;
            }
            println!("recovered {} namespaces into {}", payload.len(), out.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}
