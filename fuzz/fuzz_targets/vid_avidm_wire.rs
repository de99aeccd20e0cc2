//! AvidM wire formats: common data (`CVC`) and shares (`CVS`), as `crema vid` reads them from
//! `common.bin` and share files (and the node will from the network).
#![no_main]

use crema_engine::vid::avidm::{Common, Share};
use crema_fuzz::canonical;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(common) = canonical::<Common>(data) {
        let _ = common.commitment();
    }
    canonical::<Share>(data);
    let _ = crema_engine::vid::common_kind(data);
});
