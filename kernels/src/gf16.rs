//! `GpuContext::gf16_encode` / `gf16_decode`: Leopard GF(2^16) Reed–Solomon (= reed-solomon-simd
//! 3.x) as WGSL kernels. The engine decides the code's shape (rate, positions, erasures: its
//! `gf16` module owns that logic and the field tables); this module lays the shards out
//! on the device, plans the FFT passes and runs them. See kernels/README.md for the design.

mod layout;
mod plan;

use std::hash::{Hash, Hasher};

use crate::context::GpuContext;
use crate::error::GpuError;
use crate::spec::{Access, KernelSpec};
use layout::Columns;
use plan::{Load, Step, Transform};

/// Field order: every table has (at most) this many entries and a codeword this many positions.
const ORDER: usize = 1 << 16;

/// Most butterfly layers one FFT pass keeps in registers (2^4 rows x 4 symbols per invocation).
const MAX_RADIX_LOG: u32 = 4;

/// A gf16 buffer holds at most this much even where the adapter allows more: it bounds the
/// memory one call pins (a decode job holds about four such buffers). Smaller, cache-sized jobs
/// for CPU adapters were tried on lavapipe and gave no gain that survived this machine's noise.
const JOB_BUFFER_CAP: u64 = 256 << 20;

const BINDINGS: &[Access] = &[Access::Read, Access::Read, Access::ReadWrite, Access::Read];

fn fft_source(k: u32) -> String {
    let body = include_str!("../wgsl/gf16_fft.wgsl")
        .replace("{{K}}", &k.to_string())
        .replace("{{FFT}}", &butterflies(k, false))
        .replace("{{IFFT}}", &butterflies(k, true));
    format!("{}\n{body}", include_str!("../wgsl/gf16.wgsl"))
}

/// The straight-line body of a radix-2^k pass (gf16_fft.wgsl): load rows `v0..`, run the k
/// layers (FFT from the largest distance down: `a += b·w; b += a`; IFFT from 1 up:
/// `b += a; a += b·w`), one twiddle lookup per butterfly block, store the rows.
fn butterflies(k: u32, inverse: bool) -> String {
    use std::fmt::Write;
    let rows = 1usize << k;
    let mut out = String::new();
    for j in 0..rows {
        let _ = writeln!(out, "    var v{j} = load_row(s, {j}u);");
    }
    let mut layers: Vec<u32> = (0..k).collect();
    if !inverse {
        layers.reverse();
    }
    for t in layers {
        let h = 1usize << t;
        for block in (0..rows).step_by(2 * h) {
            let _ = writeln!(out, "    {{\n        let lw = twiddle(s, s.r0 + {block}u * p.d_lo, {h}u * p.d_lo);");
            let pairs = block..block + h;
            let mul = pairs.clone().map(|j| format!("v{j} ^= mul4(v{}, lw);", j + h)).collect::<Vec<_>>().join(" ");
            let add = pairs.map(|j| format!("v{} ^= v{j};", j + h)).collect::<Vec<_>>().join(" ");
            let mul = format!("        if (lw != ZERO_LOG) {{ {mul} }}");
            let add = format!("        {add}");
            let (first, second) = if inverse { (add, mul) } else { (mul, add) };
            let _ = writeln!(out, "{first}\n{second}\n    }}");
        }
    }
    for j in 0..rows {
        let _ = writeln!(out, "    store_row(s, {j}u, v{j});");
    }
    out
}

fn aux_source() -> String {
    concat!(include_str!("../wgsl/gf16.wgsl"), "\n", include_str!("../wgsl/gf16_aux.wgsl")).to_string()
}

const fn aux_spec(name: &'static str, entry: &'static str) -> KernelSpec {
    KernelSpec { name, file: "gf16_aux.wgsl", source: aux_source, entry, storage: BINDINGS }
}

