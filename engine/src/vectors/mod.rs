//! Runner for the public reference-test layouts (used by tests and `crema vectors`).
//!
//! Recognised layouts:
//! - ethereum bls12-381-tests JSON: `.../<handler>/<case>.json` with `input` / `output`
//!   (`output: null` means the call must fail), handlers in [`bls::HANDLERS`].
//! - c-kzg-4844 / consensus-spec-tests KZG YAML: `.../<function>/[<suite>/]<case>/data.yaml` with
//!   `input` / `output` (`output: null` means the call must fail), functions in [`kzg::FUNCTIONS`].
//!
//! Every recognised case is run; a case that fails to parse counts as a failure, never a skip.

pub mod bls;
pub mod kzg;

use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::backend::Backend;

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

/// Every case file under `paths` (files or directories), sorted for a stable order.
pub fn collect(paths: &[PathBuf]) -> Result<Vec<(PathBuf, CaseKind)>, VectorsError> {
    let mut out = Vec::new();
    let mut stack: Vec<PathBuf> = paths.to_vec();
    while let Some(p) = stack.pop() {
        let meta = std::fs::metadata(&p).map_err(|source| VectorsError::Io { path: p.clone(), source })?;
        if meta.is_dir() {
            let entries = std::fs::read_dir(&p).map_err(|source| VectorsError::Io { path: p.clone(), source })?;
            for e in entries {
                stack.push(e.map_err(|source| VectorsError::Io { path: p.clone(), source })?.path());
            }
        } else if let Some(kind) = classify(&p) {
            out.push((p, kind));
        }
    }
    out.sort();
    Ok(out)
}

/// Runs one case; `Err` carries the reason it failed.
pub fn run_case(path: &Path, kind: &CaseKind, backend: &dyn Backend) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read: {e}"))?;
    match kind {
        CaseKind::Bls { handler } => bls::run_case(handler, &text, backend),
        CaseKind::Kzg { function } => kzg::run_case(function, &text, backend),
    }
}

/// Runs every case under `paths`, calling `on_failure` as each failure happens.
pub fn run(
    paths: &[PathBuf],
    backend: &dyn Backend,
    mut on_failure: impl FnMut(&Failure),
) -> Result<Outcome, VectorsError> {
    let mut outcome = Outcome::default();
    for (path, kind) in collect(paths)? {
        match run_case(&path, &kind, backend) {
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
