//! [`Job`]: one GPU submission — uploads, a sequence of dispatches (and copies), readbacks —
//! recorded by a kernel family and run by [`Job::finish`].
//!
//! Every dispatch of a job goes into one command buffer, so a multi-stage algorithm (NTT
//! layers, MSM phases) costs one submission and one wait; WebGPU orders dispatches within a
//! pass, so a stage sees the writes of the one before. Validation and out-of-memory errors of
//! the whole job are caught by error scopes and returned, never swallowed. When the adapter
//! has timestamp queries, the time inside compute passes is added to the context's counter
//! ([`GpuContext::take_kernel_nanos`]) so benches can split kernel time from transfers.

use std::sync::atomic::Ordering;
use std::sync::mpsc;

use wgpu::util::DeviceExt;

use crate::context::GpuContext;
use crate::error::GpuError;

/// Readback buffers the context keeps for reuse.
const STAGING_POOL: usize = 16;

#[allow(dead_code)] // `Copy` is recorded by multi-stage kernel families
enum Step {
    Dispatch { pipeline: wgpu::ComputePipeline, bind_group: wgpu::BindGroup, groups: [u32; 3] },
    Copy { src: wgpu::Buffer, src_offset: u64, dst: wgpu::Buffer, dst_offset: u64, bytes: u64 },
}

/// One submission being recorded. Create it with [`GpuContext::job`]; it must be finished on
/// the thread that created it (wgpu's error scopes are per thread).
pub(crate) struct Job<'c> {
    ctx: &'c GpuContext,
    op: &'static str,
    steps: Vec<Step>,
    reads: Vec<(wgpu::Buffer, usize)>,
    /// The first pipeline that failed to build: [`Job::finish`] returns it, submitting nothing.
    failed: Option<GpuError>,
    // Field order matters: an unfinished job drops (pops) the inner scope first.
    oom: Option<wgpu::ErrorScopeGuard>,
    validation: Option<wgpu::ErrorScopeGuard>,
}

