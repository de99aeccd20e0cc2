//! The results of a run, as `crema bench --json` writes them: the machine, the settings, and
//! for every case and backend every sample, the summary statistics or the reason there are none.

use std::path::Path;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context;
use serde::Serialize;

use super::stats::Summary;

/// Everything a run measured. Serialised as-is by `--json`.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The tool and the build that ran.
    pub tool: Tool,
    /// The machine it ran on.
    pub machine: Machine,
    /// What was asked for.
    pub settings: Settings,
    /// Start of the run, RFC 3339 UTC.
    pub started_at: String,
    /// End of the run, RFC 3339 UTC.
    pub finished_at: String,
    /// Wall time of the whole run, seconds.
    pub elapsed_s: f64,
    /// What the times include, in words.
    pub method: Vec<&'static str>,
    /// One entry per case, in run order.
    pub cases: Vec<CaseResult>,
    /// Cases whose backends disagreed on the output bytes.
    pub mismatches: usize,
    /// Backend runs that failed with a real error (not "unavailable").
    pub errors: usize,
}

impl Report {
    /// True when a case's backends disagreed or a backend failed: `crema bench` exits 1.
    pub fn failed(&self) -> bool {
        self.mismatches > 0 || self.errors > 0
    }
}

/// The tool and its build.
#[derive(Debug, Clone, Serialize)]
pub struct Tool {
    /// `crema bench`.
    pub name: &'static str,
    /// The crate version.
    pub version: &'static str,
    /// `release` or `debug` (debug timings are meaningless).
    pub build: &'static str,
    /// The git commit of the source tree, when it can be found.
    pub git_commit: Option<String>,
    /// True when that tree had uncommitted changes to tracked files.
    pub git_dirty: Option<bool>,
    /// Where the commit came from (`CREMA_GIT_COMMIT` at build time, or `git` at run time).
    pub git_source: Option<String>,
}

/// The machine.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    /// CPU model name (`/proc/cpuinfo`), or `unknown`.
    pub cpu_model: String,
    /// Threads available to this process.
    pub threads: usize,
    /// `x86_64-linux`, …
    pub target: String,
    /// CPU features that change which code paths run.
    pub cpu_features: Vec<&'static str>,
    /// Total memory in bytes, when known.
    pub memory_bytes: Option<u64>,
    /// Every GPU adapter wgpu sees (`crema_engine::backend::adapters()`).
    pub gpu_adapters: Vec<Adapter>,
    /// The adapter the gpu backend opened, if any.
    pub gpu_in_use: Option<String>,
}

/// One GPU adapter, as `crema info` reports it.
#[derive(Debug, Clone, Serialize)]
pub struct Adapter {
    /// Adapter name.
    pub name: String,
    /// Graphics API.
    pub backend: String,
    /// Discrete, integrated, CPU, …
    pub device_type: String,
    /// True for software adapters such as lavapipe.
    pub is_cpu: bool,
    /// Driver name and version.
    pub driver: String,
    /// Largest storage binding, bytes.
    pub max_storage_binding: u64,
    /// Largest buffer, bytes.
    pub max_buffer_size: u64,
    /// Whether kernel-only times are available.
    pub timestamp_query: bool,
}

/// What the run was asked to do.
#[derive(Debug, Clone, Serialize)]
pub struct Settings {
    /// Backends under test.
    pub backends: Vec<&'static str>,
    /// `--quick`.
    pub quick: bool,
    /// `--filter`.
    pub filter: Option<String>,
    /// Untimed warm-up calls before the timed runs.
    pub warmup_runs: usize,
    /// Fewest timed runs per case and backend.
    pub min_runs: usize,
    /// Most timed runs per case and backend.
    pub max_runs: usize,
    /// Past `min_runs`, runs stop once this much time went into one case and backend.
    pub budget_ms: u64,
}

/// One case: an operation at a size, on every backend.
#[derive(Debug, Clone, Serialize)]
pub struct CaseResult {
    /// Plot panel.
    pub family: &'static str,
    /// Operation.
    pub op: &'static str,
    /// Size, as displayed.
    pub size: String,
    /// Work per call.
    pub work_amount: u64,
    /// Unit of the work (`bytes`, `points`, …).
    pub work_unit: &'static str,
    /// What the timed call is.
    pub timed: &'static str,
    /// Time to build the inputs (untimed for the results), ms.
    pub setup_ms: f64,
    /// One entry per backend under test.
    pub backends: Vec<BackendResult>,
    /// True when every backend that produced output produced the same bytes; `None` when
    /// fewer than two outputs could be compared.
    pub agree: Option<bool>,
    /// What the outputs were compared with, in words.
    pub check: String,
}

/// Outcome of one backend on one case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Measured.
    Ok,
    /// The backend does not offer the op (not ported, no adapter).
    Unavailable,
    /// The op failed.
    Error,
}

