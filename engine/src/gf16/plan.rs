//! The layout of a Leopard codeword, decided once for every backend: which shard counts the
//! code supports, which rate it uses, the checks every encode and decode call passes, and the
//! [`DecodePlan`] that puts each received shard at its field position and names what a decode
//! must restore.
//!
//! The textbook coder ([`super::naive`]) and the cpu and gpu backends all start from these
//! functions, so they cannot disagree on a codeword's shape or refuse different calls.

use super::Gf16Received;
use super::tables::ORDER;
use crate::error::BackendError;

/// Whether Leopard supports `original_count : recovery_count`: both at least 1, and
/// `min(k, m)` rounded up to a power of two plus `max(k, m)` within the 65536 field points.
pub fn supports(original_count: usize, recovery_count: usize) -> bool {
    let (small, large) = (original_count.min(recovery_count), original_count.max(recovery_count));
    small > 0 && large <= ORDER && small.next_power_of_two() + large <= ORDER
}

/// reed-solomon-simd's choice of rate for `k` originals and `m` recovery shards: the rate of
/// the side with more shards (rounded up to powers of two); on a tie it deliberately takes the
/// "wrong" one, because that decodes faster. Requires [`supports`].
pub fn use_high_rate(original_count: usize, recovery_count: usize) -> bool {
    let (k2, m2) = (original_count.next_power_of_two(), recovery_count.next_power_of_two());
    match k2.cmp(&m2) {
        std::cmp::Ordering::Less => false,
        std::cmp::Ordering::Greater => true,
        std::cmp::Ordering::Equal => original_count <= recovery_count,
    }
}

/// Checks an encode call (supported counts, one even, nonzero shard size) and returns the
/// shard size; shared by every backend so all refuse the same calls.
pub fn check_encode(original: &[&[u8]], recovery_count: usize) -> Result<usize, BackendError> {
    const OP: &str = "gf16_encode";
    let k = original.len();
    if k == 0 || recovery_count == 0 {
        return Err(BackendError::invalid(OP, format!("{k} original and {recovery_count} recovery shards")));
    }
    if !supports(k, recovery_count) {
        return Err(BackendError::invalid(OP, format!("unsupported counts {k}:{recovery_count}")));
    }
    check_shard_len(OP, original.iter().copied())
}

/// Checks that the shards share one even, nonzero length and returns it.
fn check_shard_len<'a>(op: &'static str, shards: impl Iterator<Item = &'a [u8]>) -> Result<usize, BackendError> {
    let mut len = None;
    for s in shards {
        match len {
            None if s.is_empty() || !s.len().is_multiple_of(2) => {
                return Err(BackendError::invalid(op, format!("shard size {} is not a positive even number", s.len())));
            }
            None => len = Some(s.len()),
            Some(l) if l != s.len() => {
                return Err(BackendError::invalid(op, format!("shard of {} bytes, expected {l}", s.len())));
            }
            Some(_) => {}
        }
    }
    len.ok_or_else(|| BackendError::invalid(op, "no shards"))
}

/// Where a decode puts every shard, what is erased and what it must restore: the layout of the
/// codeword at its field positions (see [`super::naive`]'s module doc). The textbook decoder and
/// the cpu and gpu backends all start from it, so they cannot disagree on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodePlan {
    /// Field position of original shard 0 (`chunk` in high rate, 0 in low rate).
    pub original_base: usize,
    /// Field position of recovery shard 0 (0 in high rate, `chunk` in low rate).
    pub recovery_base: usize,
    /// Positions at or past this hold no shard: the rows the IFFT may skip.
    pub end: usize,
    /// Rows of the decoder's transforms: `end.next_power_of_two()`.
    pub size: usize,
    /// 1 at every erased position of the 65536 (lost shards and never-filled slots), else 0.
    pub erased: Vec<u16>,
    /// The missing original indices, increasing.
    pub missing: Vec<usize>,
    /// The missing recovery indices, increasing.
    pub missing_recovery: Vec<usize>,
    /// Bytes per shard.
    pub shard_bytes: usize,
}

impl DecodePlan {
    /// The received shards at their field positions (originals, then recovery shards).
    pub fn received<'a>(&self, received: &Gf16Received<'a>) -> Vec<(usize, &'a [u8])> {
        let at = |base: usize, &(i, s): &(usize, &'a [u8])| (base + i, s);
        (received.original.iter().map(|o| at(self.original_base, o)))
            .chain(received.recovery.iter().map(|r| at(self.recovery_base, r)))
            .collect()
    }

    /// The field positions of the missing originals, in the order of [`DecodePlan::missing`].
    pub fn restore(&self) -> Vec<usize> {
        self.missing.iter().map(|&i| self.original_base + i).collect()
    }

    /// The field positions of the missing recovery shards, in the order of
    /// [`DecodePlan::missing_recovery`].
    pub fn restore_recovery(&self) -> Vec<usize> {
        self.missing_recovery.iter().map(|&j| self.recovery_base + j).collect()
    }
}

