//! The dispersal directory: a VID dispersal on disk, as `crema vid` writes and reads it.
//!
//! ```text
//! DIR/commitment.bin            32 bytes; written last, so its presence marks a complete directory
//! DIR/common.bin                the encoded common data; its tag names the scheme and the layout
//! DIR/shares/node-NNNNN.share   one encoded share per node (NNNNN = node index, 5 digits)
//! ```
//!
//! Every file is replaced atomically ([`write_atomic`]). Reading treats the directory as untrusted input: each
//! file is size-checked before it is read, the node count comes from the common data (at most 65 535), a share's
//! file name only says where to look — the share is checked against its own node index and the commitment by
//! the engine — and a missing share is reported as missing, never silently dropped.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use crema_engine::vid::{EncodedDispersal, MAX_UNITS, Vid};

use crate::atomic_write::{WriteError, create_dir, write_atomic};

/// Largest `common.bin` read (a namespaced dispersal of 1024 namespaces over 65 535 nodes is far below).
pub const MAX_COMMON_BYTES: u64 = 64 << 20;
/// Largest share file read: a whole 1 GiB payload (one node holding every original unit) plus its proofs.
pub const MAX_SHARE_BYTES: u64 = (1 << 30) + (64 << 20);

/// Why a dispersal directory could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum DirError {
    /// A file could not be written into place.
    #[error(transparent)]
    Write(#[from] WriteError),
    /// A file could not be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: io::Error,
    },
    /// A file is larger than anything a valid dispersal contains.
    #[error("{path} is {len} bytes, over the limit of {max} for this file")]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its size.
        len: u64,
        /// The limit.
        max: u64,
    },
    /// `commitment.bin` is not 32 bytes.
    #[error("{path} has {len} bytes, expected 32")]
    BadCommitment {
        /// The file.
        path: PathBuf,
        /// Its size.
        len: usize,
    },
    /// `common.bin` does not decode.
    #[error("decoding {path}: {source}")]
    BadCommon {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: crema_engine::vid::VidError,
    },
}

/// The commitment and common data of a dispersal, and the scheme they name.
#[derive(Debug, Clone)]
pub struct Header {
    /// The 32-byte commitment.
    pub commitment: [u8; 32],
    /// The encoded common data.
    pub common: Vec<u8>,
    /// The scheme that checks and rebuilds this dispersal (weights and threshold from the common data).
    pub vid: Vid,
}

/// One node's share file.
#[derive(Debug)]
pub struct ShareFile {
    /// The node the file name says it is for.
    pub node: usize,
    /// The file.
    pub path: PathBuf,
    /// Its bytes, or why they could not be read.
    pub bytes: Result<Vec<u8>, DirError>,
}

/// A dispersal directory.
#[derive(Debug, Clone)]
pub struct DispersalDir {
    root: PathBuf,
}

