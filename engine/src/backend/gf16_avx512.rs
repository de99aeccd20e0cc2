//! An AVX-512 [`Engine`] for reed-solomon-simd's Leopard transforms: the same FFT, IFFT and
//! multiply, the same bytes, in half the shuffles and with each two-layer butterfly done in
//! registers.
//!
//! Two things make it faster than the crate's AVX2 engine on a CPU with AVX-512BW:
//!
//! - **A whole 64-byte chunk per register.** A chunk is 32 low bytes then 32 high bytes of 32
//!   symbols. The product needs four 4-bit table lookups of each half into each half; with the
//!   chunk `v = [lo | hi]` and its half-swap `s = [hi | lo]` in two zmm registers, tables
//!   arranged per 128-bit lane (`[T0lo, T0lo, T2hi, T2hi]` for `v & 15`, and so on) give the
//!   product in `[lo | hi]` layout from 4 `vpshufb` + 1 lane swap, where AVX2 needs 8 `vpshufb`.
//! - **Fused layers.** The crate's engines do "two layers at a time" as four passes over the
//!   four rows; here every chunk of the four rows is loaded once, goes through both layers in
//!   registers and is stored once: half the loads and stores of the transform.
//!
//! The loop structure over rows (which butterflies, which skew factor, truncation) is exactly
//! reed-solomon-simd 3.1's `engine_avx2.rs`; the tests check every operation against the crate's
//! `Naive` engine on random data, sizes, truncations and skews.

#[cfg(target_arch = "x86_64")]
mod imp {
    use std::arch::x86_64::*;

    use reed_solomon_simd::engine::tables::{self, Mul128, Multiply128lutT, Skew};
    use reed_solomon_simd::engine::{Engine, GF_MODULUS, GfElement, ShardsRefMut};

    /// The AVX-512 engine (construct with [`Avx512::detect`]).
    #[derive(Clone, Copy)]
    pub struct Avx512 {
        mul128: &'static Mul128,
        skew: &'static Skew,
    }

    impl Avx512 {
        /// The engine, if this CPU has AVX-512F and AVX-512BW.
        pub fn detect() -> Option<Self> {
            (is_x86_feature_detected!("avx512f") && is_x86_feature_detected!("avx512bw"))
                .then(|| Self { mul128: tables::get_mul128(), skew: tables::get_skew() })
        }
    }

    /// A multiply-by-constant table set in per-lane layout (see the module doc).
    #[derive(Clone, Copy)]
    struct Lut {
        lo_nibble: __m512i,
        hi_nibble: __m512i,
        swapped_lo_nibble: __m512i,
        swapped_hi_nibble: __m512i,
    }

    // Every helper carries the target features so the intrinsics inline into it (an
    // `#[inline(always)]` helper without them keeps each intrinsic as a function call).

    /// `[a, a, b, b]` of two 128-bit tables.
    #[target_feature(enable = "avx512f,avx512bw")]
    #[inline]
    fn lanes(a: &u128, b: &u128) -> __m512i {
        // SAFETY: unaligned 16-byte loads of two u128s.
        let (a, b) =
            unsafe { (_mm_loadu_si128(std::ptr::from_ref(a).cast()), _mm_loadu_si128(std::ptr::from_ref(b).cast())) };
        _mm512_mask_blend_epi64(0xF0, _mm512_broadcast_i32x4(a), _mm512_broadcast_i32x4(b))
    }

    #[target_feature(enable = "avx512f,avx512bw")]
    #[inline]
    fn lut_of(t: &Multiply128lutT) -> Lut {
        Lut {
            lo_nibble: lanes(&t.lo[0], &t.hi[2]),
            hi_nibble: lanes(&t.lo[1], &t.hi[3]),
            swapped_lo_nibble: lanes(&t.lo[2], &t.hi[0]),
            swapped_hi_nibble: lanes(&t.lo[3], &t.hi[1]),
        }
    }