/// The family's kernels: an FFT and an IFFT pass per radix 2^K, then gf16_aux.wgsl's.
macro_rules! gf16_kernels {
    ($($k:literal),*) => {
        &[
            $(
                KernelSpec { name: concat!("gf16_fft_", $k), file: "gf16_fft.wgsl", source: || fft_source($k), entry: "fft", storage: BINDINGS },
                KernelSpec { name: concat!("gf16_ifft_", $k), file: "gf16_fft.wgsl", source: || fft_source($k), entry: "ifft", storage: BINDINGS },
            )*
            aux_spec("gf16_fold", "fold"),
            aux_spec("gf16_fwht", "fwht"),
            aux_spec("gf16_eval_mul", "eval_mul"),
            aux_spec("gf16_gather", "gather"),
        ]
    };
}

/// The GF(2^16) family's kernels (K up to [`MAX_RADIX_LOG`]).
pub(crate) const KERNELS: &[KernelSpec] = gf16_kernels!(0, 1, 2, 3, 4);

/// The field tables the kernels read, as the engine builds them (`gf16::tables`).
/// They are packed and uploaded once per context and kept resident; a call with other tables
/// (other addresses) uploads those instead.
#[derive(Debug, Clone, Copy)]
pub struct Gf16Tables {
    /// `exp[l]`: the element whose logarithm is `l` (65535 entries).
    pub exp: &'static [u16],
    /// `log[a]`: the logarithm of `a` (65536 entries; `log[0]` unused).
    pub log: &'static [u16],
    /// The FFT twiddle factors as field elements (65535 entries).
    pub skew: &'static [u16],
    /// The Walsh–Hadamard transform of the log table, mod 65535 (65536 entries).
    pub log_walsh: &'static [u16],
}

impl Gf16Tables {
    fn check(&self) -> Result<(), GpuError> {
        let lens = [self.exp.len(), self.log.len(), self.skew.len(), self.log_walsh.len()];
        if lens != [ORDER - 1, ORDER, ORDER - 1, ORDER] {
            return Err(invalid(
                "gf16 tables",
                format!("table lengths {lens:?}, expected [65535, 65536, 65535, 65536]"),
            ));
        }
        Ok(())
    }

    /// Identity of the tables: their addresses (they are `'static`, so an address is never
    /// reused for other contents).
    fn version(&self) -> u64 {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        [self.exp.as_ptr(), self.log.as_ptr(), self.skew.as_ptr(), self.log_walsh.as_ptr()].hash(&mut h);
        h.finish()
    }

    /// The `gf` buffer of gf16.wgsl: `exp << 16 | log`, then skew logs, then log_walsh.
    fn pack(&self) -> Vec<u32> {
        let mut words = vec![0u32; 3 * ORDER];
        for (x, w) in words[..ORDER].iter_mut().enumerate() {
            // exp[65535] does not exist (logs are mod 65535); the kernels never read it.
            let exp = self.exp.get(x).copied().unwrap_or(1);
            *w = u32::from(exp) << 16 | u32::from(self.log[x]);
        }
        for (w, &s) in words[ORDER..].iter_mut().zip(self.skew) {
            *w = if s == 0 { 0xFFFF } else { u32::from(self.log[usize::from(s)]) };
        }
        for (w, &l) in words[2 * ORDER..].iter_mut().zip(self.log_walsh) {
            *w = u32::from(l);
        }
        words
    }
}

/// Which of Leopard's two encoders to run (the engine picks it as reed-solomon-simd does).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gf16Rate {
    /// Recovery at positions `0..m`, originals in chunks of `m.next_power_of_two()` after them.
    High,
    /// Originals at `0..k`, recovery in chunks of `k.next_power_of_two()` after them.
    Low,
}

