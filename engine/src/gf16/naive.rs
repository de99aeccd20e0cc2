//! The textbook Leopard GF(2^16) Reed–Solomon coder: plain, readable, byte for byte what
//! reed-solomon-simd 3.x computes. It is the `reference` backend's GF(2^16), the oracle the cpu
//! and gpu backends are tested against; the codeword's layout (rate, positions, what a decode
//! restores) comes from [`super::plan`], shared with them.
//!
//! # Shards as symbols
//!
//! A shard of `n` bytes (`n` even) holds `n / 2` field elements ("symbols"). The bytes are cut
//! into 64-byte blocks, the last one possibly shorter; a block of `b` bytes holds `b / 2`
//! symbols whose **low bytes come first and high bytes second**: symbol `i` of the block is
//! `block[i] | block[b/2 + i] << 8`. (SIMD engines want 32 low bytes next to each other; a short
//! final block keeps the same split at half of its own length.) See [`to_symbols`].
//!
//! Every step of the code works on each symbol position independently: shard `p`'s symbol `s`
//! only ever meets other shards' symbol `s`. So below a set of shards is a list of rows of
//! symbols, and every operation on "a shard" is applied to every symbol of the row.
//!
//! # The code
//!
//! Leopard uses the additive FFT of Lin, Chung and Han ("novel polynomial basis"): a vector
//! of `2^n` values is a polynomial in a special basis, [`fft`] evaluates it at the points
//! `skew_delta ⊕ 0, skew_delta ⊕ 1, …` (in the Cantor representation) and [`ifft`] goes back.
//! Codeword positions are those points. The data and the recovery shards sit at disjoint sets of
//! positions, and the code is "the polynomial of low degree through the data".
//!
//! * **High rate** (more originals than recovery): `chunk = m.next_power_of_two()`. Recovery
//!   sits at positions `0..chunk`, originals at `chunk..`, in chunks of `chunk` shards. Each
//!   original chunk `c` is interpolated (`ifft` at offset `(c+1)·chunk`), the results are
//!   XOR-ed together, and one `fft` at offset 0 evaluates at the recovery positions.
//! * **Low rate** (more recovery than originals): `chunk = k.next_power_of_two()`. Originals
//!   sit at `0..chunk`, recovery at `chunk..`. The originals are interpolated once (`ifft` at
//!   offset 0) and evaluated on each recovery chunk (`fft` at offset `(c+1)·chunk`).
//!
//! The two rates give different codes; reed-solomon-simd picks one from the counts (see
//! [`use_high_rate`]) and so do we.
//!
//! Decoding (same for both rates, positions as above) is erasure decoding with the formal
//! derivative: with `E(x) = Π_{erased e} (x − e)`, multiply every received value at `p` by
//! `E'(p)`-like factors (computed for all points at once by two Walsh–Hadamard transforms in
//! the log domain, see `erasure_logs`), zero the erased ones, `ifft`, take the formal
//! derivative, `fft`, and divide the erased positions by their factor.
//!
//! The FFTs here always run over the whole block. reed-solomon-simd skips butterflies whose
//! inputs are known zeros or whose outputs are never read; both give the same values at every
//! position that is read, which is what the tests check.

use super::tables::{MODULUS, Tables, sub_mod, tables, walsh_hadamard};
use super::{Gf16Received, check_encode, plan_decode, use_high_rate};
use crate::error::BackendError;

/// Splits a shard into symbols (see the module doc for the block layout).
pub fn to_symbols(shard: &[u8]) -> Vec<u16> {
    let mut out = Vec::with_capacity(shard.len() / 2);
    for block in shard.chunks(64) {
        let (lo, hi) = block.split_at(block.len() / 2);
        out.extend(lo.iter().zip(hi).map(|(&l, &h)| u16::from(l) | u16::from(h) << 8));
    }
    out
}

/// Inverse of [`to_symbols`].
pub fn from_symbols(symbols: &[u16]) -> Vec<u8> {
    let mut out = Vec::with_capacity(symbols.len() * 2);
    for block in symbols.chunks(32) {
        out.extend(block.iter().map(|&s| s as u8));
        out.extend(block.iter().map(|&s| (s >> 8) as u8));
    }
    out
}

