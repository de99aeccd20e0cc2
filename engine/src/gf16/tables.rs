//! GF(2^16) arithmetic and the three lookup tables the Leopard code needs, each built once.
//!
//! # The field
//!
//! Elements are 16-bit values. The field is `GF(2)[x] / (x^16 + x^5 + x^3 + x^2 + 1)`
//! (polynomial `0x1002D`), but elements are *not* written in the polynomial basis: Leopard
//! writes them in a **Cantor basis** `β_0 .. β_15` ([`CANTOR_BASIS`], each `β_i` given in
//! the polynomial basis), so the 16-bit value `c` stands for `Σ_{bit i of c set} β_i`.
//! A Cantor basis has `β_i^2 + β_i = β_{i-1}` (and `β_0 = 1`), which makes the subspace
//! polynomials of the additive FFT cheap; that is the whole reason for the basis change.
//! Addition is XOR in any basis. Multiplication goes through logarithms to the base of the
//! generator `x`: `a·b = exp[(log a + log b) mod 65535]`.
//!
//! # The tables
//!
//! * [`Tables::exp`] / [`Tables::log`]: discrete logarithms (65535 entries each; `log[0]` is
//!   unused because zero has no logarithm and [`Tables::mul`] tests for it).
//! * [`Tables::skew`]: the twiddle factors of the additive FFT. `skew[j]` is the value, at a
//!   point of the evaluation set, of the normalised subspace polynomial used by the butterfly
//!   that sits at position `j + 1` of its layer (see `naive::fft`).
//! * [`Tables::log_walsh`]: the Walsh–Hadamard transform of the log table, used by the decoder
//!   to evaluate the error-locator polynomial at every point with two more Walsh transforms
//!   (logarithms add under multiplication, so a "multiplicative" convolution becomes an
//!   additive one in the log domain, and the Walsh transform diagonalises that).
//!
//! Everything here matches reed-solomon-simd 3.x bit for bit; the unit tests compare the
//! tables with the ones that crate exports.

use std::sync::OnceLock;

/// Number of field elements.
pub const ORDER: usize = 1 << 16;

/// Order of the multiplicative group: logarithms live in `0..MODULUS`.
pub const MODULUS: u32 = (ORDER - 1) as u32;

/// The reduction polynomial `x^16 + x^5 + x^3 + x^2 + 1`, in the polynomial basis.
pub const POLYNOMIAL: u32 = 0x1_002D;

/// Leopard's Cantor basis `β_0 .. β_15`, each written in the polynomial basis.
pub const CANTOR_BASIS: [u16; 16] = [
    0x0001, 0xACCA, 0x3C0E, 0x163E, 0xC582, 0xED2E, 0x914C, 0x4012, 0x6C98, 0x10D8, 0x6A72, 0xB900, 0xFDB8, 0xFB34,
    0xFF38, 0x991E,
];

/// The lookup tables; get the shared instance with [`tables`].
pub struct Tables {
    /// `exp[l]` is the element whose logarithm is `l`, for `l < 65535`.
    pub exp: Vec<u16>,
    /// `log[a]` is the logarithm of the nonzero element `a` (`log[0] = 0`, never used).
    pub log: Vec<u16>,
    /// FFT twiddle factors, as field elements (65535 entries).
    pub skew: Vec<u16>,
    /// Walsh–Hadamard transform (mod 65535) of the log table with `log[0]` taken as 0.
    pub log_walsh: Vec<u16>,
}

/// The tables, built on first use and shared by every caller afterwards.
pub fn tables() -> &'static Tables {
    static TABLES: OnceLock<Tables> = OnceLock::new();
    TABLES.get_or_init(Tables::build)
}

/// `(a + b) mod 65535` for logarithms already in `0..=65535`.
pub fn add_mod(a: u16, b: u16) -> u16 {
    ((u32::from(a) + u32::from(b)) % MODULUS) as u16
}

/// `(a - b) mod 65535` for logarithms already in `0..=65535`.
pub fn sub_mod(a: u16, b: u16) -> u16 {
    ((u32::from(a) + MODULUS - u32::from(b) % MODULUS) % MODULUS) as u16
}

impl Tables {
    /// `a · b` in the field.
    pub fn mul(&self, a: u16, b: u16) -> u16 {
        if a == 0 || b == 0 { 0 } else { self.mul_log(a, self.log[usize::from(b)]) }
    }

    /// `a · exp[log_b]`: multiplication by an element given through its logarithm (the
    /// decoder computes logarithms directly, so it never needs the element itself).
    pub fn mul_log(&self, a: u16, log_b: u16) -> u16 {
        if a == 0 { 0 } else { self.exp[usize::from(add_mod(self.log[usize::from(a)], log_b))] }
    }

    /// The multiplicative inverse of a nonzero element.
    pub fn inv(&self, a: u16) -> u16 {
        debug_assert_ne!(a, 0, "zero has no inverse");
        self.exp[usize::from(sub_mod(0, self.log[usize::from(a)]))]
    }

    fn build() -> Self {
        let (exp, log) = exp_log();
        let mut t = Tables { exp, log, skew: Vec::new(), log_walsh: Vec::new() };
        t.skew = t.build_skew();
        let mut log_walsh = t.log.clone();
        log_walsh[0] = 0;
        walsh_hadamard(&mut log_walsh);
        t.log_walsh = log_walsh;
        t
    }