/// A decode, laid out at field positions by the engine (`gf16::plan_decode`).
#[derive(Debug, Clone, Copy)]
pub struct Gf16Decode<'a> {
    /// Rows of the transform: a power of two, at least every used position.
    pub size: usize,
    /// Rows at or past this one are zero before the IFFT (no shard sits there).
    pub truncated: usize,
    /// 0/1 per field point (65536 entries): 1 where the codeword has no value (lost shards,
    /// unused positions). Received shards at erased positions are ignored.
    pub erased: &'a [u16],
    /// The received shards at their positions, all of one even, nonzero length.
    pub received: &'a [(usize, &'a [u8])],
    /// The erased positions to restore, in the order they are returned.
    pub restore: &'a [usize],
}

fn invalid(op: &'static str, reason: impl Into<String>) -> GpuError {
    GpuError::InvalidInput { op, reason: reason.into() }
}

/// Checks that all shards share one even, nonzero length, and returns it.
fn shard_len<'a>(op: &'static str, mut shards: impl Iterator<Item = &'a [u8]>) -> Result<usize, GpuError> {
    let first = shards.next().ok_or_else(|| invalid(op, "no shards"))?.len();
    if first == 0 || first % 2 != 0 {
        return Err(invalid(op, format!("shard size {first} is not a positive even number")));
    }
    if let Some(s) = shards.find(|s| s.len() != first) {
        return Err(invalid(op, format!("a shard has {} bytes, expected {first}", s.len())));
    }
    Ok(first)
}

impl GpuContext {
    fn gf16_tables(&self, tables: &Gf16Tables) -> Result<wgpu::Buffer, GpuError> {
        tables.check()?;
        Ok(self.kept("gf16 tables", tables.version(), || tables.pack()))
    }

    /// Bytes one gf16 buffer may take on this adapter.
    fn gf16_buffer_limit(&self) -> u64 {
        self.adapter().max_storage_binding.min(self.adapter().max_buffer_size).min(JOB_BUFFER_CAP)
    }

    /// Leopard encode of `original` (all one even, nonzero length) into `recovery_count`
    /// recovery shards, byte-identical to reed-solomon-simd with the same `rate`.
    pub fn gf16_encode(
        &self,
        tables: &Gf16Tables,
        original: &[&[u8]],
        recovery_count: usize,
        rate: Gf16Rate,
    ) -> Result<Vec<Vec<u8>>, GpuError> {
        self.gf16_encode_limited(tables, original, recovery_count, rate, self.gf16_buffer_limit())
    }

    /// [`GpuContext::gf16_encode`] with buffers of at most `limit` bytes: tests force the
    /// column chunking with it.
    #[doc(hidden)]
    pub fn gf16_encode_limited(
        &self,
        tables: &Gf16Tables,
        original: &[&[u8]],
        recovery_count: usize,
        rate: Gf16Rate,
        limit: u64,
    ) -> Result<Vec<Vec<u8>>, GpuError> {
        const OP: &str = "gf16_encode";
        let (k, m) = (original.len(), recovery_count);
        let len = shard_len(OP, original.iter().copied())?;
        let chunk = match rate {
            Gf16Rate::High => m.next_power_of_two(),
            Gf16Rate::Low => k.next_power_of_two(),
        };
        let (small, large) = match rate {
            Gf16Rate::High => (m, k),
            Gf16Rate::Low => (k, m),
        };
        if small == 0 || chunk + large.next_multiple_of(chunk) > ORDER {
            return Err(invalid(OP, format!("unsupported counts {k}:{m} for {rate:?} rate")));
        }
        let gf = self.gf16_tables(tables)?;
        // Rows of the work buffer: high rate, every original chunk; low rate, every recovery
        // chunk and then the IFFT of the originals.
        let work_rows = match rate {
            Gf16Rate::High => k.next_multiple_of(chunk),
            Gf16Rate::Low => m.next_multiple_of(chunk) + chunk,
        };
        let steps = match rate {
            Gf16Rate::High => plan::encode_high(k, m),
            Gf16Rate::Low => plan::encode_low(k, m),
        };
        let mut out = vec![Vec::with_capacity(len); m];
        for cols in Columns::split(len, work_rows, limit, OP)? {
            let input = cols.pack(original.iter().copied());
            let mut job = self.job(OP);
            let input = job.upload("gf16 originals", &input);
            let work = job.zeroed("gf16 work", work_rows * cols.stride);
            for step in &steps {
                match *step {
                    Step::Transform(t) => self.record(&mut job, &t, &cols, [&gf, &input, &work, &gf]),
                    Step::Fold { chunks, chunk_rows } => {
                        let words = chunks.div_ceil(plan::FOLD) * chunk_rows * cols.stride;
                        let params = [cols.stride as u32, 0, chunks as u32, 0, 0, chunk_rows as u32];
                        self.dispatch_1d(&mut job, "gf16_fold", [&gf, &gf, &work, &gf], words, &params);
                    }
                }
            }
            job.read(&work, m * cols.stride);
            let rows = job.finish()?.remove(0);
            cols.unpack(&rows, &mut out);
        }
        Ok(out)
    }