/// Mutable access to two distinct rows `i < j`.
fn two_rows(rows: &mut [Vec<u16>], i: usize, j: usize) -> (&mut Vec<u16>, &mut Vec<u16>) {
    let (head, tail) = rows.split_at_mut(j);
    (&mut head[i], &mut tail[0])
}

/// `a[s] ^= b[s] · factor` for every symbol.
fn mul_add(t: &Tables, a: &mut [u16], b: &[u16], factor: u16) {
    for (x, &y) in a.iter_mut().zip(b) {
        *x ^= t.mul(y, factor);
    }
}

/// `a[s] ^= b[s]` for every symbol.
fn xor(a: &mut [u16], b: &[u16]) {
    for (x, &y) in a.iter_mut().zip(b) {
        *x ^= y;
    }
}

/// Additive FFT (decimation in time) of `rows.len()` (a power of two) rows in place: the
/// coefficients go in, the evaluations at points `skew_delta ⊕ i` come out. Each butterfly
/// on `(a, b)` at distance `dist` in the block starting at `r` is
/// `a += b·w; b += a` with the twiddle `w = skew[r + dist + skew_delta − 1]`.
pub fn fft(rows: &mut [Vec<u16>], skew_delta: usize) {
    let t = tables();
    let size = rows.len();
    debug_assert!(size.is_power_of_two());
    let mut dist = size / 2;
    while dist > 0 {
        for r in (0..size).step_by(2 * dist) {
            let w = t.skew[r + dist + skew_delta - 1];
            for i in r..r + dist {
                let (a, b) = two_rows(rows, i, i + dist);
                mul_add(t, a, b, w);
                xor(b, a);
            }
        }
        dist /= 2;
    }
}

/// Inverse of [`fft`] (same twiddles, butterflies undone in reverse order:
/// `b += a; a += b·w`, smallest distance first).
pub fn ifft(rows: &mut [Vec<u16>], skew_delta: usize) {
    let t = tables();
    let size = rows.len();
    debug_assert!(size.is_power_of_two());
    let mut dist = 1;
    while dist < size {
        for r in (0..size).step_by(2 * dist) {
            let w = t.skew[r + dist + skew_delta - 1];
            for i in r..r + dist {
                let (a, b) = two_rows(rows, i, i + dist);
                xor(b, a);
                mul_add(t, a, b, w);
            }
        }
        dist *= 2;
    }
}

/// Formal derivative in the novel polynomial basis: coefficient `i` is added into the
/// `width = lowbit(i)` coefficients just below the block it starts.
fn formal_derivative(rows: &mut [Vec<u16>]) {
    for i in 1..rows.len() {
        let width = 1 << i.trailing_zeros();
        for j in 0..width {
            let (a, b) = two_rows(rows, i - width + j, i + j);
            xor(a, b);
        }
    }
}

/// Encodes `original` (all one even, nonzero length) into `recovery_count` recovery shards.
pub fn encode(original: &[&[u8]], recovery_count: usize) -> Result<Vec<Vec<u8>>, BackendError> {
    let k = original.len();
    let symbols = check_encode(original, recovery_count)? / 2;
    let rows: Vec<Vec<u16>> = original.iter().map(|s| to_symbols(s)).collect();
    let recovery = if use_high_rate(k, recovery_count) {
        encode_high(rows, recovery_count, symbols)
    } else {
        encode_low(rows, recovery_count, symbols)
    };
    Ok(recovery.iter().map(|r| from_symbols(r)).collect())
}

/// High rate: `FFT_0( ⊕_c IFFT_{(c+1)·chunk}(original chunk c) )`, first `m` rows.
fn encode_high(mut originals: Vec<Vec<u16>>, m: usize, symbols: usize) -> Vec<Vec<u16>> {
    let chunk = m.next_power_of_two();
    let padded = originals.len().next_multiple_of(chunk);
    originals.resize(padded, vec![0; symbols]);
    let mut acc = vec![vec![0u16; symbols]; chunk];
    for (c, block) in originals.chunks_mut(chunk).enumerate() {
        ifft(block, (c + 1) * chunk);
        for (a, b) in acc.iter_mut().zip(block.iter()) {
            xor(a, b);
        }
    }
    fft(&mut acc, 0);
    acc.truncate(m);
    acc
}

