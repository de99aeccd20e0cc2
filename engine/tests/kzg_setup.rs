//! The embedded trusted setup: regenerates `engine/assets/trusted_setup.bin` from the ceremony
//! text file when `CREMA_REGEN_KZG_SETUP=1`, otherwise checks that the embedded bytes are the
//! fully validated conversion of that file. Skips loudly when the file is absent (fails under
//! `CI=true`).

use crate::common;

use std::path::PathBuf;

use crema_engine::kzg::EMBEDDED_SHA256;
use crema_engine::kzg::TrustedSetup;
use sha2::{Digest, Sha256};

fn setup_text() -> Option<String> {
    let path = common::shared_vectors("trusted_setup.txt")?;
    Some(std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display())))
}

#[test]
fn embedded_setup_is_the_validated_ceremony_file() {
    let Some(text) = setup_text() else { return };
    // md5 of the ceremony file the crate was built from: 84e7a4173d9c673f27f8520b697fa950.
    let parsed = TrustedSetup::from_text(&text).expect("ceremony file parses with full validation");
    let binary = parsed.to_binary();
    let hash = hex::encode(Sha256::digest(&binary));
    let asset = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/trusted_setup.bin"));
    if std::env::var("CREMA_REGEN_KZG_SETUP").as_deref() == Ok("1") {
        std::fs::write(&asset, &binary).expect("write asset");
        eprintln!("wrote {} ({} bytes), sha256 {hash}: set EMBEDDED_SHA256 to it", asset.display(), binary.len());
        return;
    }
    assert_eq!(hash, EMBEDDED_SHA256, "regenerate with CREMA_REGEN_KZG_SETUP=1");
    let embedded = TrustedSetup::ethereum().expect("embedded setup loads");
    assert_eq!(embedded, &parsed);
}

#[test]
fn malformed_text_is_a_typed_error() {
    assert!(TrustedSetup::from_text("4096\n65\nzz\n").is_err());
    assert!(TrustedSetup::from_binary(&[0u8; 10]).is_err());
}
