//! How the tests of this binary share the machine. The harness runs as many tests at once as there are cores (two
//! in CI). Most tests that start node networks leave the cores half idle (timers, sockets, a few processes at 10-60%
//! of a core each), so they run side by side, and beside the simulations. The few whose assertions depend on an
//! unloaded machine (a time bound, a count of resends) hold [`alone`]; the tests that load it hold [`shared`].

use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

static MACHINE: RwLock<()> = RwLock::new(());

/// Held by a test that starts processes or keeps cores busy: any number run at once, none beside an [`alone`] one.
pub fn shared() -> RwLockReadGuard<'static, ()> {
    // A failed test poisons the lock; the next ones still run.
    MACHINE.read().unwrap_or_else(|e| e.into_inner())
}

/// Held by a test that measures time or load: it waits for every [`shared`] test to end and runs by itself.
pub fn alone() -> RwLockWriteGuard<'static, ()> {
    MACHINE.write().unwrap_or_else(|e| e.into_inner())
}
