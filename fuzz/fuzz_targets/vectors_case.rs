//! The `crema vectors` case parser and runner: the first byte picks a KZG function or BLS
//! handler, the rest is the case file's text (YAML or JSON), run on the cpu backend. Any
//! outcome is fine except a panic.
#![no_main]

use std::sync::Arc;

use crema_engine::backend::Cpu;
use crema_engine::vectors::{CaseKind, Runner, bls, kzg};
use libfuzzer_sys::fuzz_target;

thread_local! {
    static RUNNER: Runner = Runner::new(Arc::new(Cpu::new()));
}

fuzz_target!(|data: &[u8]| {
    let [pick, text @ ..] = data else { return };
    let Ok(text) = std::str::from_utf8(text) else { return };
    let names = kzg::FUNCTIONS.len() + bls::HANDLERS.len();
    let i = usize::from(*pick) % names;
    let kind = match kzg::FUNCTIONS.get(i) {
        Some(f) => CaseKind::Kzg { function: f.to_string() },
        None => CaseKind::Bls { handler: bls::HANDLERS[i - kzg::FUNCTIONS.len()].to_string() },
    };
    let _ = RUNNER.with(|r| r.run_text(&kind, text));
});
