//! Which library does a backend's BLS arithmetic: the hook [`super::Backend::bls_arithmetic`]
//! returns one of these, and the `bls` module runs hash to G2, scalar multiplication and
//! pairings on it.

/// The library behind a backend's BLS pairings, hash to G2 and scalar multiplications. Both
/// give the same bytes and verdicts (the conformance suite and the `bls` module's differential
/// tests check it); the choice changes only speed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BlsArithmetic {
    /// supranational's blst, the implementation Ethereum clients run: the fast path (cpu, gpu).
    #[default]
    Blst,
    /// arkworks' textbook curve code: the independent oracle (the reference backend).
    Arkworks,
}
