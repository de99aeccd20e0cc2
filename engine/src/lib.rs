//! # crema-engine
//!
//! The data-availability compute engine of Crema, for DA-node authors to embed: GF(2^16)
//! Reed–Solomon erasure coding ([`erasure`]), Ethereum KZG (EIP-4844 and EIP-7594, [`kzg`]),
//! BLS signatures and stake-weighted certificates ([`bls`]), verifiable information dispersal
//! ([`vid`]), BLAKE3 Merkle trees ([`merkle`]) and one stake model ([`stake`]). It has no async
//! runtime and no networking.
//!
//! ## Where to start
//!
//! 1. **Pick a backend** once, at start-up: [`BackendChoice`] (`auto`, `cpu`, `gpu`,
//!    `reference`) builds an `Arc<dyn Backend>`; every heavy call takes it. `auto` takes a real
//!    GPU when there is one and says why it fell back to the CPU otherwise. All backends give
//!    byte-identical results.
//! 2. **Call the byte-level API** of the module you need. It takes and returns byte arrays and
//!    Crema types, and reports bad input as a typed error (never a panic):
//!
//! | you have | you want | use |
//! |---|---|---|
//! | data shards | recovery shards, and the data back after losses | [`erasure::Gf16Code`] |
//! | an EIP-4844 blob | a commitment, proofs, PeerDAS cells | [`kzg::KzgContext`] |
//! | votes (BLS signatures) | a certificate over a stake table | [`bls::CertificateBuilder`], [`bls::Certificate`] |
//! | a block payload | shares for every node, checkable alone, any threshold rebuilds it | [`vid::Vid`] |
//! | stakes | exact "more than 2/3" and "at least 1/3" checks | [`stake::StakeTable`], [`stake::Fraction`] |
//!
//! **Erasure-code a buffer** (Leopard GF(2^16), the same bytes as reed-solomon-simd):
//! ```
//! use crema_engine::BackendChoice;
//! use crema_engine::erasure::Gf16Code;
//!
//! let backend = BackendChoice::Cpu.build().unwrap();
//! let code = Gf16Code::new(3, 2, 64).unwrap(); // 3 data shards of 64 bytes, 2 recovery shards
//! let data = [[1u8; 64], [2; 64], [3; 64]];
//! let recovery = code.encode(backend.as_ref(), &[&data[0][..], &data[1][..], &data[2][..]]).unwrap();
//! // Any 3 of the 5 shards give the data back (by codeword index: data 0..3, recovery 3..5).
//! let kept = [(2, &data[2][..]), (3, &recovery[0][..]), (4, &recovery[1][..])];
//! let restored = code.decode(backend.as_ref(), &kept).unwrap();
//! assert_eq!(restored, data.map(|d| d.to_vec()));
//! ```
//!
//! **Commit to a blob and prove it** (EIP-4844 with Ethereum's trusted setup, as c-kzg-4844):
//! ```
//! use crema_engine::BackendChoice;
//! use crema_engine::kzg::{BYTES_PER_BLOB, KzgContext};
//!
//! let ctx = KzgContext::new(BackendChoice::Cpu.build().unwrap()).unwrap();
//! let mut blob = [0u8; BYTES_PER_BLOB]; // 4096 field elements, each < r (top byte 0 here)
//! blob[31] = 7;
//! let commitment = ctx.blob_to_kzg_commitment(&blob).unwrap();
//! let proof = ctx.compute_blob_kzg_proof(&blob, &commitment).unwrap();
//! assert!(ctx.verify_blob_kzg_proof(&blob, &commitment, &proof).unwrap());
//! ```
//!
//! **Aggregate votes into a certificate and check it** (BLS min-pk, POP ciphersuite):
//! ```
//! use crema_engine::BackendChoice;
//! use crema_engine::bls::{CertificateBuilder, Committee, KeyTable, SecretKey, pop_prove};
//! use crema_engine::stake::{Fraction, StakeTable};
//!
//! let backend = BackendChoice::Cpu.build().unwrap();
//! let sks: Vec<_> = (1u8..=4).map(|i| SecretKey::key_gen(&[i; 32], b"").unwrap()).collect();
//! let mut keys = KeyTable::new();
//! for sk in &sks {
//!     keys.insert(sk.public_key(), &pop_prove(sk).unwrap()).unwrap(); // proof of possession
//! }
//! let committee = Committee::new(keys, StakeTable::new(vec![10, 20, 30, 40]).unwrap()).unwrap();
//! let msg = b"view 7, block 0x1234";
//! let mut votes = CertificateBuilder::new(&committee, msg);
//! for i in [1, 2, 3] {
//!     votes.add_vote(i, &sks[i].sign(msg).unwrap()).unwrap(); // each vote checked on arrival
//! }
//! assert!(votes.reached(Fraction::TWO_THIRDS)); // 90 of 100 > 2/3
//! let cert = votes.build(backend.as_ref()).unwrap();
//! assert!(cert.verify(&committee, msg, Fraction::TWO_THIRDS, backend.as_ref()).unwrap());
//! ```
//!
//! **Disperse a payload and recover it** (VID: AvidM by default, KZG selectable):
//! ```
//! use crema_engine::BackendChoice;
//! use crema_engine::vid::{Recovered, SchemeKind, Vid, Weights};
//!
//! let backend = BackendChoice::Cpu.build().unwrap();
//! let vid = Vid::new(SchemeKind::Avidm, Weights::equal(10).unwrap(), None).unwrap(); // threshold 1/3
//! let payload = b"a block of rollup transactions".repeat(100);
//! let d = vid.disperse(backend.as_ref(), &payload, None).unwrap();
//! // Every node checks its own share against the 32-byte commitment alone.
//! vid.verify_share(backend.as_ref(), &d.commitment, &d.common, &d.shares[3], 3).unwrap();
//! // Any third of the weight rebuilds the payload: here nodes 6..10.
//! let some: Vec<&[u8]> = d.shares[6..].iter().map(Vec::as_slice).collect();
//! let back = vid.recover(backend.as_ref(), &d.commitment, &d.common, &some).unwrap();
//! assert_eq!(back, Recovered::Plain(payload));
//! ```
//!
//! ## Layout and rules
//!
//! - [`Backend`] is a small trait of compute primitives (GF(2^16) encode/decode, NTT, MSM, point
//!   sums, BLAKE3 leaves); the algorithms (erasure coding, KZG, BLS aggregation, VID) are written
//!   once above it, and every backend must give the canonical bytes of the `reference` backend
//!   (the textbook oracle), which [`backend::conformance`] checks.
//! - **Where arkworks types appear.** The byte-level API of [`erasure`], [`kzg`], [`bls`],
//!   [`vid`], [`merkle`] and [`stake`] takes and returns bytes and Crema types: a caller who only
//!   has bytes never names an arkworks type. Arkworks types (`Fr`, `G1Affine`, …) appear in the
//!   public API only in [`field`] (their canonical byte encodings) and in the [`Backend`]
//!   primitives' signatures, the advanced layer for backend authors and benchmarks. Inside the
//!   engine the algebra code (backends, KZG, BLS) uses arkworks directly; [`field`] is where the
//!   types are named for everyone else and where their encodings live.
//! - Wire formats are built with [`codec`]: tagged, versioned, every length checked against a
//!   limit before allocating.
//! - Thresholds are exact fractions ([`stake::Fraction`]), compared in integers: "more than 2/3"
//!   for certificates, "at least 1/3" for VID recovery.

pub mod backend;
pub mod bls;
pub mod codec;
pub mod erasure;
mod error;
pub mod field;
pub mod gf16;
pub mod kzg;
pub mod merkle;
pub mod stake;
pub mod vectors;
pub mod vid;

pub use backend::{Backend, BackendChoice, Direction, G1Bases, Gf16Received, Gf16Restored};
pub use error::BackendError;