impl DispersalDir {
    /// The directory at `root` (nothing is read or created yet).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.root
    }

    /// `commitment.bin`.
    pub fn commitment_path(&self) -> PathBuf {
        self.root.join("commitment.bin")
    }

    /// `common.bin`.
    pub fn common_path(&self) -> PathBuf {
        self.root.join("common.bin")
    }

    /// Node `node`'s share file.
    pub fn share_path(&self, node: usize) -> PathBuf {
        self.root.join("shares").join(format!("node-{node:05}.share"))
    }

    /// Writes the shares (calling `progress` after each), then the common data, then the commitment.
    pub fn write(&self, d: &EncodedDispersal, progress: impl Fn(usize)) -> Result<(), DirError> {
        create_dir(&self.root.join("shares"))?;
        for (node, share) in d.shares.iter().enumerate() {
            write_atomic(&self.share_path(node), share)?;
            progress(node + 1);
        }
        write_atomic(&self.common_path(), &d.common)?;
        write_atomic(&self.commitment_path(), &d.commitment)?;
        Ok(())
    }

    /// Reads and decodes the commitment and common data (not yet checked against each other: the engine does
    /// that in every call that uses them).
    pub fn read_header(&self) -> Result<Header, DirError> {
        let path = self.commitment_path();
        let raw = read_limited(&path, 32)?;
        let commitment: [u8; 32] =
            raw.try_into().map_err(|r: Vec<u8>| DirError::BadCommitment { path: path.clone(), len: r.len() })?;
        let path = self.common_path();
        let common = read_limited(&path, MAX_COMMON_BYTES)?;
        let (vid, _) = Vid::for_common(&common).map_err(|source| DirError::BadCommon { path, source })?;
        Ok(Header { commitment, common, vid })
    }

    /// The share files of nodes `0..nodes` that exist, read (each under [`MAX_SHARE_BYTES`]), and the nodes whose
    /// file is missing.
    pub fn read_shares(&self, nodes: usize) -> (Vec<ShareFile>, Vec<usize>) {
        let (mut present, mut missing) = (Vec::new(), Vec::new());
        // The node count comes from decoded common data, which caps it at the number of VID units.
        for node in 0..nodes.min(MAX_UNITS as usize) {
            let path = self.share_path(node);
            match read_limited(&path, MAX_SHARE_BYTES) {
                Err(DirError::Read { source, .. }) if source.kind() == io::ErrorKind::NotFound => missing.push(node),
                bytes => present.push(ShareFile { node, path, bytes }),
            }
        }
        (present, missing)
    }
}

/// Reads `path` whole, refusing a file over `max` bytes before reading it (and a file that grows past it while
/// being read).
fn read_limited(path: &Path, max: u64) -> Result<Vec<u8>, DirError> {
    let read_err = |source| DirError::Read { path: path.to_path_buf(), source };
    let file = File::open(path).map_err(read_err)?;
    let len = file.metadata().map_err(read_err)?.len();
    if len > max {
        return Err(DirError::TooLarge { path: path.to_path_buf(), len, max });
    }
    let mut bytes = Vec::with_capacity(len as usize);
    file.take(max + 1).read_to_end(&mut bytes).map_err(read_err)?;
    if bytes.len() as u64 > max {
        return Err(DirError::TooLarge { path: path.to_path_buf(), len: bytes.len() as u64, max });
    }
    Ok(bytes)
}

/// Nodes as short ranges for people: `[0, 1, 2, 5, 7, 8]` → `"0-2, 5, 7-8"`.
pub fn ranges(nodes: &[usize]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < nodes.len() {
        let start = nodes[i];
        let mut end = start;
        while i + 1 < nodes.len() && nodes[i + 1] == end + 1 {
            i += 1;
            end = nodes[i];
        }
        out.push(if start == end { start.to_string() } else { format!("{start}-{end}") });
        i += 1;
    }
    out.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_ranges_read_well() {
        assert_eq!(ranges(&[0, 1, 2, 5, 7, 8]), "0-2, 5, 7-8");
        assert_eq!(ranges(&[]), "");
        assert_eq!(ranges(&[4]), "4");
    }

    #[test]
    fn oversized_and_short_files_are_refused_before_use() {
        let dir = tempfile::tempdir().unwrap();
        let d = DispersalDir::new(dir.path());
        std::fs::write(d.commitment_path(), [0u8; 31]).unwrap();
        assert!(matches!(d.read_header(), Err(DirError::BadCommitment { len: 31, .. })));
        std::fs::write(d.commitment_path(), [0u8; 33]).unwrap();
        assert!(matches!(d.read_header(), Err(DirError::TooLarge { len: 33, max: 32, .. })));
        std::fs::write(d.commitment_path(), [0u8; 32]).unwrap();
        std::fs::write(d.common_path(), b"CVC\x01garbage").unwrap();
        assert!(matches!(d.read_header(), Err(DirError::BadCommon { .. })));
        let (present, missing) = d.read_shares(3);
        assert!(present.is_empty());
        assert_eq!(missing, [0, 1, 2]);
    }
}