    /// `v · m` for the 32 symbols of one chunk.
    #[target_feature(enable = "avx512f,avx512bw")]
    #[inline]
    fn mul(v: __m512i, l: &Lut) -> __m512i {
        let mask = _mm512_set1_epi8(0x0f);
        let s = _mm512_shuffle_i64x2::<0b01_00_11_10>(v, v);
        let p0 = _mm512_shuffle_epi8(l.lo_nibble, _mm512_and_si512(v, mask));
        let p1 = _mm512_shuffle_epi8(l.hi_nibble, _mm512_and_si512(_mm512_srli_epi64::<4>(v), mask));
        let p2 = _mm512_shuffle_epi8(l.swapped_lo_nibble, _mm512_and_si512(s, mask));
        let p3 = _mm512_shuffle_epi8(l.swapped_hi_nibble, _mm512_and_si512(_mm512_srli_epi64::<4>(s), mask));
        _mm512_xor_si512(_mm512_ternarylogic_epi64::<0x96>(p0, p1, p2), p3)
    }

    #[target_feature(enable = "avx512f,avx512bw")]
    #[inline]
    fn load(c: &[u8; 64]) -> __m512i {
        // SAFETY: an unaligned 64-byte load of exactly the chunk.
        unsafe { _mm512_loadu_si512(c.as_ptr().cast()) }
    }

    #[target_feature(enable = "avx512f,avx512bw")]
    #[inline]
    fn store(c: &mut [u8; 64], v: __m512i) {
        // SAFETY: an unaligned 64-byte store of exactly the chunk.
        unsafe { _mm512_storeu_si512(c.as_mut_ptr().cast(), v) }
    }

    /// FFT butterfly: `x ^= y·m; y ^= x` (`m = None`: skew factor 0, only `y ^= x`).
    #[target_feature(enable = "avx512f,avx512bw")]
    #[inline]
    fn fftb(x: __m512i, y: __m512i, m: Option<&Lut>) -> (__m512i, __m512i) {
        let x = match m {
            Some(l) => _mm512_xor_si512(x, mul(y, l)),
            None => x,
        };
        (x, _mm512_xor_si512(y, x))
    }

    /// IFFT butterfly: `y ^= x; x ^= y·m` (`m = None`: only `y ^= x`).
    #[target_feature(enable = "avx512f,avx512bw")]
    #[inline]
    fn ifftb(x: __m512i, y: __m512i, m: Option<&Lut>) -> (__m512i, __m512i) {
        let y = _mm512_xor_si512(y, x);
        match m {
            Some(l) => (_mm512_xor_si512(x, mul(y, l)), y),
            None => (x, y),
        }
    }

    impl Avx512 {
        /// The butterfly table for skew `log_m`; `None` for the zero factor (`GF_MODULUS`).
        #[target_feature(enable = "avx512f,avx512bw")]
        #[inline]
        fn butterfly_lut(&self, log_m: GfElement) -> Option<Lut> {
            if log_m == GF_MODULUS { None } else { Some(lut_of(&self.mul128[log_m as usize])) }
        }

        /// Two FFT (or, `INVERSE`, IFFT) layers over rows `pos, pos+dist, pos+2·dist, pos+3·dist`,
        /// chunk by chunk: the FFT pairs rows 2 apart first, the IFFT rows 1 apart.
        #[target_feature(enable = "avx512f,avx512bw")]
        #[inline]
        fn two_layers<const INVERSE: bool>(
            &self,
            data: &mut ShardsRefMut<'_>,
            pos: usize,
            dist: usize,
            logs: [GfElement; 3],
        ) {
            let (l01, l23, l02) =
                (self.butterfly_lut(logs[0]), self.butterfly_lut(logs[1]), self.butterfly_lut(logs[2]));
            let (l01, l23, l02) = (l01.as_ref(), l23.as_ref(), l02.as_ref());
            let (s0, s1, s2, s3) = data.dist4_mut(pos, dist);
            for (((c0, c1), c2), c3) in s0.iter_mut().zip(s1.iter_mut()).zip(s2.iter_mut()).zip(s3.iter_mut()) {
                let (a, b, c, d) = (load(c0), load(c1), load(c2), load(c3));
                let (a, b, c, d) = if INVERSE {
                    let ((a, b), (c, d)) = (ifftb(a, b, l01), ifftb(c, d, l23));
                    let ((a, c), (b, d)) = (ifftb(a, c, l02), ifftb(b, d, l02));
                    (a, b, c, d)
                } else {
                    let ((a, c), (b, d)) = (fftb(a, c, l02), fftb(b, d, l02));
                    let ((a, b), (c, d)) = (fftb(a, b, l01), fftb(c, d, l23));
                    (a, b, c, d)
                };
                store(c0, a);
                store(c1, b);
                store(c2, c);
                store(c3, d);
            }
        }

