//! `crema vectors`: run every reference case under the given paths.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use crema_engine::Backend;

/// Runs the cases, printing one line per failure and `N passed, N failed` last.
/// Exits 1 on any failure or when no case was found.
pub fn run(paths: &[PathBuf], backend: Arc<dyn Backend>) -> anyhow::Result<ExitCode> {
    let outcome = crema_engine::vectors::run(paths, backend, |f| println!("FAIL {}: {}", f.path.display(), f.reason))?;
    if outcome.total() == 0 {
        eprintln!("no reference cases found under {paths:?}");
    }
    println!("{}", outcome.summary());
    Ok(if outcome.total() == 0 || !outcome.failures.is_empty() { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}
