//! `crema bench`: CPU vs GPU, operation by operation, with a correctness guard.
//!
//! For every case (an operation at a size) the inputs are built once, then on each backend
//! the op runs once untimed (the warm-up: FK20 tables, fixed-base tables and GPU pipelines
//! are built lazily on first use), then several timed runs. Every run's output is hashed and
//! the hashes must agree across runs and backends; a disagreement is a loud MISMATCH and a
//! non-zero exit, because a benchmark of wrong results is worthless. An op a backend does not
//! offer (not ported to the GPU yet, no adapter) is "n/a (reason)", never a crash and never a
//! silent CPU substitute; any other error is an error.

mod inputs;
mod ops;
mod plan;
mod plot;
mod report;
mod stats;
mod table;
mod vid;

use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};

use ops::{Case, Failure, Runner, Sample, Target};
use report::{BackendResult, CaseResult, Report, SampleOut, Settings, Status};
use stats::Summary;

/// `crema bench` options (the backend comes from the global `--backend`).
#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// Small sizes only: the whole plan finishes in under a minute on 2 cores with `--backend all`.
    #[arg(long)]
    pub quick: bool,
    /// Write the full results (machine, settings, every sample) as JSON to this file.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Draw a PNG chart of median times per backend (log scale, one panel per op family).
    #[arg(long, value_name = "FILE.png")]
    pub plot: Option<PathBuf>,
    /// Only the cases whose "op size" label or family contains this text (case-insensitive).
    #[arg(long, value_name = "SUBSTR")]
    pub filter: Option<String>,
    /// Exactly this many timed runs per case and backend (default: adaptive, see --help).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub runs: Option<u32>,
}

/// How many timed runs: at least `min`, at most `max`, stopping past `min` once `budget` is spent.
#[derive(Debug, Clone, Copy)]
struct Policy {
    min: usize,
    max: usize,
    budget: Duration,
    /// `--runs N`: exactly N, whatever the time.
    fixed: bool,
}

/// Fewest timed runs of an op whose warm-up alone overran the budget (still enough for a median).
const MIN_RUNS_SLOW: usize = 3;

impl Policy {
    fn new(quick: bool, runs: Option<u32>) -> Self {
        match runs {
            Some(n) => Self { min: n as usize, max: n as usize, budget: Duration::ZERO, fixed: true },
            // Up to 20 runs of a fast op (a median of 5 followed whatever else the machine was
            // doing); the budget still caps each case, so the quick plan stays under a minute.
            None if quick => Self { min: 3, max: 20, budget: Duration::from_millis(300), fixed: false },
            None => Self { min: 5, max: 20, budget: Duration::from_secs(2), fixed: false },
        }
    }

    /// The fewest runs for an op whose warm-up took `warmup`: fewer for calls of seconds, so
    /// a slow op (a large MSM on a software GPU) does not hold the run for minutes.
    fn min_runs(&self, warmup: Duration) -> usize {
        if !self.fixed && warmup > self.budget { self.min.min(MIN_RUNS_SLOW) } else { self.min }
    }
}

/// The backends `--backend` names: `cpu`, `gpu`, or `all` (= `auto`, the global default).
fn targets(choice: &str) -> anyhow::Result<Vec<Target>> {
    Ok(match choice.trim().to_ascii_lowercase().as_str() {
        "cpu" => vec![Target::cpu()],
        "gpu" => vec![Target::gpu()],
        "all" | "auto" => vec![Target::cpu(), Target::gpu()],
        "reference" => {
            bail!("crema bench compares cpu and gpu; the reference backend is the test oracle (use cpu, gpu or all)")
        }
        other => bail!("unknown backend {other:?} for crema bench; expected cpu, gpu or all"),
    })
}

/// Text printed under the table and stored in the JSON: what the numbers mean.
const METHOD: [&str; 5] = [
    "median of the timed runs after one untimed warm-up call (lazy tables and GPU pipelines are built there)",
    "median = end-to-end time of the engine call: for the GPU, uploads + kernels + readback + host-side steps",
    "kernel-only = time inside GPU compute passes (timestamp queries); 'none ran' = the call used no GPU kernel",
    "spread = median absolute deviation / median; throughput = work per call / median; gpu/cpu = median ratio (< 1: GPU faster)",
    "output = BLAKE3 of the canonical output bytes; backends (and runs) must agree or the case is a MISMATCH",
];

