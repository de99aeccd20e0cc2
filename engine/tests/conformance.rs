//! Every backend against the reference backend, byte for byte.

use crema_engine::backend::{Cpu, Reference};

crema_engine::backend_conformance!(reference, Reference::new());
crema_engine::backend_conformance!(cpu, Cpu::new());
