//! The GPU context: adapter, device, queue and every pipeline, built once and reused.

use std::sync::mpsc;

use wgpu::util::DeviceExt;

use crate::error::GpuError;

/// What `crema info` shows about one adapter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdapterReport {
    /// Adapter name (e.g. "llvmpipe (LLVM 15.0.6, 256 bits)").
    pub name: String,
    /// Graphics API (Vulkan, Metal, Dx12, Gl).
    pub backend: String,
    /// Discrete, integrated, virtual, CPU or other.
    pub device_type: String,
    /// True for software adapters such as lavapipe.
    pub is_cpu: bool,
    /// Driver name and version.
    pub driver: String,
    /// `max_storage_buffer_binding_size`, bytes.
    pub max_storage_binding: u64,
    /// `max_compute_workgroups_per_dimension`.
    pub max_workgroups_per_dim: u32,
    /// `max_compute_invocations_per_workgroup`.
    pub max_invocations_per_workgroup: u32,
    /// Whether the adapter offers 64-bit integers in shaders.
    pub shader_int64: bool,
    /// Whether the adapter offers timestamp queries (kernel-only timings).
    pub timestamp_query: bool,
}

impl AdapterReport {
    fn of(adapter: &wgpu::Adapter) -> Self {
        let info = adapter.get_info();
        let limits = adapter.limits();
        let features = adapter.features();
        Self {
            name: info.name,
            backend: format!("{:?}", info.backend),
            device_type: format!("{:?}", info.device_type),
            is_cpu: info.device_type == wgpu::DeviceType::Cpu,
            driver: format!("{} {}", info.driver, info.driver_info).trim().to_string(),
            max_storage_binding: limits.max_storage_buffer_binding_size,
            max_workgroups_per_dim: limits.max_compute_workgroups_per_dimension,
            max_invocations_per_workgroup: limits.max_compute_invocations_per_workgroup,
            shader_int64: features.contains(wgpu::Features::SHADER_INT64),
            timestamp_query: features.contains(wgpu::Features::TIMESTAMP_QUERY),
        }
    }
}

fn instance() -> wgpu::Instance {
    // Honours WGPU_BACKEND (CI sets `vulkan` to get lavapipe) and the other wgpu variables.
    wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env())
}

/// Every adapter this machine offers, for `crema info`.
pub fn adapters() -> Vec<AdapterReport> {
    let instance = instance();
    pollster::block_on(instance.enumerate_adapters(wgpu::Backends::all())).iter().map(AdapterReport::of).collect()
}

/// A compute pipeline with its explicit bind-group layout.
#[derive(Debug)]
pub(crate) struct Kernel {
    pub(crate) pipeline: wgpu::ComputePipeline,
    pub(crate) layout: wgpu::BindGroupLayout,
}

/// The device, queue and pipelines. Build it once ([`GpuContext::new`]) and share it.
#[derive(Debug)]
pub struct GpuContext {
    report: AdapterReport,
    pub(crate) device: wgpu::Device,
    pub(crate) queue: wgpu::Queue,
    pub(crate) blake3: Kernel,
}

