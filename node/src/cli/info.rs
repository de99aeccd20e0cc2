//! `crema info`: version, backends, CPU features.

use crema_engine::BackendChoice;

/// Prints the report for `choice` (the `--backend` in force).
pub fn print(choice: BackendChoice) {
    println!("crema {}", env!("CARGO_PKG_VERSION"));
    println!("target: {}-{}", std::env::consts::ARCH, std::env::consts::OS);
    println!("threads: {}", available_threads());
    println!("cpu features: {}", crema_engine::backend::Cpu::features().join(" "));
    println!("gf16 engine: {}", crema_engine::backend::Cpu::gf16_engine());
    println!("backends:");
    for c in [BackendChoice::Cpu, BackendChoice::Reference, BackendChoice::Gpu] {
        match c.build() {
            Ok(b) => println!("  {:<10} available ({})", c.as_str(), b.name()),
            Err(e) => println!("  {:<10} unavailable: {e}", c.as_str()),
        }
    }
    let adapters = crema_engine::backend::adapters();
    println!("gpu adapters: {}", if adapters.is_empty() { "none".to_string() } else { adapters.len().to_string() });
    for a in adapters {
        println!(
            "  {} | {} {} | driver {} | max storage binding {} MiB | max workgroups/dim {} | int64 {} | timestamps {}",
            a.name,
            a.backend,
            a.device_type,
            a.driver,
            a.max_storage_binding >> 20,
            a.max_workgroups_per_dim,
            a.shader_int64,
            a.timestamp_query
        );
    }
    println!("gpu kernels: {:?}", crema_engine::backend::GPU_KERNELS);
    println!("selected: {choice}");
}

fn available_threads() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}
