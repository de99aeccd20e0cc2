//! The GPU context: adapter, device, queue and every pipeline, each built once and reused.
//!
//! This file and `job.rs` are the only places that speak wgpu's descriptor and polling API
//! (it changes at every major release); kernel families describe themselves with a
//! [`KernelSpec`] and record work through a [`Job`](crate::job::Job). The context builds the
//! specs it is given and names no family: `registry.rs` lists them and opens the context.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

use crate::error::GpuError;
use crate::resident::{Kind, Resident};
use crate::spec::{Access, KernelSpec};

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
    /// `max_buffer_size`, bytes.
    pub max_buffer_size: u64,
    /// `max_compute_workgroups_per_dimension`.
    pub max_workgroups_per_dim: u32,
    /// `max_compute_invocations_per_workgroup`.
    pub max_invocations_per_workgroup: u32,
    /// `max_compute_workgroup_storage_size`, bytes.
    pub max_workgroup_storage: u32,
    /// `max_storage_buffers_per_shader_stage`.
    pub max_storage_buffers_per_stage: u32,
    /// Whether the adapter offers 64-bit integers in shaders (Crema's kernels do not need them).
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
            max_buffer_size: limits.max_buffer_size,
            max_workgroups_per_dim: limits.max_compute_workgroups_per_dimension,
            max_invocations_per_workgroup: limits.max_compute_invocations_per_workgroup,
            max_workgroup_storage: limits.max_compute_workgroup_storage_size,
            max_storage_buffers_per_stage: limits.max_storage_buffers_per_shader_stage,
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
    pub(crate) name: &'static str,
    pub(crate) pipeline: wgpu::ComputePipeline,
    pub(crate) layout: wgpu::BindGroupLayout,
    pub(crate) storage_bindings: usize,
}

/// A registered kernel and its pipeline (or the error building it), made on first use.
type LazyKernel = (KernelSpec, OnceLock<Result<Kernel, GpuError>>);

/// The device, queue and pipelines. Build it once ([`GpuContext::new`]) and share it.
#[derive(Debug)]
pub struct GpuContext {
    report: AdapterReport,
    pub(crate) device: wgpu::Device,
    pub(crate) queue: wgpu::Queue,
    /// Every registered kernel, its pipeline built on first use (see [`GpuContext::kernel`]).
    kernels: HashMap<&'static str, LazyKernel>,
    /// Readback buffers kept for reuse (a job takes the smallest that fits).
    pub(crate) staging: Mutex<Vec<wgpu::Buffer>>,
    /// Nanoseconds spent inside compute passes since the last [`GpuContext::take_kernel_nanos`].
    pub(crate) kernel_nanos: AtomicU64,
    /// Compute dispatches submitted since the context was built (see [`GpuContext::dispatches`]).
    pub(crate) dispatches: AtomicU64,
    pub(crate) timestamps: bool,
    /// Buffers uploaded once and kept for the context's life (see [`GpuContext::kept`]).
    kept: Mutex<HashMap<&'static str, (u64, wgpu::Buffer)>>,
    /// Tables the algebra kernels keep resident (twiddles, MSM bases); see `resident.rs`.
    pub(crate) algebra: Resident,
}

