//! The CPU backend's fixed-base tables for resident bases, keyed by [`G1Bases::id`].
//!
//! A table costs `c` doublings per base and window (hundreds of milliseconds for the KZG
//! setup), which would dominate a short CLI run that commits to one blob. So the first MSM over
//! resident bases queues the build on one background thread and runs on Pippenger meanwhile;
//! later MSMs use the table once it is ready. The builder is a plain thread with a one-thread
//! rayon pool of its own: on the global pool its work would be stolen ahead of the caller's
//! (rayon prefers local work), starving the very MSM it is meant not to slow down. [`prepared`] builds it now (blocking), for callers that
//! want steady-state speed from the first call (a node at start-up, benches). Either path gives
//! the same bytes.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, mpsc};

use super::G1Bases;
use super::fixed_base::FixedBaseTable;

/// One base set's table: built at most once, by whoever gets there first.
#[derive(Default)]
struct Slot {
    table: OnceLock<FixedBaseTable>,
    started: AtomicBool,
}

/// Resident bases are few and long-lived by contract, so the cache is never pruned.
fn slot(bases: &G1Bases) -> Arc<Slot> {
    static SLOTS: OnceLock<Mutex<HashMap<u64, Arc<Slot>>>> = OnceLock::new();
    let slots = SLOTS.get_or_init(Default::default);
    slots.lock().unwrap_or_else(|e| e.into_inner()).entry(bases.id()).or_default().clone()
}

/// A handle to a finished table.
pub(crate) struct Table(Arc<Slot>);

impl std::ops::Deref for Table {
    type Target = FixedBaseTable;

    fn deref(&self) -> &FixedBaseTable {
        self.0.table.get().expect("a Table is only handed out once built")
    }
}

/// The table if it is built; otherwise starts building it in the background (once) and
/// returns `None`, and the caller runs without it.
pub(crate) fn ready(bases: &G1Bases) -> Option<Table> {
    let slot = slot(bases);
    if slot.table.get().is_some() {
        return Some(Table(slot));
    }
    if !slot.started.swap(true, Ordering::AcqRel) {
        let job: Job = (bases.clone(), slot);
        // A send fails only if the builder thread could not start; the caller then simply
        // keeps running without the table.
        let _ = builder().lock().unwrap_or_else(|e| e.into_inner()).send(job);
    }
    None
}

type Job = (G1Bases, Arc<Slot>);

/// The background builder's queue (the thread starts on first use).
fn builder() -> &'static Mutex<mpsc::Sender<Job>> {
    static BUILDER: OnceLock<Mutex<mpsc::Sender<Job>>> = OnceLock::new();
    BUILDER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Job>();
        let _ = std::thread::Builder::new().name("crema-tables".into()).spawn(move || {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().ok();
            for (bases, slot) in rx {
                let build = || FixedBaseTable::new(bases.points());
                slot.table.get_or_init(|| match &pool {
                    Some(pool) => pool.install(build),
                    None => build(),
                });
            }
        });
        Mutex::new(tx)
    })
}

/// The table, built now if need be (waiting for a background build already under way).
pub(crate) fn prepared(bases: &G1Bases) -> Table {
    let slot = slot(bases);
    slot.started.store(true, Ordering::Release);
    slot.table.get_or_init(|| FixedBaseTable::new(bases.points()));
    Table(slot)
}