impl GpuContext {
    /// Starts recording a job for the operation `op` (named in errors).
    pub(crate) fn job(&self, op: &'static str) -> Job<'_> {
        let validation = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let oom = self.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        Job {
            ctx: self,
            op,
            steps: Vec::new(),
            reads: Vec::new(),
            failed: None,
            oom: Some(oom),
            validation: Some(validation),
        }
    }

    /// Workgroup counts `[x, y, 1]` covering `groups` workgroups within the per-dimension limit;
    /// a kernel recovers its linear index as `id.x + id.y * x * workgroup_size`.
    pub(crate) fn grid(&self, groups: usize) -> [u32; 3] {
        let max = self.adapter().max_workgroups_per_dim as usize;
        let groups = groups.max(1);
        [groups.min(max) as u32, groups.div_ceil(max) as u32, 1]
    }
}

impl Job<'_> {
    /// A storage buffer initialised with `words` (at least one word: wgpu refuses empty bindings).
    pub(crate) fn upload(&mut self, label: &str, words: &[u32]) -> wgpu::Buffer {
        let contents: &[u32] = if words.is_empty() { &[0] } else { words };
        self.ctx.device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some(label),
            contents: bytemuck::cast_slice(contents),
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST,
        })
    }

    /// A zero-filled storage buffer of `words` words (wgpu zero-initialises new buffers).
    pub(crate) fn zeroed(&mut self, label: &str, words: usize) -> wgpu::Buffer {
        self.ctx.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: (words.max(1) * 4) as u64,
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        })
    }

    /// Records a dispatch of the kernel named `kernel` with `buffers` at its storage bindings
    /// (in order) and `params` (padded to 16 bytes) as its uniform.
    pub(crate) fn dispatch(&mut self, kernel: &str, buffers: &[&wgpu::Buffer], params: &[u32], groups: [u32; 3]) {
        let kernel = match self.ctx.kernel(kernel) {
            Ok(kernel) => kernel,
            Err(e) => {
                self.failed.get_or_insert(e);
                return;
            }
        };
        assert_eq!(buffers.len(), kernel.storage_bindings, "kernel {} takes {} buffers", kernel.name, buffers.len());
        let mut words = params.to_vec();
        words.resize(params.len().div_ceil(4).max(1) * 4, 0);
        let uniform = self.ctx.device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some(kernel.name),
            contents: bytemuck::cast_slice(&words),
            usage: wgpu::BufferUsages::UNIFORM,
        });
        let mut entries: Vec<wgpu::BindGroupEntry<'_>> = buffers
            .iter()
            .zip(0..)
            .map(|(b, binding)| wgpu::BindGroupEntry { binding, resource: b.as_entire_binding() })
            .collect();
        entries.push(wgpu::BindGroupEntry { binding: buffers.len() as u32, resource: uniform.as_entire_binding() });
        let bind_group = self.ctx.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some(kernel.name),
            layout: &kernel.layout,
            entries: &entries,
        });
        self.steps.push(Step::Dispatch { pipeline: kernel.pipeline.clone(), bind_group, groups });
    }

    /// Records a copy of `words` words between buffers (offsets in words).
    #[allow(dead_code)] // for multi-stage kernels that move data between buffers
    pub(crate) fn copy(
        &mut self,
        src: &wgpu::Buffer,
        src_word: usize,
        dst: &wgpu::Buffer,
        dst_word: usize,
        words: usize,
    ) {
        self.steps.push(Step::Copy {
            src: src.clone(),
            src_offset: (src_word * 4) as u64,
            dst: dst.clone(),
            dst_offset: (dst_word * 4) as u64,
            bytes: (words * 4) as u64,
        });
    }

    /// Asks for the first `words` words of `buffer` back; [`Job::finish`] returns reads in the
    /// order they were asked for.
    pub(crate) fn read(&mut self, buffer: &wgpu::Buffer, words: usize) -> usize {
        self.reads.push((buffer.clone(), words));
        self.reads.len() - 1
    }

    /// Submits everything, waits, and returns the requested reads.
    pub(crate) fn finish(mut self) -> Result<Vec<Vec<u32>>, GpuError> {
        let (ctx, op) = (self.ctx, self.op);
        if let Some(e) = self.failed.take() {
            return Err(e);
        }
        let err = |reason: String| GpuError::Kernel { op, reason };
        let passes = count_passes(&self.steps);
        let queries = (ctx.timestamps && passes > 0).then(|| {
            let set = ctx.device.create_query_set(&wgpu::QuerySetDescriptor {
                label: Some(op),
                ty: wgpu::QueryType::Timestamp,
                count: 2 * passes as u32,
            });
            let resolve = ctx.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("timestamps"),
                size: 16 * passes as u64,
                usage: wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
                mapped_at_creation: false,
            });
            (set, resolve)
        });
        let mut encoder = ctx.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some(op) });
        let mut steps = std::mem::take(&mut self.steps).into_iter().peekable();
        let mut pass_index = 0u32;
        let mut dispatches = 0u64;
        while let Some(step) = steps.next() {
            match step {
                Step::Copy { src, src_offset, dst, dst_offset, bytes } => {
                    encoder.copy_buffer_to_buffer(&src, src_offset, &dst, dst_offset, bytes);
                }
                Step::Dispatch { pipeline, bind_group, groups } => {
                    let timestamp_writes = queries.as_ref().map(|(set, _)| wgpu::ComputePassTimestampWrites {
                        query_set: set,
                        beginning_of_pass_write_index: Some(2 * pass_index),
                        end_of_pass_write_index: Some(2 * pass_index + 1),
                    });
                    pass_index += 1;
                    let mut pass =
                        encoder.begin_compute_pass(&wgpu::ComputePassDescriptor { label: Some(op), timestamp_writes });
                    let mut next = Some((pipeline, bind_group, groups));
                    // Consecutive dispatches share one pass.
                    while let Some((pipeline, bind_group, groups)) = next.take() {
                        pass.set_pipeline(&pipeline);
                        pass.set_bind_group(0, &bind_group, &[]);
                        pass.dispatch_workgroups(groups[0], groups[1], groups[2]);
                        dispatches += 1;
                        if let Some(Step::Dispatch { .. }) = steps.peek()
                            && let Some(Step::Dispatch { pipeline, bind_group, groups }) = steps.next()
                        {
                            next = Some((pipeline, bind_group, groups));
                        }
                    }
                }
            }
        }
        let mut reads: Vec<(wgpu::Buffer, usize)> = std::mem::take(&mut self.reads);
        if let Some((set, resolve)) = &queries {
            encoder.resolve_query_set(set, 0..2 * passes as u32, resolve, 0);
            reads.push((resolve.clone(), 4 * passes));
        }
        let staging: Vec<wgpu::Buffer> = reads.iter().map(|(_, words)| ctx.take_staging(*words)).collect();
        for ((buffer, words), stage) in reads.iter().zip(&staging) {
            encoder.copy_buffer_to_buffer(buffer, 0, stage, 0, (words.max(&1) * 4) as u64);
        }
        ctx.queue.submit([encoder.finish()]);
        ctx.dispatches.fetch_add(dispatches, Ordering::Relaxed);
        let (tx, rx) = mpsc::channel();
        for (i, stage) in staging.iter().enumerate() {
            let tx = tx.clone();
            stage.slice(..).map_async(wgpu::MapMode::Read, move |r| {
                let _ = tx.send((i, r));
            });
        }
        drop(tx);
        ctx.device
            .poll(wgpu::PollType::Wait { submission_index: None, timeout: None })
            .map_err(|e| err(e.to_string()))?;
        if let Some(e) = self.oom.take().and_then(|s| pollster::block_on(s.pop())) {
            return Err(err(e.to_string()));
        }
        if let Some(e) = self.validation.take().and_then(|s| pollster::block_on(s.pop())) {
            return Err(err(e.to_string()));
        }
        for _ in 0..staging.len() {
            let (_, mapped) = rx.recv().map_err(|e| err(e.to_string()))?;
            mapped.map_err(|e| err(e.to_string()))?;
        }
        let mut out = Vec::with_capacity(reads.len());
        for ((_, words), stage) in reads.iter().zip(&staging) {
            let view = stage.get_mapped_range(..).map_err(|e| err(e.to_string()))?;
            out.push(bytemuck::cast_slice::<u8, u32>(&view)[..*words].to_vec());
            drop(view);
            stage.unmap();
        }
        staging.into_iter().for_each(|s| ctx.return_staging(s));
        if queries.is_some() {
            let ticks: Vec<u64> = bytemuck::cast_slice(&out.pop().expect("timestamps read")).to_vec();
            let busy: u64 = ticks.chunks_exact(2).map(|t| t[1].saturating_sub(t[0])).sum();
            let nanos = busy as f64 * f64::from(ctx.queue.get_timestamp_period());
            ctx.kernel_nanos.fetch_add(nanos as u64, Ordering::Relaxed);
        }
        Ok(out)
    }
}