        /// One butterfly layer between two rows (the odd layer left over); `INVERSE` picks
        /// the IFFT butterfly.
        #[target_feature(enable = "avx512f,avx512bw")]
        #[inline]
        fn pair<const INVERSE: bool>(x: &mut [[u8; 64]], y: &mut [[u8; 64]], m: Option<&Lut>) {
            for (cx, cy) in x.iter_mut().zip(y.iter_mut()) {
                let (nx, ny) = if INVERSE { ifftb(load(cx), load(cy), m) } else { fftb(load(cx), load(cy), m) };
                store(cx, nx);
                store(cy, ny);
            }
        }

        #[target_feature(enable = "avx512f,avx512bw")]
        fn fft_avx512(
            &self,
            data: &mut ShardsRefMut<'_>,
            pos: usize,
            size: usize,
            truncated: usize,
            skew_delta: usize,
        ) {
            let (mut dist4, mut dist) = (size, size >> 2);
            while dist != 0 {
                let mut r = 0;
                while r < truncated {
                    let base = r + dist + skew_delta - 1;
                    let logs = [self.skew[base], self.skew[base + dist * 2], self.skew[base + dist]];
                    for i in r..r + dist {
                        self.two_layers::<false>(data, pos + i, dist, logs);
                    }
                    r += dist4;
                }
                dist4 = dist;
                dist >>= 2;
            }
            if dist4 == 2 {
                let mut r = 0;
                while r < truncated {
                    let m = self.butterfly_lut(self.skew[r + skew_delta]);
                    let (x, y) = data.dist2_mut(pos + r, 1);
                    Self::pair::<false>(x, y, m.as_ref());
                    r += 2;
                }
            }
        }

        #[target_feature(enable = "avx512f,avx512bw")]
        fn ifft_avx512(
            &self,
            data: &mut ShardsRefMut<'_>,
            pos: usize,
            size: usize,
            truncated: usize,
            skew_delta: usize,
        ) {
            let (mut dist, mut dist4) = (1, 4);
            while dist4 <= size {
                let mut r = 0;
                while r < truncated {
                    let base = r + dist + skew_delta - 1;
                    let logs = [self.skew[base], self.skew[base + dist * 2], self.skew[base + dist]];
                    for i in r..r + dist {
                        self.two_layers::<true>(data, pos + i, dist, logs);
                    }
                    r += dist4;
                }
                dist = dist4;
                dist4 <<= 2;
            }
            if dist < size {
                let m = self.butterfly_lut(self.skew[dist + skew_delta - 1]);
                let (mut a, mut b) = data.split_at_mut(pos + dist);
                for i in 0..dist {
                    Self::pair::<true>(&mut a[pos + i], &mut b[i], m.as_ref());
                }
            }
        }

        #[target_feature(enable = "avx512f,avx512bw")]
        fn mul_avx512(&self, x: &mut [[u8; 64]], log_m: GfElement) {
            // A plain multiply: log_m = GF_MODULUS is the factor 1 here, not a skipped butterfly.
            let l = lut_of(&self.mul128[log_m as usize]);
            for c in x.iter_mut() {
                store(c, mul(load(c), &l));
            }
        }
    }

    impl Engine for Avx512 {
        fn fft(&self, data: &mut ShardsRefMut<'_>, pos: usize, size: usize, truncated_size: usize, skew_delta: usize) {
            // SAFETY: an `Avx512` exists only where `detect` found AVX-512F and AVX-512BW.
            unsafe { self.fft_avx512(data, pos, size, truncated_size, skew_delta) }
        }

