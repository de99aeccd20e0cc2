//! Namespaced VID wire formats: common data (`CNC`) over either scheme, shares (`CNS`) and
//! namespace proofs (`CNP`); a proof that decodes is checked against the decoded table.
#![no_main]

use crema_engine::vid::{NamespaceProof, NsCommon, NsShare};
use crema_engine::vid::{avidm, kzg};
use crema_fuzz::canonical;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(common) = canonical::<NsCommon<avidm::Common>>(data) {
        let commitment = common.commitment();
        for entry in common.table.entries() {
            if let Ok((proof, _)) = common.namespace(entry.id) {
                proof.verify(common.scheme, &commitment).expect("a table's own proof verifies");
            }
        }
    }
    canonical::<NsCommon<kzg::Common>>(data);
    canonical::<NsShare<avidm::Share>>(data);
    canonical::<NsShare<kzg::Share>>(data);
    canonical::<NamespaceProof>(data);
});
