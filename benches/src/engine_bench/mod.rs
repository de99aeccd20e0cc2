//! The engine benchmark behind `crema bench`: CPU vs GPU, operation by operation, with a
//! correctness guard.
//!
//! For every case (an operation at a size) the inputs are built once, then on each backend
//! the op runs once untimed (the warm-up: FK20 tables, fixed-base tables and GPU pipelines
//! are built lazily on first use), then several timed runs. Every run's output is hashed and
//! the hashes must agree across runs and backends; a disagreement is a loud MISMATCH, because
//! a benchmark of wrong results is worthless. An op a backend does not offer (not ported to
//! the GPU yet, no adapter) is "n/a (reason)", never a crash and never a silent CPU
//! substitute; any other error is an error.
//!
//! [`run`] takes typed [`Options`] and a [`Progress`] sink and returns the [`Report`]; the
//! caller prints [`report_text`], writes [`write_json`] and [`draw`]s the chart (the `crema`
//! CLI does all three, and exits non-zero on [`Report::failed`]).

mod inputs;
mod measure;
mod ops;
mod plan;
mod plot;
pub mod report;
pub mod stats;
mod table;
mod vid;

use std::str::FromStr;
use std::time::Instant;

pub use plot::draw;
pub use report::{Report, write_json};
pub use table::report_text;

use measure::Policy;
use ops::{Case, Target};
use report::{Settings, Status};

/// The backends a run measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backends {
    /// The CPU backend alone.
    Cpu,
    /// The GPU backend alone (each case still gets one untimed CPU call, the correctness check).
    Gpu,
    /// Both, side by side.
    All,
}

impl Backends {
    /// The targets under test, in table order.
    fn targets(self) -> Vec<Target> {
        match self {
            Backends::Cpu => vec![Target::cpu()],
            Backends::Gpu => vec![Target::gpu()],
            Backends::All => vec![Target::cpu(), Target::gpu()],
        }
    }
}

/// `cpu`, `gpu`, or `all` (`auto`, the global `--backend` default, means all).
impl FromStr for Backends {
    type Err = BenchError;

    fn from_str(s: &str) -> Result<Self, BenchError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "cpu" => Ok(Backends::Cpu),
            "gpu" => Ok(Backends::Gpu),
            "all" | "auto" => Ok(Backends::All),
            "reference" => Err(BenchError::ReferenceBackend),
            other => Err(BenchError::UnknownBackend(other.to_string())),
        }
    }
}

/// What a run measures and how often.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The backends under test.
    pub backends: Backends,
    /// Small sizes only: the whole plan finishes in under a minute on 2 cores with both backends.
    pub quick: bool,
    /// Only the cases whose "op size" label or family contains this text (case-insensitive).
    pub filter: Option<String>,
    /// Exactly this many timed runs per case and backend (1..=[`MAX_RUNS`]); `None`: adaptive,
    /// 5–20 runs within about 2 s per case (3–20 within 0.3 s with `quick`).
    pub runs: Option<u32>,
}

/// The most timed runs [`Options::runs`] may ask for.
pub const MAX_RUNS: u32 = 1000;

/// Why a run could not start or could not go on.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// `--backend reference`: not something to benchmark.
    #[error("crema bench compares cpu and gpu; the reference backend is the test oracle (use cpu, gpu or all)")]
    ReferenceBackend,
    /// A backend name that is none of `cpu`, `gpu`, `all`.
    #[error("unknown backend {0:?} for crema bench; expected cpu, gpu or all")]
    UnknownBackend(String),
    /// A run count outside 1..=[`MAX_RUNS`].
    #[error("--runs {0}: expected 1..={MAX_RUNS}")]
    Runs(u32),
    /// The filter keeps no case of the plan.
    #[error("--filter {0:?} matches no case")]
    NoCase(String),
    /// Building a case's inputs failed (before any backend ran it).
    #[error("preparing the inputs of {case}")]
    Prepare {
        /// The case's `op size` label.
        case: String,
        /// What failed.
        #[source]
        source: anyhow::Error,
    },
    /// The untimed CPU call that checks a GPU-only run failed.
    #[error("{case}: the cpu check call failed")]
    Check {
        /// The case's `op size` label.
        case: String,
        /// What failed.
        #[source]
        source: anyhow::Error,
    },
}

/// Where a run says what it is doing while it goes; `crema bench` shows it on stderr.
pub trait Progress {
    /// Something the user should know before the results (a debug build, a missing backend).
    fn note(&mut self, line: &str);
    /// The run is about to take `steps` steps: for each case, its inputs, then each backend.
    fn start(&mut self, steps: u64);
    /// What the current step is doing.
    fn doing(&mut self, what: &str);
    /// A line of running commentary: a backend's result on a case, a skipped check.
    fn line(&mut self, line: &str);
    /// One step is done.
    fn step(&mut self);
    /// The last step is done.
    fn finish(&mut self);
}

/// Nothing shown.
impl Progress for () {
    fn note(&mut self, _: &str) {}
    fn start(&mut self, _: u64) {}
    fn doing(&mut self, _: &str) {}
    fn line(&mut self, _: &str) {}
    fn step(&mut self) {}
    fn finish(&mut self) {}
}