        fn ifft(&self, data: &mut ShardsRefMut<'_>, pos: usize, size: usize, truncated_size: usize, skew_delta: usize) {
            // SAFETY: as in `fft`.
            unsafe { self.ifft_avx512(data, pos, size, truncated_size, skew_delta) }
        }

        fn mul(&self, x: &mut [[u8; 64]], log_m: GfElement) {
            // SAFETY: as in `fft`.
            unsafe { self.mul_avx512(x, log_m) }
        }
    }
}

#[cfg(target_arch = "x86_64")]
pub use imp::Avx512;

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use reed_solomon_simd::engine::{Avx2, Engine, GF_MODULUS, Naive, ShardsRefMut};

    use super::Avx512;

    fn random(r: &mut ChaCha8Rng, n: usize) -> Vec<[u8; 64]> {
        (0..n).map(|_| std::array::from_fn(|_| r.r#gen())).collect()
    }

    fn engine() -> Option<Avx512> {
        let e = Avx512::detect();
        if e.is_none() {
            eprintln!("SKIP: this CPU has no AVX-512BW; the avx512 gf16 engine is not tested");
        }
        e
    }

    /// Random FFT/IFFT calls (sizes, offsets, truncations, skews). Against the crate's AVX2
    /// engine, which has the same loop structure, every row must match even where the result is
    /// unspecified; against `Naive` the rows the `Engine` contract defines must (IFFT inputs
    /// zero past the truncation, as every caller has them).
    #[test]
    fn fft_and_ifft_match_the_crate_engines() {
        let Some(e) = engine() else { return };
        let mut r = ChaCha8Rng::seed_from_u64(21);
        let (naive, avx2) = (Naive::new(), Avx2::new());
        for size in [1usize, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024] {
            for _ in 0..6 {
                let chunks = r.gen_range(1..4);
                let rows = size * r.gen_range(1..4);
                let pos = (rows - size) / size * size;
                let truncated = r.gen_range(1..=size);
                let skew = pos + size * r.gen_range(0..4);
                for inverse in [false, true] {
                    let mut data = random(&mut r, rows * chunks);
                    if inverse {
                        data[(pos + truncated) * chunks..(pos + size) * chunks].fill([0; 64]);
                    }
                    let run = |engine: &dyn Engine, out: &mut Vec<[u8; 64]>| {
                        let mut w = ShardsRefMut::new(rows, chunks, out);
                        if inverse {
                            engine.ifft(&mut w, pos, size, truncated, skew);
                        } else {
                            engine.fft(&mut w, pos, size, truncated, skew);
                        }
                    };
                    let (mut ours, mut crate_avx2, mut plain) = (data.clone(), data.clone(), data);
                    run(&e, &mut ours);
                    run(&avx2, &mut crate_avx2);
                    run(&naive, &mut plain);
                    let what = if inverse { "ifft" } else { "fft" };
                    assert!(ours == crate_avx2, "{what} vs avx2: size {size} truncated {truncated} skew {skew}");
                    let valid = pos * chunks..(pos + if inverse { size } else { truncated }) * chunks;
                    assert!(
                        ours[valid.clone()] == plain[valid],
                        "{what} vs naive: size {size} truncated {truncated} skew {skew}"
                    );
                }
            }
        }
    }

    #[test]
    fn mul_matches_the_naive_engine_including_the_unit_log() {
        let Some(e) = engine() else { return };
        let mut r = ChaCha8Rng::seed_from_u64(22);
        let naive = Naive::new();
        let logs: Vec<u16> =
            [0, 1, 2, 255, 256, 4097, 65534, GF_MODULUS].into_iter().chain((0..20).map(|_| r.r#gen())).collect();
        for log_m in logs {
            let data = random(&mut r, 3);
            let (mut ours, mut want) = (data.clone(), data);
            e.mul(&mut ours, log_m);
            naive.mul(&mut want, log_m);
            assert!(ours == want, "log_m {log_m}");
        }
    }
}