    /// Leopard decode: restores the rows `decode.restore` of the codeword (at field positions,
    /// laid out by the engine) byte-identical to reed-solomon-simd, in that order.
    pub fn gf16_decode(&self, tables: &Gf16Tables, decode: &Gf16Decode<'_>) -> Result<Vec<Vec<u8>>, GpuError> {
        self.gf16_decode_limited(tables, decode, self.gf16_buffer_limit())
    }

    /// [`GpuContext::gf16_decode`] with buffers of at most `limit` bytes (for tests).
    #[doc(hidden)]
    pub fn gf16_decode_limited(
        &self,
        tables: &Gf16Tables,
        d: &Gf16Decode<'_>,
        limit: u64,
    ) -> Result<Vec<Vec<u8>>, GpuError> {
        const OP: &str = "gf16_decode";
        let n = d.size;
        if !n.is_power_of_two() || !(2..=ORDER).contains(&n) || d.truncated == 0 || d.truncated > n {
            return Err(invalid(OP, format!("transform size {n} with truncation {}", d.truncated)));
        }
        if d.erased.len() != ORDER || d.erased.iter().any(|&e| e > 1) {
            return Err(invalid(OP, "the erasure indicator must hold 65536 values of 0 or 1"));
        }
        if let Some(&(p, _)) = d.received.iter().find(|(p, _)| *p >= d.truncated) {
            return Err(invalid(OP, format!("received position {p} at or past the truncation {}", d.truncated)));
        }
        if let Some(&p) = d.restore.iter().find(|&&p| p >= n || d.erased[p] == 0) {
            return Err(invalid(OP, format!("restore position {p} is not an erased position below {n}")));
        }
        if d.restore.is_empty() {
            return Ok(Vec::new());
        }
        let len = shard_len(OP, d.received.iter().map(|&(_, s)| s))?;
        let gf = self.gf16_tables(tables)?;

        // aux: [erasure logs (65536) | row map (n) | restore list], see gf16_aux.wgsl.
        let mut aux: Vec<u32> = d.erased.iter().map(|&e| u32::from(e)).collect();
        let mut map = vec![u32::MAX; n];
        let mut kept: Vec<&[u8]> = Vec::with_capacity(d.received.len());
        for &(p, s) in d.received.iter().filter(|(p, _)| d.erased[*p] == 0) {
            if map[p] != u32::MAX {
                return Err(invalid(OP, format!("two received shards at position {p}")));
            }
            map[p] = kept.len() as u32;
            kept.push(s);
        }
        aux.extend(map);
        aux.extend(d.restore.iter().map(|&p| p as u32));
        let restore_from = (ORDER + n) as u32;
        let mut aux_buffer = None;
        let ifft = Transform::whole(true, n, d.truncated, Load::Map { map: ORDER as u32 });
        // Only restored rows are read: the last one bounds the FFT's truncation.
        let read_end = d.restore.iter().max().map_or(1, |&p| p + 1);
        let fft = Transform::whole(false, n, read_end, Load::Derivative { size: n as u32 });

        let mut out = vec![Vec::with_capacity(len); d.restore.len()];
        for cols in Columns::split(len, n, limit, OP)? {
            let input = cols.pack(kept.iter().copied());
            let mut job = self.job(OP);
            let aux = match &aux_buffer {
                Some(b) => b,
                // The erasure locator does not depend on the bytes: evaluate it once, in the
                // first job, and keep it for the later column ranges.
                None => aux_buffer.insert(self.record_eval(&mut job, &gf, &aux)),
            };
            let input = job.upload("gf16 received", &input);
            let work = job.zeroed("gf16 work", n * cols.stride);
            let spectrum = job.zeroed("gf16 spectrum", n * cols.stride);
            let restored = job.zeroed("gf16 restored", d.restore.len() * cols.stride);
            self.record(&mut job, &ifft, &cols, [&gf, &input, &work, aux]);
            self.record(&mut job, &fft, &cols, [&gf, &work, &spectrum, &gf]);
            let count = d.restore.len();
            let params = [cols.stride as u32, cols.groups as u32, count as u32, restore_from];
            self.dispatch_1d(&mut job, "gf16_gather", [&gf, &spectrum, &restored, aux], count * cols.groups, &params);
            job.read(&restored, count * cols.stride);
            let rows = job.finish()?.remove(0);
            cols.unpack(&rows, &mut out);
        }
        Ok(out)
    }