/// One backend on one case.
#[derive(Debug, Clone, Serialize)]
pub struct BackendResult {
    /// `cpu` or `gpu`.
    pub backend: &'static str,
    /// Measured, unavailable or failed.
    pub status: Status,
    /// Why there is no measurement (unavailable or error); `null` when measured.
    pub reason: Option<String>,
    /// BLAKE3 of the output bytes (hex).
    pub output_blake3: Option<String>,
    /// The untimed first call, ns (includes lazy table and pipeline builds).
    pub warmup_ns: Option<u64>,
    /// Median end-to-end time, ns; `null` when not measured.
    pub median_ns: Option<f64>,
    /// End-to-end time statistics, ns.
    pub wall_ns: Option<Summary>,
    /// Kernel-only time statistics (GPU timestamp queries), ns.
    pub kernel_ns: Option<Summary>,
    /// Work per second at the median.
    pub throughput_per_s: Option<f64>,
    /// This backend's median over the CPU's (gpu rows only; < 1 means faster than the CPU).
    pub ratio_to_cpu: Option<f64>,
    /// Every timed run.
    pub samples: Vec<SampleOut>,
}

impl BackendResult {
    /// A backend that produced nothing, with the reason.
    pub fn without(backend: &'static str, status: Status, reason: String) -> Self {
        Self {
            backend,
            status,
            reason: Some(reason),
            output_blake3: None,
            warmup_ns: None,
            median_ns: None,
            wall_ns: None,
            kernel_ns: None,
            throughput_per_s: None,
            ratio_to_cpu: None,
            samples: Vec::new(),
        }
    }
}

/// One timed run.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct SampleOut {
    /// End-to-end time, ns.
    pub wall_ns: u64,
    /// Kernel-only time, ns (GPU with timestamp queries only).
    pub kernel_ns: Option<u64>,
}

/// Writes the report as pretty JSON.
pub fn write_json(report: &Report, path: &Path) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(report).context("serialising the report")?;
    std::fs::write(path, text + "\n").with_context(|| format!("writing {}", path.display()))
}

/// The machine this runs on, `gpu_in_use` naming the adapter the gpu backend opened.
pub fn machine(gpu_in_use: Option<String>) -> Machine {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    Machine {
        cpu_model: proc_field(&cpuinfo, "model name").unwrap_or_else(|| "unknown".into()),
        threads: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        target: format!("{}-{}", std::env::consts::ARCH, std::env::consts::OS),
        cpu_features: crema_engine::backend::Cpu::features(),
        memory_bytes: proc_field(&meminfo, "MemTotal")
            .and_then(|v| v.trim_end_matches("kB").trim().parse::<u64>().ok())
            .map(|kib| kib * 1024),
        gpu_adapters: crema_engine::backend::adapters()
            .into_iter()
            .map(|a| Adapter {
                name: a.name,
                backend: a.backend,
                device_type: a.device_type,
                is_cpu: a.is_cpu,
                driver: a.driver,
                max_storage_binding: a.max_storage_binding,
                max_buffer_size: a.max_buffer_size,
                timestamp_query: a.timestamp_query,
            })
            .collect(),
        gpu_in_use,
    }
}

/// The value of the first `key : value` line of a `/proc` file.
fn proc_field(text: &str, key: &str) -> Option<String> {
    text.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        (k.trim() == key).then(|| v.trim().to_string())
    })
}

/// The tool's identity: version, build profile, and the source commit when it can be found.
pub fn tool() -> Tool {
    let build = if cfg!(debug_assertions) { "debug" } else { "release" };
    if let Some(commit) = option_env!("CREMA_GIT_COMMIT") {
        return Tool {
            name: "crema bench",
            version: env!("CARGO_PKG_VERSION"),
            build,
            git_commit: Some(commit.into()),
            git_dirty: None,
            git_source: Some("CREMA_GIT_COMMIT at build time".into()),
        };
    }
    // The tree the binary was built from, asked now: it may have moved on since the build.
    let dir = env!("CARGO_MANIFEST_DIR");
    let git = |args: &[&str]| {
        Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    let commit = git(&["rev-parse", "HEAD"]);
    let dirty =
        commit.as_ref().and_then(|_| git(&["status", "--porcelain", "--untracked-files=no"])).map(|s| !s.is_empty());
    Tool {
        name: "crema bench",
        version: env!("CARGO_PKG_VERSION"),
        build,
        git_source: commit.as_ref().map(|_| format!("git -C {dir} at run time")),
        git_commit: commit,
        git_dirty: dirty,
    }
}

/// Now, as RFC 3339 UTC with second precision.
pub fn now_rfc3339() -> String {
    rfc3339(SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0))
}

/// Seconds since the Unix epoch as `YYYY-MM-DDTHH:MM:SSZ` (proleptic Gregorian calendar).
pub fn rfc3339(secs: u64) -> String {
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Howard Hinnant's civil_from_days, for days >= 0.
    let z = days as i64 + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_known_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(4_107_542_399), "2100-02-28T23:59:59Z");
    }

    #[test]
    fn proc_fields() {
        let text = "processor\t: 0\nmodel name\t: Example CPU @ 3GHz\nflags\t: sse\n";
        assert_eq!(proc_field(text, "model name").as_deref(), Some("Example CPU @ 3GHz"));
        assert_eq!(proc_field(text, "missing"), None);
    }

    #[test]
    fn unavailable_serialises_as_null_with_reason() {
        let r = BackendResult::without("gpu", Status::Unavailable, "ntt is not ported".into());
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["status"], "unavailable");
        assert_eq!(v["reason"], "ntt is not ported");
        assert!(v["median_ns"].is_null() && v["wall_ns"].is_null());
    }
}
