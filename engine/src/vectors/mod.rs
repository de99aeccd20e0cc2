//! Runner for the public reference-test layouts (used by tests and `crema vectors`).
//!
//! Recognised layouts:
//! - ethereum bls12-381-tests JSON: `.../<handler>/<case>.json` with `input` / `output`
//!   (`output: null` means the call must fail), handlers in [`bls::HANDLERS`].
//! - c-kzg-4844 / consensus-spec-tests KZG YAML: `.../<function>/[<suite>/]<case>/data.yaml` with
//!   `input` / `output` (`output: null` means the call must fail), functions in [`kzg::FUNCTIONS`].
//!
//! Every recognised case is run; a case that fails to parse counts as a failure, never a skip.
//! A case that expects failure passes only when the call *refused its input*: a device, I/O
//! or internal error fails the case on every backend. The walk follows each directory once
//! (symlink loops and repeated paths are not run twice) and reads a case file only up to
//! [`MAX_CASE_BYTES`].

pub mod bls;
pub mod kzg;

use std::cell::OnceCell;
use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use thiserror::Error;

use crate::backend::Backend;
use crate::kzg::KzgContext;

/// The largest case file read (the biggest public case, a batch of blobs, is under 2 MB).
pub const MAX_CASE_BYTES: u64 = 16 << 20;

/// One failed case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The case file.
    pub path: PathBuf,
    /// What went wrong.
    pub reason: String,
}

/// The tally of a run.
#[derive(Debug, Default, Clone)]
pub struct Outcome {
    /// Cases that passed.
    pub passed: usize,
    /// Cases that failed, in the order they ran.
    pub failures: Vec<Failure>,
}

impl Outcome {
    /// Total cases run.
    pub fn total(&self) -> usize {
        self.passed + self.failures.len()
    }

    /// The runner's closing line: `N passed, N failed`.
    pub fn summary(&self) -> String {
        format!("{} passed, {} failed", self.passed, self.failures.len())
    }
}

/// Why a vectors run could not start.
#[derive(Debug, Error)]
pub enum VectorsError {
    /// A path could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

/// A case file recognised by its place in the tree.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum CaseKind {
    /// bls12-381-tests JSON under handler folder `handler`.
    Bls {
        /// The handler (`sign`, `verify`, …).
        handler: String,
    },
    /// c-kzg-4844 YAML under function folder `function`.
    Kzg {
        /// The function (`blob_to_kzg_commitment`, …).
        function: String,
    },
}

/// Classifies a file by its path, or `None` when it is no known case.
pub fn classify(path: &Path) -> Option<CaseKind> {
    let parent = path.parent()?.file_name()?.to_str()?;
    if path.extension().is_some_and(|e| e == "json") && bls::HANDLERS.contains(&parent) {
        return Some(CaseKind::Bls { handler: parent.to_string() });
    }
    if path.file_name().is_some_and(|n| n == "data.yaml") {
        // `<function>/<suite>/<case>/data.yaml` (spec tests) or `<function>/<case>/data.yaml` (fixtures/kzg).
        let grandparent = path.parent()?.parent()?;
        for dir in [grandparent, grandparent.parent()?] {
            let function = dir.file_name()?.to_str()?;
            if kzg::FUNCTIONS.contains(&function) {
                return Some(CaseKind::Kzg { function: function.to_string() });
            }
        }
    }
    None
}

/// Every case file under `paths` (files or directories), sorted for a stable order. Each
/// directory is walked once, by its canonical path, so a symlink loop ends and a path given
/// twice (or reached twice) does not run its cases twice.
pub fn collect(paths: &[PathBuf]) -> Result<Vec<(PathBuf, CaseKind)>, VectorsError> {
    fn io(path: &Path) -> impl FnOnce(std::io::Error) -> VectorsError + '_ {
        move |source| VectorsError::Io { path: path.to_path_buf(), source }
    }
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let mut stack: Vec<PathBuf> = paths.to_vec();
    while let Some(p) = stack.pop() {
        let canonical = std::fs::canonicalize(&p).map_err(io(&p))?;
        if !seen.insert(canonical) {
            continue;
        }
        let meta = std::fs::metadata(&p).map_err(io(&p))?;
        if meta.is_dir() {
            for e in std::fs::read_dir(&p).map_err(io(&p))? {
                stack.push(e.map_err(io(&p))?.path());
            }
        } else if let Some(kind) = classify(&p) {
            out.push((p, kind));
        }
    }
    out.sort();
    Ok(out)
}

/// Reads a case file: a regular file of at most [`MAX_CASE_BYTES`], in UTF-8.
fn read_case(path: &Path) -> Result<String, String> {
    // Checked before opening: opening a FIFO named like a case would block.
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read: {e}"))?;
    if !meta.is_file() {
        return Err("not a regular file".into());
    }
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read: {e}"))?;
    let mut text = String::new();
    file.take(MAX_CASE_BYTES + 1).read_to_string(&mut text).map_err(|e| format!("cannot read: {e}"))?;
    if text.len() as u64 > MAX_CASE_BYTES {
        return Err(format!("larger than the {MAX_CASE_BYTES}-byte limit for a case file"));
    }
    Ok(text)
}

/// Runs cases on one backend. The KZG context is built on the first KZG case and kept for
/// the rest, over the runner's own backend (so a failing backend fails the cases, never
/// a stand-in).
pub struct Runner {
    backend: Arc<dyn Backend>,
    kzg: OnceCell<KzgContext>,
}

impl Runner {
    /// A runner over `backend`.
    pub fn new(backend: Arc<dyn Backend>) -> Self {
        Self { backend, kzg: OnceCell::new() }
    }

    fn kzg(&self) -> Result<&KzgContext, String> {
        if let Some(ctx) = self.kzg.get() {
            return Ok(ctx);
        }
        let ctx = KzgContext::new(self.backend.clone()).map_err(|e| format!("KZG context: {e}"))?;
        Ok(self.kzg.get_or_init(|| ctx))
    }

    /// Runs one case file; `Err` carries the reason it failed.
    pub fn run_file(&self, path: &Path, kind: &CaseKind) -> Result<(), String> {
        self.run_text(kind, &read_case(path)?)
    }

    /// Runs one case from its text (what a file of `kind` holds); `Err` carries the reason
    /// it failed. The fuzz target of the case parser calls this.
    pub fn run_text(&self, kind: &CaseKind, text: &str) -> Result<(), String> {
        match kind {
            CaseKind::Bls { handler } => bls::run_case(handler, text, self.backend.as_ref()),
            CaseKind::Kzg { function } => kzg::run_case(function, text, self.kzg()?),
        }
    }
}

/// Runs every case under `paths` on `backend`, calling `on_failure` as each failure happens.
pub fn run(
    paths: &[PathBuf],
    backend: Arc<dyn Backend>,
    mut on_failure: impl FnMut(&Failure),
) -> Result<Outcome, VectorsError> {
    let runner = Runner::new(backend);
    let mut outcome = Outcome::default();
    for (path, kind) in collect(paths)? {
        match runner.run_file(&path, &kind) {
            Ok(()) => outcome.passed += 1,
            Err(reason) => {
                let f = Failure { path, reason };
                on_failure(&f);
                outcome.failures.push(f);
            }
        }
    }
    Ok(outcome)
}

/// At most `max` characters of `s`, with `…` when cut (never inside a character).
pub(crate) fn truncate(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &s[..cut]),
        None => s.to_string(),
    }
}