/// Runs `crema bench` with the global `--backend` string.
pub fn run(backend: &str, args: &BenchArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let started_at = report::now_rfc3339();
    let targets = targets(backend)?;
    // Output paths are checked before minutes of benchmarking, not after.
    if let Some(path) = &args.json {
        super::check_output(path, "--json", None)?;
    }
    if let Some(path) = &args.plot {
        super::check_output(path, "--plot", Some("png"))?;
    }
    let policy = Policy::new(args.quick, args.runs);
    if cfg!(debug_assertions) {
        eprintln!("crema bench: warning: debug assertions are on; use a --release build for real numbers");
    }
    for t in &targets {
        if let Err(reason) = &t.backend {
            eprintln!("crema bench: {} backend unavailable ({reason}); its rows will say n/a", t.name);
        }
    }
    let cases: Vec<Case> = plan::plan(args.quick).into_iter().filter(|c| c.matches(args.filter.as_deref())).collect();
    if cases.is_empty() {
        bail!("--filter {:?} matches no case", args.filter.as_deref().unwrap_or(""));
    }
    // Without the CPU under test, one untimed CPU call per case still guards correctness.
    let check = (!targets.iter().any(|t| t.name == "cpu")).then(Target::cpu);

    let bar = ProgressBar::new((cases.len() * (targets.len() + 1)) as u64).with_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} {msg}")
            .expect("static template")
            .progress_chars("=> "),
    );
    let mut results = Vec::with_capacity(cases.len());
    for case in cases {
        results.push(run_case(case, &targets, check.as_ref(), policy, &bar)?);
    }
    bar.finish_and_clear();

    let mismatches = results.iter().filter(|c| c.agree == Some(false)).count();
    let errors = results.iter().flat_map(|c| &c.backends).filter(|b| b.status == Status::Error).count();
    let gpu_in_use = targets.iter().find_map(Target::adapter_name);
    let report = Report {
        tool: report::tool(),
        machine: report::machine(gpu_in_use),
        settings: Settings {
            backends: targets.iter().map(|t| t.name).collect(),
            quick: args.quick,
            filter: args.filter.clone(),
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
    };
    print_report(&report);
    if let Some(path) = &args.json {
        report::write_json(&report, path)?;
        eprintln!("crema bench: results written to {}", path.display());
    }
    if let Some(path) = &args.plot {
        plot::draw(&report, path).with_context(|| format!("drawing {}", path.display()))?;
        eprintln!("crema bench: chart written to {}", path.display());
    }
    if mismatches > 0 || errors > 0 {
        eprintln!("crema bench: FAILED: {mismatches} mismatching case(s), {errors} error(s)");
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// The machine line, the table, the method notes and any mismatch, on stdout.
fn print_report(r: &Report) {
    let m = &r.machine;
    println!(
        "crema bench {} ({} build) on {}, {} threads{}; {}",
        r.tool.version,
        r.tool.build,
        m.cpu_model,
        m.threads,
        m.gpu_in_use.as_ref().map(|g| format!(", GPU {g}")).unwrap_or_default(),
        if r.settings.quick { "quick sizes" } else { "full sizes" }
    );
    let rows: Vec<table::Row> = r.cases.iter().flat_map(table::case_rows).collect();
    print!("{}", table::render(&rows));
    for note in &r.method {
        println!("  {note}");
    }
    // What each op's median covers: the engine call, and anything beyond it (VID: the shares'
    // wire encoding, which `cargo bench --bench vid` leaves out).
    let mut listed: Vec<&str> = Vec::new();
    for c in &r.cases {
        if !listed.contains(&c.op) {
            listed.push(c.op);
            println!("  {}: {}", c.op, c.timed);
        }
    }
    for c in r.cases.iter().filter(|c| c.agree == Some(false)) {
        println!("MISMATCH: {} {}: {}", c.op, c.size, c.check);
        eprintln!("crema bench: MISMATCH: {} {}: {}", c.op, c.size, c.check);
    }
    let plural = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
    println!(
        "{} in {:.1} s; {}, {}",
        plural(r.cases.len(), "case"),
        r.elapsed_s,
        plural(r.mismatches, "mismatch").replace("mismatchs", "mismatches"),
        plural(r.errors, "error")
    );
}

/// Prepares one case and measures it on every target.
fn run_case(
    case: Case,
    targets: &[Target],
    check: Option<&Target>,
    policy: Policy,
    bar: &ProgressBar,
) -> anyhow::Result<CaseResult> {
    let label = case.label();
    bar.set_message(format!("{label}: preparing inputs"));
    let setup = Instant::now();
    let runner = (case.prepare)().with_context(|| format!("preparing the inputs of {label}"))?;
    let setup_ms = setup.elapsed().as_secs_f64() * 1e3;
    bar.inc(1);
    let mut backends = Vec::with_capacity(targets.len());
    let mut hashes: Vec<(String, [u8; 32])> = Vec::new();
    for t in targets {
        bar.set_message(format!("{label}: {}", t.name));
        let (result, seen) = measure(&runner, t, policy, case.work.amount());
        for h in seen {
            hashes.push((t.name.to_string(), h));
        }
        bar.println(format!("{label} on {}: {}", t.name, summary_line(&result)));
        backends.push(result);
        bar.inc(1);
    }
    if let Some(t) = check {
        match call(&runner, t) {
            Ok(s) => hashes.push(("cpu (untimed check)".into(), s.hash)),
            Err(Failure::Unavailable(r)) => bar.println(format!("{label}: no cpu check ({r})")),
            Err(Failure::Error(e)) => bail!("{label}: the cpu check call failed: {e:#}"),
        }
    }
    let cpu_median = backends.iter().find(|b| b.backend == "cpu").and_then(|b| b.median_ns);
    for b in backends.iter_mut().filter(|b| b.backend != "cpu") {
        b.ratio_to_cpu = b.median_ns.zip(cpu_median).filter(|(_, c)| *c > 0.0).map(|(g, c)| g / c);
    }
    let (agree, check) = guard(&hashes);
    Ok(CaseResult {
        family: case.family,
        op: case.op,
        size: case.size,
        work_amount: case.work.amount(),
        work_unit: case.work.unit(),
        timed: case.timed,
        setup_ms,
        backends,
        agree,
        check,
    })
}

/// Compares every output hash seen (warm-up and timed runs, every backend).
fn guard(hashes: &[(String, [u8; 32])]) -> (Option<bool>, String) {
    let Some((_, first)) = hashes.first() else {
        return (None, "no output to compare".into());
    };
    let mut sources: Vec<&str> = hashes.iter().map(|(s, _)| s.as_str()).collect();
    sources.dedup();
    if hashes.iter().all(|(_, h)| h == first) {
        return if sources.len() > 1 {
            (Some(true), format!("{} agree on every run", sources.join(", ")))
        } else {
            (None, format!("only {} produced output; runs agree with each other", sources[0]))
        };
    }
    let mut distinct: Vec<(String, [u8; 32])> = Vec::new();
    for (s, h) in hashes {
        if !distinct.iter().any(|(ds, dh)| ds == s && dh == h) {
            distinct.push((s.clone(), *h));
        }
    }
    let parts: Vec<String> = distinct.iter().map(|(s, h)| format!("{s} {}", hex(&h[..8]))).collect();
    (Some(false), format!("outputs differ: {}", parts.join(", ")))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// One call of `runner` on `t`; a panic inside the engine becomes an error for this case
/// rather than the end of the whole run.
fn call(runner: &Runner, t: &Target) -> Result<Sample, Failure> {
    std::panic::catch_unwind(AssertUnwindSafe(|| runner(t))).unwrap_or_else(|payload| {
        let msg = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "non-string panic payload".into());
        Err(Failure::Error(anyhow::anyhow!("panicked: {msg}")))
    })
}

/// Warm-up then timed runs of `runner` on `t`; the result and every output hash seen.
fn measure(runner: &Runner, t: &Target, policy: Policy, work: u64) -> (BackendResult, Vec<[u8; 32]>) {
    let fail = |status, reason| (BackendResult::without(t.name, status, reason), Vec::new());
    if let Err(reason) = &t.backend {
        return fail(Status::Unavailable, format!("no {} backend: {reason}", t.name));
    }
    let warm_start = Instant::now();
    let warm = match call(runner, t) {
        Ok(s) => s,
        Err(Failure::Unavailable(r)) => return fail(Status::Unavailable, r),
        Err(Failure::Error(e)) => return fail(Status::Error, format!("{e:#}")),
    };
    let warmup = warm_start.elapsed();
    let warmup_ns = warmup.as_nanos() as u64;
    let min_runs = policy.min_runs(warmup);
    let mut samples: Vec<Sample> = Vec::new();
    let start = Instant::now();
    while samples.len() < policy.max && (samples.len() < min_runs || start.elapsed() < policy.budget) {
        match call(runner, t) {
            Ok(s) => samples.push(s),
            Err(Failure::Unavailable(r)) => {
                return fail(Status::Error, format!("unavailable after a good warm-up: {r}"));
            }
            Err(Failure::Error(e)) => return fail(Status::Error, format!("{e:#}")),
        }
    }
    let wall = Summary::of_u64(&samples.iter().map(|s| s.wall_ns).collect::<Vec<_>>());
    let kernels: Option<Vec<u64>> = samples.iter().map(|s| s.kernel_ns).collect();
    let median_ns = wall.map(|w| w.median);
    let result = BackendResult {
        backend: t.name,
        status: Status::Ok,
        reason: None,
        output_blake3: Some(hex(&warm.hash)),
        warmup_ns: Some(warmup_ns),
        median_ns,
        wall_ns: wall,
        kernel_ns: kernels.and_then(|k| Summary::of_u64(&k)),
        throughput_per_s: median_ns.filter(|m| *m > 0.0).map(|m| work as f64 / (m / 1e9)),
        ratio_to_cpu: None,
        samples: samples.iter().map(|s| SampleOut { wall_ns: s.wall_ns, kernel_ns: s.kernel_ns }).collect(),
    };
    let hashes = std::iter::once(warm.hash).chain(samples.iter().map(|s| s.hash)).collect();
    (result, hashes)
}

/// One line per measured backend for the progress output.
fn summary_line(b: &BackendResult) -> String {
    match (&b.status, b.wall_ns) {
        (Status::Ok, Some(w)) => format!("{} median of {} runs", table::duration(w.median), w.runs),
        _ => format!("{:?}: {}", b.status, b.reason.as_deref().unwrap_or("")).to_lowercase(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guard_agrees_only_on_identical_outputs() {
        let (a, b) = ([1u8; 32], [2u8; 32]);
        assert_eq!(guard(&[]).0, None);
        assert_eq!(guard(&[("cpu".into(), a), ("cpu".into(), a)]).0, None, "one backend has nothing to compare");
        assert_eq!(guard(&[("cpu".into(), a), ("gpu".into(), a)]).0, Some(true));
        let (agree, why) = guard(&[("cpu".into(), a), ("gpu".into(), b)]);
        assert_eq!(agree, Some(false));
        assert!(why.contains("cpu 0101010101010101") && why.contains("gpu 0202020202020202"), "{why}");
        // A backend whose runs disagree with each other is a mismatch too.
        assert_eq!(guard(&[("gpu".into(), a), ("gpu".into(), b)]).0, Some(false));
    }

    #[test]
    fn backend_choices() {
        assert_eq!(targets("cpu").unwrap().len(), 1);
        assert!(targets("reference").is_err());
        assert!(targets("tpu").is_err());
    }

    #[test]
    fn run_policy() {
        let p = Policy::new(true, None);
        assert!(p.min >= 3 && p.max >= p.min);
        let fixed = Policy::new(false, Some(7));
        assert_eq!((fixed.min, fixed.max), (7, 7));
        assert_eq!(fixed.min_runs(Duration::from_secs(60)), 7, "--runs is exact, however slow the op");
        let full = Policy::new(false, None);
        assert_eq!(full.min_runs(Duration::from_millis(10)), full.min);
        assert_eq!(full.min_runs(Duration::from_secs(10)), MIN_RUNS_SLOW);
    }
}