    /// The twiddle factors. Layer by layer (`m = 0 .. 15`) the additive FFT splits the
    /// evaluation set by the subspace spanned by the first basis vectors; `basis[i]` holds the
    /// image of the basis vector `2^(i+1)` under the current normalised subspace polynomial
    /// `Ŵ_m`, and `skew` collects, for every coset, the XOR of the images of its offset bits.
    /// Moving to the next layer applies `x ↦ x(x+1) / (v(v+1))` with `v = basis[m]`, which is
    /// the recurrence `Ŵ_{m+1} = Ŵ_m(Ŵ_m + 1) / (Ŵ_m(v)(Ŵ_m(v) + 1))` of subspace polynomials.
    fn build_skew(&self) -> Vec<u16> {
        const BITS: usize = 16;
        let mut skew = vec![0u16; ORDER - 1];
        let mut basis: [u16; BITS - 1] = std::array::from_fn(|i| 1 << (i + 1));
        for m in 0..BITS - 1 {
            let step = 1usize << (m + 1);
            skew[(1 << m) - 1] = 0;
            for (i, &b) in basis.iter().enumerate().skip(m) {
                let s = 1usize << (i + 1);
                for j in ((1 << m) - 1..s).step_by(step) {
                    skew[j + s] = skew[j] ^ b;
                }
            }
            let v = basis[m];
            let norm = self.inv(self.mul(v, v ^ 1));
            for b in basis.iter_mut().skip(m + 1) {
                *b = self.mul(self.mul(*b, *b ^ 1), norm);
            }
        }
        skew
    }
}

/// Builds `exp` and `log` in the Cantor basis.
fn exp_log() -> (Vec<u16>, Vec<u16>) {
    // Logarithms in the polynomial basis: walk the powers of the generator x.
    let mut poly_log = vec![0u16; ORDER];
    let mut state = 1u32;
    for l in 0..MODULUS {
        poly_log[state as usize] = l as u16;
        state <<= 1;
        if state >= ORDER as u32 {
            state ^= POLYNOMIAL;
        }
    }
    // Change of basis: the Cantor value c is Σ β_i over the set bits i of c.
    let mut log = vec![0u16; ORDER];
    let mut exp = vec![0u16; ORDER - 1];
    for (c, log_c) in log.iter_mut().enumerate().skip(1) {
        let poly = (0..16).filter(|i| c >> i & 1 == 1).fold(0u16, |acc, i| acc ^ CANTOR_BASIS[i]);
        *log_c = poly_log[usize::from(poly)];
        exp[usize::from(*log_c)] = c as u16;
    }
    (exp, log)
}

/// In-place Walsh–Hadamard transform over the integers mod 65535 (length 65536):
/// every butterfly maps `(a, b)` to `(a + b, a − b)`.
pub fn walsh_hadamard(data: &mut [u16]) {
    debug_assert_eq!(data.len(), ORDER);
    let mut dist = 1;
    while dist < data.len() {
        for r in (0..data.len()).step_by(2 * dist) {
            for i in r..r + dist {
                let (a, b) = (data[i], data[i + dist]);
                data[i] = add_mod(a, b);
                data[i + dist] = sub_mod(a, b);
            }
        }
        dist *= 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reed_solomon_simd::engine::tables as rs;

    /// The crate keeps logarithms in `0..=65535` with 65535 ≡ 0; compare modulo 65535.
    fn same_log(a: u16, b: u16) -> bool {
        u32::from(a) % MODULUS == u32::from(b) % MODULUS
    }

    #[test]
    fn exp_log_match_reed_solomon_simd() {
        let t = tables();
        let theirs = rs::get_exp_log();
        for a in 1..ORDER {
            assert!(same_log(t.log[a], theirs.log[a]), "log[{a}]");
        }
        for l in 0..ORDER - 1 {
            assert_eq!(t.exp[l], theirs.exp[l], "exp[{l}]");
        }
    }

    #[test]
    fn skew_and_log_walsh_match_reed_solomon_simd() {
        let t = tables();
        let their_log = &rs::get_exp_log().log;
        for (j, (&ours, &theirs)) in t.skew.iter().zip(rs::get_skew().iter()).enumerate() {
            // The crate stores skew as logarithms, with 65535 standing for the element 0.
            let theirs_elem = if theirs == MODULUS as u16 { 0 } else { t.exp[usize::from(theirs)] };
            assert_eq!(ours, theirs_elem, "skew[{j}] (their log {theirs}, log of ours {})", their_log[ours as usize]);
        }
        for (i, (&ours, &theirs)) in t.log_walsh.iter().zip(rs::get_log_walsh().iter()).enumerate() {
            assert!(same_log(ours, theirs), "log_walsh[{i}]: {ours} vs {theirs}");
        }
    }

    #[test]
    fn field_axioms_on_samples() {
        let t = tables();
        for a in [1u16, 2, 3, 0x1234, 0xFFFF, 0x8000] {
            assert_eq!(t.mul(a, t.inv(a)), 1, "a · a⁻¹ for {a:#x}");
            assert_eq!(t.mul(a, 1), a);
            assert_eq!(t.mul(a, 0), 0);
            for b in [5u16, 0xACCA, 0x00FF] {
                assert_eq!(t.mul(a, b), t.mul(b, a));
                // Distributes over XOR (addition).
                assert_eq!(t.mul(a, b ^ 7), t.mul(a, b) ^ t.mul(a, 7));
            }
        }
    }
}