    /// Records the erasure-locator evaluation on a new `aux` buffer (its first 65536 words,
    /// uploaded as the 0/1 indicator, become the logs): two Walsh–Hadamard transforms of four
    /// radix-16 passes around a pointwise product.
    fn record_eval(&self, job: &mut crate::job::Job<'_>, gf: &wgpu::Buffer, aux: &[u32]) -> wgpu::Buffer {
        let aux = job.upload("gf16 erasures", aux);
        let fwht = |job: &mut crate::job::Job<'_>| {
            for d_lo in [1u32, 16, 256, 4096] {
                self.dispatch_1d(job, "gf16_fwht", [gf, gf, &aux, gf], ORDER / 16, &[0, 0, 0, 0, d_lo]);
            }
        };
        fwht(job);
        self.dispatch_1d(job, "gf16_eval_mul", [gf, gf, &aux, gf], ORDER, &[]);
        fwht(job);
        aux
    }

    /// A dispatch of a gf16_aux.wgsl kernel over `items` invocations; its `Aux` uniform
    /// is the grid's row width, then `params` (the fields after it).
    fn dispatch_1d(
        &self,
        job: &mut crate::job::Job<'_>,
        kernel: &str,
        buffers: [&wgpu::Buffer; 4],
        items: usize,
        params: &[u32],
    ) {
        let grid = self.grid(items.div_ceil(plan::WORKGROUP));
        let mut params = [&[grid[0] * plan::WORKGROUP as u32], params].concat();
        params.resize(8, 0); // the `Aux` uniform's size
        job.dispatch(kernel, &buffers, &params, grid);
    }

    /// Records every pass of `t` on the column range `cols`; `buffers` are the pass kernels'
    /// bindings (tables, input, work, aux).
    fn record(&self, job: &mut crate::job::Job<'_>, t: &Transform, cols: &Columns, buffers: [&wgpu::Buffer; 4]) {
        for pass in t.passes(MAX_RADIX_LOG) {
            let invocations = cols.groups * pass.rowgroups * t.chunks;
            let grid = self.grid(invocations.div_ceil(plan::WORKGROUP));
            let params = pass.params(t, cols, grid[0] * plan::WORKGROUP as u32);
            job.dispatch(pass.kernel(t.inverse), &buffers, &params, grid);
        }
    }
}
