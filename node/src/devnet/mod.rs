//! Local networks of real node processes: the cluster runner and the API client (`crema devnet` and the
//! multi-process tests build on them).

pub mod checks;
pub mod client;
pub mod cluster;
pub mod load;
pub mod observe;
pub mod plot;
pub mod run;
pub mod timeline;
