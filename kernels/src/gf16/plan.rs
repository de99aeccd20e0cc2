//! The transforms of each Leopard step and their split into radix-2^K passes (gf16_fft.wgsl).

use super::layout::Columns;

/// Invocations per workgroup of every gf16 kernel (`@workgroup_size(64)`).
pub(super) const WORKGROUP: usize = 64;

/// Most chunks one load folds together (gf16_aux.wgsl `FOLD`): lavapipe caps the loop
/// iterations of an invocation at 65535, and one invocation per chunk would be serial anyway.
pub(super) const FOLD: usize = 256;

/// One step of an encode: a transform, or the fold of many original chunks before the FFT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Step {
    /// An FFT or IFFT.
    Transform(Transform),
    /// gf16_aux.wgsl `fold`: chunk `qF` becomes the XOR of chunks `qF .. qF+F-1`.
    Fold { chunks: usize, chunk_rows: usize },
}

/// How the first pass of a transform reads its rows (later passes work in place).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Load {
    /// From the work buffer: the XOR of `fold` source chunks `fold_rows` apart.
    Work { fold: u32, fold_rows: u32 },
    /// From the input buffer, which holds `rows` rows (the rest are zero).
    Input { rows: u32 },
    /// Decode: row `p` is input row `aux[map + p]` (or zero) times `exp(aux[p])`.
    Map { map: u32 },
    /// Decode: the formal derivative of the `size` rows in the input buffer.
    Derivative { size: u32 },
}

/// An FFT or IFFT of `chunks` chunks of `size` rows each, chunk `c` evaluated at offset
/// `delta0 + c·delta_step` (naive.rs `fft(rows, skew_delta)`), read from `src_*` by the first
/// pass and written to `dst_*` (all in rows of the work buffer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Transform {
    pub(super) inverse: bool,
    pub(super) size: usize,
    pub(super) chunks: usize,
    /// IFFT: rows at or past this are zero. FFT: rows at or past this are never read.
    /// Butterfly blocks lying wholly past it are skipped; the rows that matter are exact.
    pub(super) truncated: usize,
    pub(super) delta0: usize,
    pub(super) delta_step: usize,
    pub(super) src_base: usize,
    pub(super) src_chunk: usize,
    pub(super) dst_base: usize,
    pub(super) dst_chunk: usize,
    pub(super) load: Load,
}

/// One dispatch: `layers` butterfly layers whose smallest distance is `d_lo`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Pass {
    pub(super) layers: u32,
    pub(super) d_lo: usize,
    /// Row-groups per chunk that touch a row below the truncation.
    pub(super) rowgroups: usize,
    /// The first pass reads per `Transform::load` and `src_*`; the others read `dst_*`.
    first: bool,
}

impl Transform {
    /// One chunk of `size` rows at offset 0, in place at row 0 (the decoder's transforms).
    pub(super) fn whole(inverse: bool, size: usize, truncated: usize, load: Load) -> Self {
        Self {
            inverse,
            size,
            chunks: 1,
            truncated,
            delta0: 0,
            delta_step: 0,
            src_base: 0,
            src_chunk: 0,
            dst_base: 0,
            dst_chunk: 0,
            load,
        }
    }

    /// The passes, in order: log2(size) layers in near-equal groups of at most `max_radix_log`
    /// (FFT from the largest distance down, IFFT from 1 up); a size-1 transform is one pass of
    /// no layers, which still loads (copies, folds) and stores.
    pub(super) fn passes(&self, max_radix_log: u32) -> Vec<Pass> {
        let layers = self.size.trailing_zeros();
        let count = layers.div_ceil(max_radix_log).max(1);
        let mut sizes: Vec<u32> = (0..count).map(|i| layers / count + u32::from(i < layers % count)).collect();
        if !self.inverse {
            // Largest passes first either way; the FFT walks distances downwards.
            sizes.sort_unstable_by(|a, b| b.cmp(a));
        }
        let mut passes = Vec::with_capacity(sizes.len());
        let mut dist = if self.inverse { 1 } else { self.size };
        for (i, &k) in sizes.iter().enumerate() {
            let d_lo = if self.inverse {
                let d = dist;
                dist <<= k;
                d
            } else {
                dist >>= k;
                dist.max(1)
            };
            let span = d_lo << k;
            let rowgroups = self.truncated.div_ceil(span).min(self.size / span) * d_lo;
            passes.push(Pass { layers: k, d_lo, rowgroups, first: i == 0 });
        }
        passes
    }
}

