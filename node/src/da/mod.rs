//! Tiramisu data availability around the engine: the block payload format, Mascarpone (the DA committee's payload
//! check and share rebuilding), Savoiardi (VID dispersal, share checks, recovery), and the dispersal directory
//! format `crema vid` reads and writes.

pub mod block;
pub mod dispersal_dir;
pub mod mascarpone;
pub mod savoiardi;
pub mod service;
