//! The p2p request-response frame (`len u32 BE | class u8 | body`), read from an in-memory stream
//! under a 1 KiB limit (so over-limit announcements are reached): a frame that reads writes back
//! as the bytes it was read from; bytes after it are left unread.
#![no_main]

use crema_fuzz::assert_round_trip;
use crema_node::net::p2p::{read_frame, write_frame};
use libfuzzer_sys::fuzz_target;
use libp2p::futures::executor::block_on;
use libp2p::futures::io::Cursor;

const MAX: usize = 1024;

fuzz_target!(|data: &[u8]| {
    let mut input = Cursor::new(data);
    let Ok(frame) = block_on(read_frame(&mut input, MAX)) else { return };
    assert!(frame.bytes.len() <= MAX, "a frame over the limit was read");
    let read = usize::try_from(input.position()).expect("a cursor position within the input");
    let mut out = Cursor::new(Vec::new());
    block_on(write_frame(&mut out, &frame)).expect("writing to memory cannot fail");
    assert_round_trip(&frame, out.get_ref(), &data[..read]);
});
