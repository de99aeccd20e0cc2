//! The bulky half of the store: every VID share and DA payload record is one file in a directory beside the
//! redb file (`crema.redb.blobs/shares/`, `.../payloads/`), named by its commitment and view, and redb holds a
//! [`BlobRef`] to it. A 5 MB payload is then written once, not copied through redb's pages (which wrote
//! about 2.2 bytes per byte stored), and a pruned block's files are deleted, so the disk use falls with it.
//!
//! Crash safety, the store's promise kept: a file is written whole (temporary file, fsync, rename, directory
//! fsync) before the redb transaction that refers to it commits, so a ref never names a missing or half file.
//! A crash between the two, or before an old file is removed, leaves an unreferenced file, which
//! [`Blobs::sweep`] removes when the store opens. A file that does not match its ref (length or BLAKE3 hash)
//! is a damaged record, reported as such, never served.
//!
//! The file's bytes go past the page cache (`O_DIRECT` on Linux, see [`write_atomic_direct`]): a node writes
//! megabytes per block that it rarely reads back soon, and copying them into fresh cache pages cost a DA member
//! a third of its CPU under load.

use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use redb::TableDefinition;

use super::StoreError;
use super::records::{BlobRef, MAX_RECORD_BYTES, Record};
use super::tables::{HAS_PAYLOAD, HAS_SHARE, PAYLOADS, SHARES};
use crate::atomic_write::write_atomic_direct;
use crate::consensus::{Digest, View};

/// A table's file directory: shares or payloads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// This node's VID shares.
    Shares,
    /// The DA committee's payloads.
    Payloads,
}

impl Kind {
    /// Both kinds.
    pub const ALL: [Kind; 2] = [Kind::Shares, Kind::Payloads];

    /// The table (and directory) name.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Shares => "shares",
            Kind::Payloads => "payloads",
        }
    }

    /// The redb table of this kind's blob refs.
    pub fn table(self) -> TableDefinition<'static, &'static [u8; 32], &'static [u8]> {
        match self {
            Kind::Shares => SHARES,
            Kind::Payloads => PAYLOADS,
        }
    }

    /// Its flag in the retention index (`BY_VIEW`).
    pub fn flag(self) -> u8 {
        match self {
            Kind::Shares => HAS_SHARE,
            Kind::Payloads => HAS_PAYLOAD,
        }
    }
}

/// The blob directory of one store.
#[derive(Debug)]
pub struct Blobs {
    dir: PathBuf,
}

impl Blobs {
    /// The blob directory of the store at `store_path` (`<file>.blobs`), created with its subdirectories.
    pub fn open(store_path: &Path) -> Result<Self, StoreError> {
        let mut name = store_path.file_name().unwrap_or_default().to_os_string();
        name.push(".blobs");
        let dir = store_path.with_file_name(name);
        for kind in Kind::ALL {
            let sub = dir.join(kind.name());
            fs::create_dir_all(&sub).map_err(io_error(&sub))?;
        }
        Ok(Blobs { dir })
    }

    /// The directory.
    #[cfg(test)]
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file of the record stored for `view` under `commitment`.
    fn path(&self, kind: Kind, commitment: &Digest, view: View) -> PathBuf {
        self.dir.join(kind.name()).join(format!("{}-{view}", commitment.hex()))
    }

    /// Writes `record` as the file for (`commitment`, `view`), durable when it returns, and its ref.
    pub fn write(
        &self,
        kind: Kind,
        commitment: &Digest,
        view: View,
        record: &Record<'_>,
    ) -> Result<BlobRef, StoreError> {
        let path = self.path(kind, commitment, view);
        let parts = record.parts();
        write_atomic_direct(&path, &parts).map_err(|e| StoreError::Blob { path: e.path, source: e.source })?;
        Ok(BlobRef::of_parts(view, &parts))
    }

    /// Reads the file `r` refers to and checks it against the ref. `Ok(None)` when the file is gone (a
    /// concurrent prune removed it after the ref was read; the caller looks the ref up again).
    pub fn read(&self, kind: Kind, commitment: &Digest, r: &BlobRef) -> Result<Option<Vec<u8>>, StoreError> {
        let path = self.path(kind, commitment, r.view);
        let file = match fs::File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_error(&path)(e)),
        };
        let damaged = |reason: String| StoreError::Corrupt {
            table: kind.name(),
            key: commitment.hex(),
            reason: crema_engine::codec::WireError::Invalid { what: "blob file", reason },
        };
        // Read at most one byte past the promised length: a grown file is caught without reading all of it.
        let mut bytes = Vec::with_capacity(r.len as usize);
        file.take(r.len.min(MAX_RECORD_BYTES) + 1).read_to_end(&mut bytes).map_err(io_error(&path))?;
        if bytes.len() as u64 != r.len {
            return Err(damaged(format!("{} holds {} bytes, its ref says {}", path.display(), bytes.len(), r.len)));
        }
        if *blake3::hash(&bytes).as_bytes() != r.hash {
            return Err(damaged(format!("{} does not match the hash in its ref", path.display())));
        }
        Ok(Some(bytes))
    }

    /// Removes the file of (`commitment`, `view`); a file already gone is fine.
    pub fn remove(&self, kind: Kind, commitment: &Digest, view: View) -> Result<(), StoreError> {
        let path = self.path(kind, commitment, view);
        match fs::remove_file(&path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(io_error(&path)(e)),
            _ => Ok(()),
        }
    }

    /// Removes every file of `kind` that `referenced` does not claim (by commitment and view): what a crash
    /// left between a file's write and its transaction, or before an old file's removal, and stray temporary
    /// files. Returns how many went.
    pub fn sweep(&self, kind: Kind, referenced: impl Fn(&Digest, View) -> bool) -> Result<u64, StoreError> {
        let sub = self.dir.join(kind.name());
        let mut removed = 0;
        for entry in fs::read_dir(&sub).map_err(io_error(&sub))? {
            let entry = entry.map_err(io_error(&sub))?;
            let name = entry.file_name();
            let keep = name.to_str().and_then(parse_name).is_some_and(|(c, v)| referenced(&c, v));
            if !keep {
                let path = entry.path();
                fs::remove_file(&path).map_err(io_error(&path))?;
                removed += 1;
            }
        }
        Ok(removed)
    }
}

/// The (commitment, view) a blob file name stands for, if it is one.
fn parse_name(name: &str) -> Option<(Digest, View)> {
    let (hex_part, view) = name.split_once('-')?;
    let mut c = [0u8; 32];
    hex::decode_to_slice(hex_part, &mut c).ok()?;
    // Only the canonical spelling (lowercase, no leading zeros): another file is not ours.
    let view: View = view.parse().ok()?;
    (format!("{}-{view}", Digest(c).hex()) == name).then_some((Digest(c), view))
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> StoreError + '_ {
    move |source| StoreError::Blob { path: path.to_path_buf(), source }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_only_canonical_ones_parse() {
        let c = Digest([0xab; 32]);
        let name = format!("{}-42", c.hex());
        assert_eq!(parse_name(&name), Some((c, 42)));
        for bad in [
            format!("{}-042", c.hex()),
            format!("{}-42", c.hex().to_uppercase()),
            format!("{}-", c.hex()),
            format!(".{}-42.x.tmp", c.hex()),
            "ab-42".to_string(),
        ] {
            assert_eq!(parse_name(&bad), None, "{bad}");
        }
    }
}
