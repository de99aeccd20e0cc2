//! The store's tables and its format version: what one redb file holds, and the check that refuses a file this
//! build cannot read.
//!
//! Values are the records of [`super::records`]; keys are plain integers and commitments, so redb orders heights
//! and views numerically.

use std::path::Path;

use redb::{Database, ReadableDatabase, TableDefinition, TableHandle};

use super::StoreError;

/// The format of the whole file: bumped whenever a table or a record layout changes incompatibly.
pub const FORMAT_VERSION: u64 = 2;
/// The key of the format version in [`META`].
const FORMAT_KEY: &str = "format_version";

/// File-wide settings: the format version.
pub const META: TableDefinition<'_, &str, u64> = TableDefinition::new("meta");
/// One record: the consensus safety state.
pub const SAFETY: TableDefinition<'_, (), &[u8]> = TableDefinition::new("safety");
/// Height → decided header and its QC.
pub const HEADERS: TableDefinition<'_, u64, &[u8]> = TableDefinition::new("headers");
/// Height → commit proof, for the top of each decided batch.
pub const PROOFS: TableDefinition<'_, u64, &[u8]> = TableDefinition::new("proofs");
/// Payload commitment → the blob ref of this node's VID share (its record is a file, `blobs.rs`).
pub const SHARES: TableDefinition<'_, &[u8; 32], &[u8]> = TableDefinition::new("shares");
/// Payload commitment → the blob ref of the DA payload (its record is a file).
pub const PAYLOADS: TableDefinition<'_, &[u8; 32], &[u8]> = TableDefinition::new("payloads");
/// (view, commitment) → which of a share ([`HAS_SHARE`]) and a payload ([`HAS_PAYLOAD`]) were stored for that
/// view: the retention index.
pub const BY_VIEW: TableDefinition<'_, (u64, &[u8; 32]), u8> = TableDefinition::new("by_view");

/// [`BY_VIEW`] flag: a share was stored.
pub const HAS_SHARE: u8 = 1;
/// [`BY_VIEW`] flag: a payload was stored.
pub const HAS_PAYLOAD: u8 = 2;

/// Checks the format of an opened file, and on a new (table-less) file creates every table and records the
/// version. A file with tables but no version is not a Crema store.
pub fn prepare(db: &Database, path: &Path) -> Result<(), StoreError> {
    let read = db.begin_read()?;
    let names: Vec<String> = read.list_tables()?.map(|t| t.name().to_string()).collect();
    if names.iter().any(|n| n == META.name()) {
        let meta = read.open_table(META)?;
        let found = meta.get(FORMAT_KEY)?.map(|v| v.value());
        return match found {
            Some(FORMAT_VERSION) => create_tables(db, None),
            Some(found) => Err(StoreError::Version { path: path.to_path_buf(), found, supported: FORMAT_VERSION }),
            None => Err(StoreError::NotAStore { path: path.to_path_buf(), reason: "no format version".into() }),
        };
    }
    if let Some(name) = names.first() {
        let reason = format!("it has tables (\"{name}\") but no format version");
        return Err(StoreError::NotAStore { path: path.to_path_buf(), reason });
    }
    create_tables(db, Some(FORMAT_VERSION))
}

/// Opens every table in one write transaction (redb creates what is missing), writing the version if given.
fn create_tables(db: &Database, version: Option<u64>) -> Result<(), StoreError> {
    let txn = super::begin_write(db)?;
    {
        let mut meta = txn.open_table(META)?;
        if let Some(v) = version {
            meta.insert(FORMAT_KEY, v)?;
        }
        txn.open_table(SAFETY)?;
        txn.open_table(HEADERS)?;
        txn.open_table(PROOFS)?;
        txn.open_table(SHARES)?;
        txn.open_table(PAYLOADS)?;
        txn.open_table(BY_VIEW)?;
    }
    txn.commit()?;
    Ok(())
}

/// Overwrites the recorded format version (tests of the refusal).
#[cfg(test)]
pub fn set_version(db: &Database, version: u64) -> Result<(), StoreError> {
    let txn = super::begin_write(db)?;
    txn.open_table(META)?.insert(FORMAT_KEY, version)?;
    txn.commit()?;
    Ok(())
}
