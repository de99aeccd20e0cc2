//! The store's records, as read back from the database file: the first byte picks the decoder
//! (0 safety, 1 decided header, 2 commit proof, 3 share file, 4 payload file, 5 blob ref; the
//! rest the bytes, after an 8-byte little-endian height for 1 and 2). Safety, decided and proof
//! records are tried with both certificate schemes. Whatever decodes encodes back to the same
//! bytes, and a blob ref's view is what `record_view` reads.
#![no_main]

use crema_fuzz::assert_round_trip;
use crema_node::consensus::{BlsScheme, CertScheme, Digest, MacScheme};
use crema_node::store::records;
use libfuzzer_sys::fuzz_target;

/// The height prefix of decided and proof inputs, and the record after it.
fn height_and_record(data: &[u8]) -> Option<(u64, &[u8])> {
    let (height, record) = data.split_first_chunk::<8>()?;
    Some((u64::from_le_bytes(*height), record))
}

fn with_scheme<C: CertScheme>(pick: u8, data: &[u8]) {
    match pick {
        0 => {
            if let Ok(s) = records::decode_safety::<C>(data) {
                assert_round_trip(&s, &records::encode_safety(&s), data);
            }
        }
        1 => {
            let Some((height, record)) = height_and_record(data) else { return };
            if let Ok((header, qc)) = records::decode_decided::<C>(record, height) {
                assert_eq!(header.height, height);
                assert_round_trip(&(&header, &qc), &records::encode_decided(&header, &qc), record);
            }
        }
        2 => {
            let Some((height, record)) = height_and_record(data) else { return };
            if let Ok(proof) = records::decode_proof::<C>(record, height) {
                assert_eq!(Some(proof.child.height), height.checked_add(1));
                assert_round_trip(&proof, &records::encode_proof(&proof), record);
            }
        }
        _ => {}
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, data)) = data.split_first() else { return };
    match pick % 6 {
        pick @ 0..=2 => {
            with_scheme::<BlsScheme>(pick, data);
            with_scheme::<MacScheme>(pick, data);
        }
        3 => {
            let commitment = Digest([7; 32]);
            if let Ok(share) = records::decode_share(data, &commitment) {
                assert_eq!(share.commitment, commitment);
                let encoded = records::encode_share(&share).expect("a decoded share is within the blob limit");
                assert_round_trip(&share, &encoded, data);
            }
        }
        4 => {
            if let Ok((view, payload)) = records::decode_payload(data) {
                let encoded =
                    records::encode_payload(view, &payload).expect("a decoded payload is within the blob limit");
                assert_round_trip(&(view, &payload), &encoded, data);
            }
        }
        _ => {
            if let Ok(r) = records::decode_blob_ref(data) {
                assert_round_trip(&r, &records::encode_blob_ref(&r), data);
                assert_eq!(records::record_view(data), Ok(r.view));
            }
        }
    }
});
