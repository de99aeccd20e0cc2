//! Tiramisu data availability around the engine: Savoiardi (VID dispersal and retrieval), and the dispersal
//! directory format `crema vid` reads and writes.

pub mod dispersal_dir;
