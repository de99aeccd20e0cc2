//! Crash-safe file replacement: a file is either its old content or its complete new content, never half of
//! either, and no stray temporary file survives a failure.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

/// Why a file could not be written into place.
#[derive(Debug, thiserror::Error)]
#[error("writing {path}: {source}")]
pub struct WriteError {
    /// The file that was to be written.
    pub path: PathBuf,
    /// What the operating system said.
    #[source]
    pub source: io::Error,
}

/// Writes `bytes` to `path` atomically: into a uniquely named temporary file in the same directory (so it never
/// clobbers another file, and the rename stays on one file system), synced, renamed over `path`, and the
/// directory synced so the rename itself survives a crash. On any failure the temporary file is removed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    write_parts_buffered(path, &[bytes])
}

/// [`write_atomic`] of the concatenation of `parts`, through the page cache.
fn write_parts_buffered(path: &Path, parts: &[&[u8]]) -> Result<(), WriteError> {
    let fill = |f: &File| parts.iter().try_for_each(|p| (&*f).write_all(p));
    replace(path, |dir, prefix| temp_builder(prefix).tempfile_in(dir), fill)
}

/// [`write_atomic`] for bulk data (the store's shares and payloads): on Linux the bytes go to the disk with
/// `O_DIRECT`, past the page cache. Copying megabytes per block into freshly allocated page-cache pages was the
/// largest single cost of a DA member under load (30% of its CPU in the devnet's throughput preset). The file
/// holds the concatenation of `parts` (a record's small head and its borrowed megabyte body, copied once, into
/// the write's staging buffer). The same crash safety holds: the data and the file's size are synced before the
/// rename. A file system that refuses `O_DIRECT` (tmpfs on older kernels, some network file systems) gets the
/// buffered write, and a debug log once.
pub fn write_atomic_direct(path: &Path, parts: &[&[u8]]) -> Result<(), WriteError> {
    #[cfg(target_os = "linux")]
    if direct::ALLOWED.load(std::sync::atomic::Ordering::Relaxed) {
        match direct::write(path, parts) {
            Err(e) if e.source.raw_os_error() == Some(libc::EINVAL) => direct::refused(&e),
            done => return done,
        }
    }
    write_parts_buffered(path, parts)
}

#[cfg(target_os = "linux")]
mod direct {
    //! The `O_DIRECT` write: the bytes are copied into an aligned, reused buffer, padded to whole blocks,
    //! written, and the file cut back to its true length.

    use std::cell::RefCell;
    use std::fs::{File, OpenOptions};
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    use std::path::Path;
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::{WriteError, replace, temp_builder};

    /// Buffer address, file offset and length alignment that satisfies every Linux block device (the logical
    /// block size is 512 or 4096).
    const ALIGN: usize = 4096;

    /// Cleared once a file system refused `O_DIRECT`: every later write is buffered.
    pub static ALLOWED: AtomicBool = AtomicBool::new(true);

    thread_local! {
        /// One aligned staging buffer per thread, reused: a fresh one per write would cost the page faults the
        /// direct write saves.
        static STAGING: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    }

    pub fn write(path: &Path, parts: &[&[u8]]) -> Result<(), WriteError> {
        let open = |dir: &Path, prefix: &str| {
            temp_builder(prefix).make_in(dir, |p| {
                OpenOptions::new().write(true).create_new(true).mode(0o600).custom_flags(libc::O_DIRECT).open(p)
            })
        };
        replace(path, open, |f| staged(f, parts))
    }

    fn staged(file: &File, parts: &[&[u8]]) -> std::io::Result<()> {
        STAGING.with_borrow_mut(|buf| {
            let len: usize = parts.iter().map(|p| p.len()).sum();
            let padded = len.div_ceil(ALIGN) * ALIGN;
            if buf.len() < padded + ALIGN {
                buf.resize(padded + ALIGN, 0);
            }
            let start = buf.as_ptr().align_offset(ALIGN);
            let block = &mut buf[start..start + padded];
            let mut at = 0;
            for p in parts {
                block[at..at + p.len()].copy_from_slice(p);
                at += p.len();
            }
            block[len..].fill(0);
            // Whole aligned blocks. `write_all` retries a short write; with `O_DIRECT` the retry's unaligned rest
            // fails with EINVAL, which the caller takes as a refusal and writes the file again, buffered.
            (&*file).write_all(block)?;
            file.set_len(len as u64)
        })
    }

