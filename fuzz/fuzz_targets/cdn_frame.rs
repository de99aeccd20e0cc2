//! The Cocoa broker frame (`CDF`, every kind) under small limits (4 KiB messages, 16 nodes, so over-limit
//! lengths, node ids and recipient lists are reached): whatever decodes encodes back to the same bytes, and stays
//! within the limits.
#![no_main]

use crema_fuzz::assert_round_trip;
use crema_node::cdn::frame::{self, Frame, FrameLimits, Target};
use libfuzzer_sys::fuzz_target;

const LIMITS: FrameLimits = FrameLimits { max_message: 4096, max_nodes: 16 };

fuzz_target!(|data: &[u8]| {
    let Ok(f) = frame::decode(data, &LIMITS) else { return };
    assert!(data.len() <= LIMITS.max_frame(), "a frame over the limit decoded");
    let message = match &f {
        Frame::Publish { bytes, .. } | Frame::Direct { bytes, .. } | Frame::Deliver { bytes, .. } => bytes.len(),
        Frame::Forward { bytes, .. } => bytes.len(),
        Frame::Fetched { bytes: Some(b), .. } => b.len(),
        _ => 0,
    };
    assert!(message <= LIMITS.max_message, "a message over the limit decoded");
    if let Frame::Direct { to, .. } | Frame::Forward { target: Target::Nodes(to), .. } = &f {
        assert!(to.len() <= LIMITS.max_nodes && to.iter().all(|&n| usize::from(n) < LIMITS.max_nodes));
    }
    assert_round_trip(&f, &frame::encode(&f), data);
});