/// Compute passes a step list opens: one per run of consecutive dispatches.
fn count_passes(steps: &[Step]) -> usize {
    let mut passes = 0;
    let mut in_pass = false;
    for s in steps {
        match s {
            Step::Dispatch { .. } if !in_pass => {
                passes += 1;
                in_pass = true;
            }
            Step::Dispatch { .. } => {}
            Step::Copy { .. } => in_pass = false,
        }
    }
    passes
}

impl GpuContext {
    /// A mappable readback buffer of at least `words` words: the smallest pooled one that fits,
    /// else a new one.
    fn take_staging(&self, words: usize) -> wgpu::Buffer {
        let bytes = (words.max(1) * 4) as u64;
        let mut pool = self.staging.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = (0..pool.len()).filter(|&i| pool[i].size() >= bytes).min_by_key(|&i| pool[i].size()) {
            return pool.swap_remove(i);
        }
        drop(pool);
        self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("readback"),
            size: bytes.next_power_of_two(),
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        })
    }

    /// Returns a readback buffer to the pool, dropping the smallest when the pool is full.
    fn return_staging(&self, buffer: wgpu::Buffer) {
        let mut pool = self.staging.lock().unwrap_or_else(|e| e.into_inner());
        pool.push(buffer);
        if pool.len() > STAGING_POOL
            && let Some(i) = (0..pool.len()).min_by_key(|&i| pool[i].size())
        {
            pool.swap_remove(i);
        }
    }
}