impl GpuContext {
    /// Opens the best adapter (a high-performance one when there is a choice) and builds every
    /// pipeline. Fails with [`GpuError::NoAdapter`] when there is none.
    pub fn new() -> Result<Self, GpuError> {
        let instance = instance();
        let adapter = pollster::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions {
            power_preference: wgpu::PowerPreference::HighPerformance,
            force_fallback_adapter: false,
            compatible_surface: None,
            ..Default::default()
        }))
        .map_err(|e| GpuError::NoAdapter(e.to_string()))?;
        let report = AdapterReport::of(&adapter);
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("crema"),
            // Ask for the adapter's own limits: big storage bindings mean fewer chunked dispatches.
            required_limits: adapter.limits(),
            ..Default::default()
        }))
        .map_err(|e| GpuError::Device { adapter: report.name.clone(), reason: e.to_string() })?;
        let blake3 = build_kernel(&device, "blake3.wgsl", include_str!("../wgsl/blake3.wgsl"), "blake3_many", 2)?;
        Ok(Self { report, device, queue, blake3 })
    }

    /// The adapter this context runs on.
    pub fn adapter(&self) -> &AdapterReport {
        &self.report
    }

    /// A read-only storage buffer holding `words`.
    pub(crate) fn storage(&self, label: &str, words: &[u32]) -> wgpu::Buffer {
        // wgpu refuses zero-sized bindings: keep at least one word.
        let contents: &[u32] = if words.is_empty() { &[0] } else { words };
        self.device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some(label),
            contents: bytemuck::cast_slice(contents),
            usage: wgpu::BufferUsages::STORAGE,
        })
    }

    /// A uniform buffer holding `words` (16-byte aligned by the caller's struct).
    pub(crate) fn uniform(&self, label: &str, words: &[u32]) -> wgpu::Buffer {
        self.device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some(label),
            contents: bytemuck::cast_slice(words),
            usage: wgpu::BufferUsages::UNIFORM,
        })
    }

    /// Dispatches `groups` workgroups of `kernel` with `inputs` at bindings `0..n`, a fresh output
    /// of `out_words` words at binding `n` and `uniform` at `n + 1`, and reads the output back.
    /// Validation and out-of-memory errors are returned, never swallowed.
    pub(crate) fn run(
        &self,
        op: &'static str,
        kernel: &Kernel,
        inputs: &[&wgpu::Buffer],
        uniform: &wgpu::Buffer,
        out_words: usize,
        groups: (u32, u32),
    ) -> Result<Vec<u32>, GpuError> {
        let scope = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let oom = self.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let out_bytes = (out_words.max(1) * 4) as u64;
        let output = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("output"),
            size: out_bytes,
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        });
        let staging = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("readback"),
            size: out_bytes,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let n = inputs.len() as u32;
        let mut entries: Vec<wgpu::BindGroupEntry<'_>> = inputs
            .iter()
            .zip(0..)
            .map(|(b, binding)| wgpu::BindGroupEntry { binding, resource: b.as_entire_binding() })
            .collect();
        entries.push(wgpu::BindGroupEntry { binding: n, resource: output.as_entire_binding() });
        entries.push(wgpu::BindGroupEntry { binding: n + 1, resource: uniform.as_entire_binding() });
        let bind_group = self.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some(op),
            layout: &kernel.layout,
            entries: &entries,
        });
        let mut encoder = self.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some(op) });
        {
            let mut pass =
                encoder.begin_compute_pass(&wgpu::ComputePassDescriptor { label: Some(op), timestamp_writes: None });
            pass.set_pipeline(&kernel.pipeline);
            pass.set_bind_group(0, &bind_group, &[]);
            pass.dispatch_workgroups(groups.0, groups.1, 1);
        }
        encoder.copy_buffer_to_buffer(&output, 0, &staging, 0, out_bytes);
        self.queue.submit([encoder.finish()]);
        let (tx, rx) = mpsc::channel();
        staging.slice(..).map_async(wgpu::MapMode::Read, move |r| {
            let _ = tx.send(r);
        });
        self.device
            .poll(wgpu::PollType::Wait { submission_index: None, timeout: None })
            .map_err(|e| GpuError::Kernel { op, reason: e.to_string() })?;
        let kernel_err = |e: wgpu::Error| GpuError::Kernel { op, reason: e.to_string() };
        if let Some(e) = pollster::block_on(oom.pop()) {
            return Err(kernel_err(e));
        }
        if let Some(e) = pollster::block_on(scope.pop()) {
            return Err(kernel_err(e));
        }
        rx.recv()
            .map_err(|e| GpuError::Kernel { op, reason: e.to_string() })?
            .map_err(|e| GpuError::Kernel { op, reason: e.to_string() })?;
        let view = staging.get_mapped_range(..).map_err(|e| GpuError::Kernel { op, reason: e.to_string() })?;
        let words: Vec<u32> = bytemuck::cast_slice(&view)[..out_words].to_vec();
        drop(view);
        staging.unmap();
        Ok(words)
    }
}

/// Builds one compute pipeline with an explicit layout: read-only storage inputs at bindings
/// `0..inputs`, the read-write output at `inputs`, one uniform at `inputs + 1`.
fn build_kernel(device: &wgpu::Device, file: &str, source: &str, entry: &str, inputs: u32) -> Result<Kernel, GpuError> {
    let scope = device.push_error_scope(wgpu::ErrorFilter::Validation);
    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some(file),
        source: wgpu::ShaderSource::Wgsl(source.into()),
    });
    let mut entries: Vec<wgpu::BindGroupLayoutEntry> = (0..=inputs)
        .map(|binding| wgpu::BindGroupLayoutEntry {
            binding,
            visibility: wgpu::ShaderStages::COMPUTE,
            ty: wgpu::BindingType::Buffer {
                ty: wgpu::BufferBindingType::Storage { read_only: binding != inputs },
                has_dynamic_offset: false,
                min_binding_size: None,
            },
            count: None,
        })
        .collect();
    entries.push(wgpu::BindGroupLayoutEntry {
        binding: inputs + 1,
        visibility: wgpu::ShaderStages::COMPUTE,
        ty: wgpu::BindingType::Buffer {
            ty: wgpu::BufferBindingType::Uniform,
            has_dynamic_offset: false,
            min_binding_size: None,
        },
        count: None,
    });
    let layout =
        device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor { label: Some(file), entries: &entries });
    let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
        label: Some(file),
        bind_group_layouts: &[Some(&layout)],
        immediate_size: 0,
    });
    let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
        label: Some(file),
        layout: Some(&pipeline_layout),
        module: &module,
        entry_point: Some(entry),
        compilation_options: Default::default(),
        cache: None,
    });
    if let Some(e) = pollster::block_on(scope.pop()) {
        return Err(GpuError::Kernel { op: "pipeline build", reason: format!("{file}: {e}") });
    }
    Ok(Kernel { pipeline, layout })
}