impl GpuContext {
    /// Opens the best adapter (a high-performance one when there is a choice) and registers
    /// `specs` (the registry's `GpuContext::new` passes every family's); each pipeline is built
    /// on its first use. Fails with [`GpuError::NoAdapter`] when there is no adapter.
    pub(crate) fn with_kernels(specs: Vec<KernelSpec>) -> Result<Self, GpuError> {
        let instance = instance();
        let adapter = pollster::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions {
            power_preference: wgpu::PowerPreference::HighPerformance,
            force_fallback_adapter: false,
            compatible_surface: None,
            ..Default::default()
        }))
        .map_err(|e| GpuError::NoAdapter(e.to_string()))?;
        let report = AdapterReport::of(&adapter);
        let timestamps = report.timestamp_query;
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("crema"),
            // Timestamps give `crema bench` kernel-only times; nothing else is optional.
            required_features: if timestamps { wgpu::Features::TIMESTAMP_QUERY } else { wgpu::Features::empty() },
            // Ask for the adapter's own limits: big storage bindings mean fewer chunked dispatches.
            required_limits: adapter.limits(),
            ..Default::default()
        }))
        .map_err(|e| GpuError::Device { adapter: report.name.clone(), reason: e.to_string() })?;
        let kernels = specs.into_iter().map(|spec| (spec.name, (spec, OnceLock::new()))).collect();
        Ok(Self {
            report,
            device,
            queue,
            kernels,
            staging: Mutex::new(Vec::new()),
            kernel_nanos: AtomicU64::new(0),
            dispatches: AtomicU64::new(0),
            timestamps,
            kept: Mutex::new(HashMap::new()),
            algebra: Default::default(),
        })
    }

    /// The adapter this context runs on.
    pub fn adapter(&self) -> &AdapterReport {
        &self.report
    }

    /// Test-only: pretends storage bindings may hold at most `bytes`, so that tests reach the
    /// chunking paths (which split work at `max_storage_binding`) with small inputs.
    #[doc(hidden)]
    pub fn with_storage_binding_limit(mut self, bytes: u64) -> Self {
        self.report.max_storage_binding = self.report.max_storage_binding.min(bytes);
        self
    }

    /// Time spent inside compute passes (timestamp queries) since the last call, or `None`
    /// when the adapter has no timestamp queries. Transfers and submission are not included.
    pub fn take_kernel_nanos(&self) -> Option<u64> {
        let nanos = self.kernel_nanos.swap(0, Ordering::Relaxed);
        self.timestamps.then_some(nanos)
    }

    /// Compute dispatches submitted to the device since the context was built: a test's proof
    /// that an op ran on the device rather than returning before any kernel work.
    pub fn dispatches(&self) -> u64 {
        self.dispatches.load(Ordering::Relaxed)
    }

    /// The kernel built from the spec named `name`. Pipelines are built on first use and kept
    /// (a failed build too, as its error): a driver such as lavapipe compiles each one, and a
    /// call needs only a few of the many variants the families register. Every source is still
    /// checked without a device by naga (`tests/validate.rs`).
    pub(crate) fn kernel(&self, name: &str) -> Result<&Kernel, GpuError> {
        // A name missing from the registry is a typo in this crate, not bad input.
        let (spec, kernel) =
            self.kernels.get(name).unwrap_or_else(|| panic!("kernel {name} is not registered (registry.rs)"));
        kernel.get_or_init(|| build_kernel(&self.device, spec)).as_ref().map_err(Clone::clone)
    }

    /// Whether the kernel named `name` is registered (test-only kernels may not be).
    pub(crate) fn has_kernel(&self, name: &str) -> bool {
        self.kernels.contains_key(name)
    }

    /// The resident buffer kept under `label` for `version` (e.g. an identity of the data it
    /// holds): built with [`GpuContext::resident`] from `words()` on first use, or again when the
    /// version changes, then reused by every call.
    pub(crate) fn kept(&self, label: &'static str, version: u64, words: impl FnOnce() -> Vec<u32>) -> wgpu::Buffer {
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        match kept.get(label) {
            Some((v, buffer)) if *v == version => buffer.clone(),
            _ => {
                let buffer = self.resident(label, &words());
                kept.insert(label, (version, buffer.clone()));
                buffer
            }
        }
    }

    /// The resident algebra table for `(kind, key)`, uploading `build()` on a miss.
    pub(crate) fn resident_table(
        &self,
        kind: Kind,
        key: &[u32],
        build: impl FnOnce() -> Vec<u32>,
    ) -> Arc<wgpu::Buffer> {
        let built: Result<_, std::convert::Infallible> =
            self.algebra.get_or_build(kind, key, || Ok(self.resident(&format!("{kind:?}"), &build())));
        match built {
            Ok(b) => b,
        }
    }

    /// A read-only storage buffer holding `words` (for data uploaded once and kept, e.g. tables).
    pub(crate) fn resident(&self, label: &str, words: &[u32]) -> wgpu::Buffer {
        use wgpu::util::DeviceExt;
        // wgpu refuses zero-sized bindings: keep at least one word.
        let contents: &[u32] = if words.is_empty() { &[0] } else { words };
        self.device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some(label),
            contents: bytemuck::cast_slice(contents),
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
        })
    }
}

/// Builds one compute pipeline with its explicit layout.
fn build_kernel(device: &wgpu::Device, spec: &KernelSpec) -> Result<Kernel, GpuError> {
    let scope = device.push_error_scope(wgpu::ErrorFilter::Validation);
    let source = (spec.source)();
    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some(spec.file),
        source: wgpu::ShaderSource::Wgsl(source.into()),
    });
    let buffer_entry = |binding: u32, ty: wgpu::BufferBindingType| wgpu::BindGroupLayoutEntry {
        binding,
        visibility: wgpu::ShaderStages::COMPUTE,
        ty: wgpu::BindingType::Buffer { ty, has_dynamic_offset: false, min_binding_size: None },
        count: None,
    };
    let mut entries: Vec<wgpu::BindGroupLayoutEntry> = spec
        .storage
        .iter()
        .zip(0..)
        .map(|(access, binding)| {
            buffer_entry(binding, wgpu::BufferBindingType::Storage { read_only: *access == Access::Read })
        })
        .collect();
    entries.push(buffer_entry(spec.storage.len() as u32, wgpu::BufferBindingType::Uniform));
    let layout =
        device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor { label: Some(spec.name), entries: &entries });
    let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
        label: Some(spec.name),
        bind_group_layouts: &[Some(&layout)],
        immediate_size: 0,
    });
    let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
        label: Some(spec.name),
        layout: Some(&pipeline_layout),
        module: &module,
        entry_point: Some(spec.entry),
        compilation_options: Default::default(),
        cache: None,
    });
    if let Some(e) = pollster::block_on(scope.pop()) {
        return Err(GpuError::Kernel { op: "pipeline build", reason: format!("{} ({}): {e}", spec.name, spec.file) });
    }
    Ok(Kernel { name: spec.name, pipeline, layout, storage_bindings: spec.storage.len() })
}