/// Marks each index of `shards` in a list of `count` flags, refusing indices out of range and
/// duplicates (`side` names the list in errors).
fn mark(op: &'static str, side: &str, count: usize, shards: &[(usize, &[u8])]) -> Result<Vec<bool>, BackendError> {
    let mut have = vec![false; count];
    for &(i, _) in shards {
        let Some(slot) = have.get_mut(i) else {
            return Err(BackendError::invalid(op, format!("{side} index {i} out of range 0..{count}")));
        };
        if std::mem::replace(slot, true) {
            return Err(BackendError::invalid(op, format!("duplicate {side} index {i}")));
        }
    }
    Ok(have)
}

/// Validates a decode call (counts, indices, duplicates, enough shards, one even shard size)
/// and lays it out; `None` when no original is missing (nothing to restore).
pub fn plan_decode(received: &Gf16Received<'_>) -> Result<Option<DecodePlan>, BackendError> {
    const OP: &str = "gf16_decode";
    let (k, m) = (received.original_count, received.recovery_count);
    let (original, recovery) = (&received.original, &received.recovery);
    if !supports(k, m) {
        return Err(BackendError::invalid(OP, format!("unsupported counts {k}:{m}")));
    }
    let have_original = mark(OP, "original", k, original)?;
    let have_recovery = mark(OP, "recovery", m, recovery)?;
    if original.len() + recovery.len() < k {
        return Err(BackendError::invalid(
            OP,
            format!("{} original + {} recovery shards received, {k} needed", original.len(), recovery.len()),
        ));
    }
    if original.len() == k {
        return Ok(None);
    }
    let shard_bytes = check_shard_len(OP, original.iter().chain(recovery).map(|&(_, s)| s))?;

    let high = use_high_rate(k, m);
    let (original_base, recovery_base, end) = if high {
        let chunk = m.next_power_of_two();
        (chunk, 0, chunk + k)
    } else {
        let chunk = k.next_power_of_two();
        (0, chunk, chunk + m)
    };
    let mut erased = vec![0u16; ORDER];
    // Positions never filled by the encoder (unused recovery slots, and in low rate every point
    // past the last recovery shard) are erasures; zero-padding originals are known zeros.
    if high {
        erased[m..original_base].fill(1);
    } else {
        erased[end..].fill(1);
    }
    for (i, &have) in have_original.iter().enumerate() {
        erased[original_base + i] = u16::from(!have);
    }
    for (j, &have) in have_recovery.iter().enumerate() {
        erased[recovery_base + j] = u16::from(!have);
    }
    let missing = (0..k).filter(|&i| !have_original[i]).collect();
    let missing_recovery = (0..m).filter(|&j| !have_recovery[j]).collect();
    Ok(Some(DecodePlan {
        original_base,
        recovery_base,
        end,
        size: end.next_power_of_two(),
        erased,
        missing,
        missing_recovery,
        shard_bytes,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn supported_counts_match_reed_solomon_simd() {
        for (k, m) in [(1, 1), (0, 1), (1, 0), (65535, 1), (1, 65535), (65536, 1), (32768, 32768), (32769, 32768)] {
            assert_eq!(supports(k, m), reed_solomon_simd::ReedSolomonEncoder::supports(k, m), "{k}:{m}");
        }
    }

    #[test]
    fn plans_place_shards_at_their_rate_positions() {
        let s = [0u8; 4];
        // High rate (5 > 2): recovery at 0..2, originals from chunk = 2.
        let r = Gf16Received::new(5, 2, vec![(0, &s[..]), (2, &s), (3, &s)], vec![(1, &s), (0, &s)]);
        let plan = plan_decode(&r).unwrap().expect("originals 1 and 4 are missing");
        assert_eq!((plan.original_base, plan.recovery_base, plan.end, plan.size), (2, 0, 7, 8));
        assert_eq!((plan.missing.clone(), plan.restore()), (vec![1, 4], vec![3, 6]));
        assert_eq!(plan.received(&r).iter().map(|(p, _)| *p).collect::<Vec<_>>(), vec![2, 4, 5, 1, 0]);
        // Low rate (2 < 5): originals at 0..2, recovery from chunk = 2.
        let r = Gf16Received::new(2, 5, vec![], vec![(4, &s[..]), (0, &s)]);
        let plan = plan_decode(&r).unwrap().expect("both originals are missing");
        assert_eq!((plan.original_base, plan.recovery_base, plan.end), (0, 2, 7));
        assert_eq!((plan.missing_recovery.clone(), plan.restore_recovery()), (vec![1, 2, 3], vec![3, 4, 5]));
        assert!(plan.erased[7..].iter().all(|&e| e == 1), "low rate: every point past the code is erased");
        // Nothing missing: no plan.
        assert_eq!(plan_decode(&Gf16Received::new(1, 1, vec![(0, &s[..])], vec![])), Ok(None));
    }
}
