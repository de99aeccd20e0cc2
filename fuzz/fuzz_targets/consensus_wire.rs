//! The consensus wire format (`CMS`): every message kind a peer can send, decoded under the limits
//! of a small network with both certificate schemes (BLS points must be on the curve and in the
//! subgroup, MAC certificates are plain lists), and canonical: a decoded message encodes back to
//! the same bytes.
#![no_main]

use crema_fuzz::assert_round_trip;
use crema_node::consensus::wire::{self, WireLimits};
use crema_node::consensus::{BlsScheme, CertScheme, MacScheme};
use libfuzzer_sys::fuzz_target;

fn check<C: CertScheme>(data: &[u8], limits: &WireLimits) {
    if let Ok(msg) = wire::decode::<C>(data, limits) {
        assert_round_trip(&msg, &wire::encode(&msg), data);
        let _ = wire::view_of(&msg);
    }
}

fuzz_target!(|data: &[u8]| {
    let limits = WireLimits::for_network(64, 1 << 20);
    check::<BlsScheme>(data, &limits);
    check::<MacScheme>(data, &limits);
    if let Ok(h) = wire::decode_header(data) {
        assert_round_trip(&h, &wire::encode_header(&h), data);
    }
});