    pub fn refused(e: &WriteError) {
        if ALLOWED.swap(false, Ordering::Relaxed) {
            tracing::debug!(
                "{}: O_DIRECT refused ({}); bulk data is written through the page cache",
                e.path.display(),
                e.source
            );
        }
    }
}

/// The temporary-file name pattern: `.<name>.<random>.tmp`.
fn temp_builder(prefix: &str) -> tempfile::Builder<'_, 'static> {
    let mut b = tempfile::Builder::new();
    b.prefix(prefix).suffix(".tmp");
    b
}

/// The shared steps of an atomic replace: create the temporary file with `create`, fill it with `fill`, sync
/// it, rename it over `path`, sync the directory.
fn replace(
    path: &Path,
    create: impl FnOnce(&Path, &str) -> io::Result<NamedTempFile>,
    fill: impl FnOnce(&File) -> io::Result<()>,
) -> Result<(), WriteError> {
    let err = |source| WriteError { path: path.to_path_buf(), source };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path.file_name().ok_or_else(|| err(io::Error::other("the path names no file")))?;
    // `NamedTempFile` deletes itself when dropped, so every early return below cleans up.
    let tmp = create(dir, &format!(".{}.", name.to_string_lossy())).map_err(err)?;
    fill(tmp.as_file()).map_err(err)?;
    tmp.as_file().sync_all().map_err(err)?;
    tmp.persist(path).map_err(|e| err(e.error))?;
    sync_dir(dir).map_err(err)
}

/// Makes a completed rename in `dir` durable.
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Creates `dir` (and its parents) with a clear error naming it.
pub fn create_dir(dir: &Path) -> Result<(), WriteError> {
    fs::create_dir_all(dir).map_err(|source| WriteError { path: dir.to_path_buf(), source })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> =
            fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        v.sort();
        v
    }

    #[test]
    fn replaces_whole_files_and_leaves_neighbours_alone() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("foo.bin");
        // The old implementation wrote through `foo.tmp` and so destroyed this unrelated file.
        fs::write(dir.path().join("foo.tmp"), b"someone else's").unwrap();
        write_atomic(&target, b"first").unwrap();
        write_atomic(&target, b"second").unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"second");
        assert_eq!(fs::read(dir.path().join("foo.tmp")).unwrap(), b"someone else's");
        assert_eq!(names(dir.path()), ["foo.bin", "foo.tmp"], "no temporary file left behind");
    }

    #[test]
    fn a_failed_rename_leaves_no_temporary_file() {
        // Both writers, buffered and direct (10,000 bytes: more than one direct block).
        type Writer = fn(&Path) -> Result<(), WriteError>;
        let writers: [Writer; 2] = [|t| write_atomic(t, b"data"), |t| write_atomic_direct(t, &[&[1u8; 10_000]])];
        for write in writers {
            let dir = tempfile::tempdir().unwrap();
            // A directory where the file should go: the rename fails after the temporary file was written.
            let target = dir.path().join("taken");
            fs::create_dir(&target).unwrap();
            fs::write(target.join("inside"), b"x").unwrap();
            let e = write(&target).unwrap_err();
            assert!(e.to_string().contains("taken"), "{e}");
            assert_eq!(names(dir.path()), ["taken"], "the temporary file was removed");
        }
    }

    #[test]
    fn direct_writes_keep_every_length_exact_and_leave_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        // Around the 4096-byte block the direct write pads to, and one multi-megabyte record.
        for len in [0usize, 1, 511, 4095, 4096, 4097, 8192 + 7, 5_000_000] {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 7 + len) as u8).collect();
            let target = dir.path().join(format!("blob-{len}"));
            // In two parts split off-block: the file is their concatenation.
            let (head, body) = bytes.split_at(len.min(13));
            write_atomic_direct(&target, &[head, body]).unwrap();
            assert_eq!(fs::read(&target).unwrap(), bytes, "{len} bytes");
            // Replacing keeps the new length, not the old padded one.
            write_atomic_direct(&target, &[&bytes[..len / 2]]).unwrap();
            assert_eq!(fs::read(&target).unwrap(), &bytes[..len / 2], "{len} bytes halved");
        }
        assert!(names(dir.path()).iter().all(|n| n.starts_with("blob-")), "{:?}", names(dir.path()));
    }
}