/// Low rate: `T = IFFT_0(originals)`, then recovery chunk `c` is `FFT_{(c+1)·chunk}(T)`.
fn encode_low(mut originals: Vec<Vec<u16>>, m: usize, symbols: usize) -> Vec<Vec<u16>> {
    let chunk = originals.len().next_power_of_two();
    originals.resize(chunk, vec![0; symbols]);
    ifft(&mut originals, 0);
    let mut out = Vec::with_capacity(m.next_multiple_of(chunk));
    for c in 0..m.div_ceil(chunk) {
        let mut block = originals.clone();
        fft(&mut block, (c + 1) * chunk);
        out.extend(block);
    }
    out.truncate(m);
    out
}

/// Restores the missing original shards of the codeword `received` comes from; returns them as
/// `(index, bytes)` in increasing index order (nothing when no original is missing).
pub fn decode(received: &Gf16Received<'_>) -> Result<Vec<(usize, Vec<u8>)>, BackendError> {
    let Some(plan) = plan_decode(received)? else {
        return Ok(Vec::new());
    };
    let mut rows = vec![Vec::new(); plan.size];
    for (p, s) in plan.received(received) {
        rows[p] = to_symbols(s);
    }
    let logs = erasure_logs(&plan.erased);

    let t = tables();
    for (p, row) in rows.iter_mut().enumerate() {
        if row.is_empty() || plan.erased[p] == 1 {
            *row = vec![0; plan.shard_bytes / 2];
        } else {
            row.iter_mut().for_each(|x| *x = t.mul_log(*x, logs[p]));
        }
    }
    ifft(&mut rows, 0);
    formal_derivative(&mut rows);
    fft(&mut rows, 0);

    Ok(plan
        .missing
        .iter()
        .zip(plan.restore())
        .map(|(&i, p)| {
            let restored: Vec<u16> = rows[p].iter().map(|&x| t.mul_log(x, sub_mod(0, logs[p]))).collect();
            (i, from_symbols(&restored))
        })
        .collect())
}

/// For the 0/1 erasure indicator over all 65536 points, returns at every point `p` the
/// logarithm of the factor the decoder multiplies position `p` by:
/// `log Π_{erased e ≠ p} (p + e)` (the error locator, or its derivative at an erased `p`),
/// all mod 65535. Since `log` of a product is the sum of the logs, this is the XOR-convolution
/// `Σ_e erased[e] · log(p ⊕ e)` (with `log 0` taken as 0, which drops `e = p`), and the
/// Walsh–Hadamard transform turns XOR-convolution into pointwise products:
/// `WHT(WHT(erased) · WHT(log)) = 65536 · (erased ⊛ log)`, where 65536 ≡ 1 (mod 65535).
fn erasure_logs(erased: &[u16]) -> Vec<u16> {
    let t = tables();
    let mut e = erased.to_vec();
    walsh_hadamard(&mut e);
    for (x, &w) in e.iter_mut().zip(&t.log_walsh) {
        *x = ((u32::from(*x) * u32::from(w)) % MODULUS) as u16;
    }
    walsh_hadamard(&mut e);
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbols_round_trip_with_short_tail() {
        for len in [2usize, 62, 64, 66, 128, 130, 190] {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
            let s = to_symbols(&bytes);
            assert_eq!(s.len(), len / 2);
            assert_eq!(from_symbols(&s), bytes, "len {len}");
        }
        // The layout itself: low bytes first within each block.
        assert_eq!(to_symbols(&[1, 2, 3, 4]), vec![0x0301, 0x0402]);
    }

    #[test]
    fn fft_inverts_ifft() {
        let rows: Vec<Vec<u16>> = (0..16u16).map(|i| vec![i.wrapping_mul(4099), i ^ 0xBEEF]).collect();
        for delta in [0, 16, 48] {
            let mut r = rows.clone();
            ifft(&mut r, delta);
            fft(&mut r, delta);
            assert_eq!(r, rows, "skew_delta {delta}");
        }
    }
}