/// What the times mean; printed under the table and stored in the JSON.
const METHOD: [&str; 5] = [
    "median of the timed runs after one untimed warm-up call (lazy tables and GPU pipelines are built there)",
    "median = end-to-end time of the engine call: for the GPU, uploads + kernels + readback + host-side steps",
    "kernel-only = time inside GPU compute passes (timestamp queries); 'none ran' = the call used no GPU kernel",
    "spread = median absolute deviation / median; throughput = work per call / median; gpu/cpu = median ratio (< 1: GPU faster)",
    "output = BLAKE3 of the canonical output bytes; backends (and runs) must agree or the case is a MISMATCH",
];

/// Runs every case of the plan that `options` keeps on every backend it names.
pub fn run(options: &Options, progress: &mut dyn Progress) -> Result<Report, BenchError> {
    let started = Instant::now();
    let started_at = report::now_rfc3339();
    if let Some(n) = options.runs
        && !(1..=MAX_RUNS).contains(&n)
    {
        return Err(BenchError::Runs(n));
    }
    let policy = Policy::new(options.quick, options.runs);
    let cases: Vec<Case> =
        plan::plan(options.quick).into_iter().filter(|c| c.matches(options.filter.as_deref())).collect();
    if cases.is_empty() {
        return Err(BenchError::NoCase(options.filter.clone().unwrap_or_default()));
    }
    let targets = options.backends.targets();
    if cfg!(debug_assertions) {
        progress.note("warning: debug assertions are on; use a --release build for real numbers");
    }
    for t in &targets {
        if let Err(reason) = &t.backend {
            progress.note(&format!("{} backend unavailable ({reason}); its rows will say n/a", t.name));
        }
    }
    // Without the CPU under test, one untimed CPU call per case still guards correctness.
    let check = (!targets.iter().any(|t| t.name == "cpu")).then(Target::cpu);

    progress.start((cases.len() * (targets.len() + 1)) as u64);
    let mut results = Vec::with_capacity(cases.len());
    for case in cases {
        results.push(measure::run_case(case, &targets, check.as_ref(), policy, progress)?);
    }
    progress.finish();

    let mismatches = results.iter().filter(|c| c.agree == Some(false)).count();
    let errors = results.iter().flat_map(|c| &c.backends).filter(|b| b.status == Status::Error).count();
    let gpu_in_use = targets.iter().find_map(Target::adapter_name);
    Ok(Report {
        tool: report::tool(),
        machine: report::machine(gpu_in_use),
        settings: Settings {
            backends: targets.iter().map(|t| t.name).collect(),
            quick: options.quick,
            filter: options.filter.clone(),
            warmup_runs: 1,
            min_runs: policy.min,
            max_runs: policy.max,
            budget_ms: policy.budget.as_millis() as u64,
        },
        started_at,
        finished_at: report::now_rfc3339(),
        elapsed_s: started.elapsed().as_secs_f64(),
        method: METHOD.to_vec(),
        cases: results,
        mismatches,
        errors,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_choices() {
        assert_eq!("cpu".parse::<Backends>().unwrap(), Backends::Cpu);
        assert_eq!(" GPU ".parse::<Backends>().unwrap(), Backends::Gpu);
        assert_eq!("auto".parse::<Backends>().unwrap(), Backends::All);
        assert_eq!(Backends::All.targets().iter().map(|t| t.name).collect::<Vec<_>>(), ["cpu", "gpu"]);
        assert!(matches!("reference".parse::<Backends>(), Err(BenchError::ReferenceBackend)));
        assert!(matches!("tpu".parse::<Backends>(), Err(BenchError::UnknownBackend(b)) if b == "tpu"));
    }

    fn options(filter: &str, runs: Option<u32>) -> Options {
        Options { backends: Backends::Cpu, quick: true, filter: Some(filter.into()), runs }
    }

    #[test]
    fn refusals_come_before_any_case_runs() {
        assert!(matches!(run(&options("no-such-op", None), &mut ()), Err(BenchError::NoCase(f)) if f == "no-such-op"));
        assert!(matches!(run(&options("gf16", Some(0)), &mut ()), Err(BenchError::Runs(0))));
        assert!(matches!(run(&options("gf16", Some(MAX_RUNS + 1)), &mut ()), Err(BenchError::Runs(_))));
    }

    #[test]
    fn one_cpu_case_is_measured_and_reported() {
        let report = run(&options("gf16_encode 1024:1024", Some(2)), &mut ()).unwrap();
        assert_eq!(report.cases.len(), 1);
        let case = &report.cases[0];
        assert_eq!((case.op, case.size.as_str()), ("gf16_encode", "1024:1024 x 1 KiB"));
        let cpu = &case.backends[0];
        assert_eq!((cpu.backend, &cpu.status, cpu.samples.len()), ("cpu", &Status::Ok, 2));
        assert!(cpu.median_ns.is_some_and(|m| m > 0.0) && cpu.output_blake3.as_ref().is_some_and(|h| h.len() == 64));
        assert_eq!(case.agree, None, "one backend, nothing to compare across");
        assert!(!report.failed());
        let text = report_text(&report);
        assert!(text.lines().any(|l| l.starts_with("gf16_encode") && l.contains(" cpu ")), "{text}");
    }
}
