//! The `crema` subcommands, one file each (and the output-path check they share); `main.rs` only parses arguments
//! and dispatches.

pub mod bench;
pub mod cdn;
pub mod check;
pub mod devnet;
pub mod info;
pub mod init;
pub mod keygen;
pub mod node;
pub mod sim;
pub mod vectors;
pub mod vid;

use std::path::Path;

use anyhow::bail;

/// Refuses an output path that cannot be written at the end of the run: a directory, a missing
/// parent directory, or (for `--plot`) another extension than `ext`.
pub(crate) fn check_output(path: &Path, flag: &str, ext: Option<&str>) -> anyhow::Result<()> {
    if path.is_dir() {
        bail!("{flag} {} is a directory; name a file", path.display());
    }
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if !parent.is_dir() {
        bail!("{flag} {}: directory {} does not exist", path.display(), parent.display());
    }
    if let Some(ext) = ext
        && !path.extension().is_some_and(|e| e.eq_ignore_ascii_case(ext))
    {
        bail!("{flag} {}: the file name must end in .{ext}", path.display());
    }
    Ok(())
}
