//! IETF BLS signatures, ciphersuite `BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_` (min-pk),
//! aggregation and stake-weighted certificates.