impl Pass {
    /// The pipeline running this pass.
    pub(super) fn kernel(&self, inverse: bool) -> &'static str {
        const FFT: [&str; 5] = ["gf16_fft_0", "gf16_fft_1", "gf16_fft_2", "gf16_fft_3", "gf16_fft_4"];
        const IFFT: [&str; 5] = ["gf16_ifft_0", "gf16_ifft_1", "gf16_ifft_2", "gf16_ifft_3", "gf16_ifft_4"];
        (if inverse { IFFT } else { FFT })[self.layers as usize]
    }

    /// The `Pass` uniform of gf16_fft.wgsl.
    pub(super) fn params(&self, t: &Transform, cols: &Columns, row_width: u32) -> [u32; 16] {
        let (src_base, src_chunk, load) = if self.first {
            (t.src_base, t.src_chunk, t.load)
        } else {
            (t.dst_base, t.dst_chunk, Load::Work { fold: 1, fold_rows: 0 })
        };
        let (mode, fold, fold_rows, extra) = match load {
            Load::Work { fold, fold_rows } => (0, fold, fold_rows, 0),
            Load::Input { rows } => (1, 1, 0, rows),
            Load::Map { map } => (2, 1, 0, map),
            Load::Derivative { size } => (3, 1, 0, size),
        };
        [
            cols.stride as u32,
            cols.groups as u32,
            self.rowgroups as u32,
            t.chunks as u32,
            row_width,
            self.d_lo as u32,
            src_base as u32,
            src_chunk as u32,
            t.dst_base as u32,
            t.dst_chunk as u32,
            fold,
            fold_rows,
            t.delta0 as u32,
            t.delta_step as u32,
            mode,
            extra,
        ]
    }
}

/// High rate, `C = m.next_power_of_two()`: every original chunk `c` (rows `cC..`) is
/// interpolated in place at offset `(c+1)·C`; then one FFT at offset 0 folds the chunks
/// together as it loads (their XOR) and evaluates the recovery rows `0..m` into chunk 0. Beyond
/// [`FOLD`] chunks a fold step first XORs them in groups of [`FOLD`].
pub(super) fn encode_high(k: usize, m: usize) -> Vec<Step> {
    let c = m.next_power_of_two();
    let chunks = k.div_ceil(c);
    let ifft = Transform {
        inverse: true,
        size: c,
        chunks,
        truncated: c,
        delta0: c,
        delta_step: c,
        src_base: 0,
        src_chunk: c,
        dst_base: 0,
        dst_chunk: c,
        load: Load::Input { rows: k as u32 },
    };
    if chunks <= FOLD {
        let fold = Load::Work { fold: chunks as u32, fold_rows: c as u32 };
        return vec![Step::Transform(ifft), Step::Transform(Transform::whole(false, c, m, fold))];
    }
    let fold = Load::Work { fold: chunks.div_ceil(FOLD) as u32, fold_rows: (FOLD * c) as u32 };
    vec![
        Step::Transform(ifft),
        Step::Fold { chunks, chunk_rows: c },
        Step::Transform(Transform::whole(false, c, m, fold)),
    ]
}

/// Low rate, `C = k.next_power_of_two()`: the originals are interpolated once (into the rows
/// after the recovery chunks), and each recovery chunk `c` is that evaluated at offset
/// `(c+1)·C`; the last, partial chunk only as far as its rows go.
pub(super) fn encode_low(k: usize, m: usize) -> Vec<Step> {
    let c = k.next_power_of_two();
    let spectrum = m.next_multiple_of(c);
    let ifft = Transform { dst_base: spectrum, ..Transform::whole(true, c, k, Load::Input { rows: k as u32 }) };
    let fft = |first_chunk: usize, chunks: usize, truncated: usize| Transform {
        inverse: false,
        size: c,
        chunks,
        truncated,
        delta0: (first_chunk + 1) * c,
        delta_step: c,
        src_base: spectrum,
        src_chunk: 0,
        dst_base: first_chunk * c,
        dst_chunk: c,
        load: Load::Work { fold: 1, fold_rows: 0 },
    };
    let (full, rest) = (m / c, m % c);
    let mut out = vec![Step::Transform(ifft)];
    if full > 0 {
        out.push(Step::Transform(fft(0, full, c)));
    }
    if rest > 0 {
        out.push(Step::Transform(fft(full, 1, rest)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(t: &Transform) -> Vec<(u32, usize, usize)> {
        t.passes(4).iter().map(|p| (p.layers, p.d_lo, p.rowgroups)).collect()
    }

    #[test]
    fn passes_cover_every_layer_once() {
        // 1024 rows: 10 layers as 4 + 3 + 3; the IFFT from distance 1, the FFT from 512.
        let ifft = Transform::whole(true, 1024, 1024, Load::Input { rows: 1024 });
        assert_eq!(shape(&ifft), [(4, 1, 64), (3, 16, 128), (3, 128, 128)]);
        let fft = Transform::whole(false, 1024, 1024, Load::Input { rows: 1024 });
        assert_eq!(shape(&fft), [(4, 64, 64), (3, 8, 128), (3, 1, 128)]);
        assert_eq!(shape(&Transform::whole(false, 1, 1, Load::Input { rows: 1 })), [(0, 1, 1)]);
        assert_eq!(shape(&Transform::whole(true, 2, 2, Load::Input { rows: 1 })), [(1, 1, 1)]);
    }

    #[test]
    fn truncation_skips_only_blocks_wholly_past_it() {
        // FFT of 256 rows of which 20 are read: the top pass (span 256) keeps everything, the
        // bottom one (span 16) keeps the two blocks holding rows 0..32.
        let fft = Transform::whole(false, 256, 20, Load::Input { rows: 256 });
        assert_eq!(shape(&fft), [(4, 16, 16), (4, 1, 2)]);
    }
}
