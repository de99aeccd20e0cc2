//! The DA service protocol (`CDS`): payload and share requests and responses, forwarded
//! transactions; whatever decodes encodes back to the same bytes.
#![no_main]

use crema_fuzz::assert_round_trip;
use crema_node::consensus::WireLimits;
use crema_node::da::service;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(msg) = service::decode(data, &WireLimits::for_network(64, 1 << 20)) {
        assert!(service::is_service(data), "a decoded service message must carry the service tag");
        assert_round_trip(&msg, &service::encode(&msg), data);
    }
});
