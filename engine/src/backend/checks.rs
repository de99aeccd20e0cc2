//! The shape checks of NTT and MSM calls, run by every backend before its primitive so all
//! refuse the same calls with the same [`BackendError`]. (GF(2^16) calls are checked by
//! [`crate::gf16::plan`], with the code's layout.)

use super::G1Bases;
use crate::error::BackendError;
use crate::field::Fr;

/// Checks the shape of a batched NTT call.
pub(crate) fn check_ntt_shape(values: &[Fr], size: usize) -> Result<(), BackendError> {
    if size == 0 || !size.is_power_of_two() {
        return Err(BackendError::invalid("ntt", format!("size {size} is not a power of two")));
    }
    if size.trailing_zeros() > 32 {
        return Err(BackendError::invalid("ntt", format!("size {size} exceeds Fr's 2^32 two-adicity")));
    }
    if !values.len().is_multiple_of(size) {
        return Err(BackendError::invalid("ntt", format!("{} values is not a multiple of size {size}", values.len())));
    }
    Ok(())
}

/// Checks that no scalar vector is longer than the bases.
pub(crate) fn check_msm_shape(bases: &G1Bases, scalars: &[&[Fr]]) -> Result<(), BackendError> {
    if let Some(s) = scalars.iter().find(|s| s.len() > bases.len()) {
        return Err(BackendError::invalid("msm_g1", format!("{} scalars for {} bases", s.len(), bases.len())));
    }
    Ok(())
}
