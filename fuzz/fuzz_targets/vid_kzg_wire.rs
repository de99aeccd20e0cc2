//! KZG VID wire formats: common data (`CKC`) and shares (`CKS`).
#![no_main]

use crema_engine::vid::kzg::{Common, Share};
use crema_fuzz::canonical;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(common) = canonical::<Common>(data) {
        let _ = common.commitment();
    }
    canonical::<Share>(data);
});
