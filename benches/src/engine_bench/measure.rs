//! Measuring one case: the warm-up, the timed runs (how many: [`Policy`]), the statistics, and
//! the correctness guard over every output hash seen.

use std::panic::AssertUnwindSafe;
use std::time::{Duration, Instant};

use super::ops::{Case, Failure, Runner, Sample, Target};
use super::report::{BackendResult, CaseResult, SampleOut, Status};
use super::stats::Summary;
use super::{BenchError, Progress, table};

/// How many timed runs: at least `min`, at most `max`, stopping past `min` once `budget` is spent.
#[derive(Debug, Clone, Copy)]
pub(super) struct Policy {
    pub(super) min: usize,
    pub(super) max: usize,
    pub(super) budget: Duration,
    /// `--runs N`: exactly N, whatever the time.
    fixed: bool,
}

/// Fewest timed runs of an op whose warm-up alone overran the budget (still enough for a median).
const MIN_RUNS_SLOW: usize = 3;

impl Policy {
    pub(super) fn new(quick: bool, runs: Option<u32>) -> Self {
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

/// Prepares one case and measures it on every target.
pub(super) fn run_case(
    case: Case,
    targets: &[Target],
    check: Option<&Target>,
    policy: Policy,
    progress: &mut dyn Progress,
) -> Result<CaseResult, BenchError> {
    let label = case.label();
    progress.doing(&format!("{label}: preparing inputs"));
    let setup = Instant::now();
    let runner = (case.prepare)().map_err(|source| BenchError::Prepare { case: label.clone(), source })?;
    let setup_ms = setup.elapsed().as_secs_f64() * 1e3;
    progress.step();
    let mut backends = Vec::with_capacity(targets.len());
    let mut hashes: Vec<(String, [u8; 32])> = Vec::new();
    for t in targets {
        progress.doing(&format!("{label}: {}", t.name));
        let (result, seen) = measure(&runner, t, policy, case.work.amount());
        for h in seen {
            hashes.push((t.name.to_string(), h));
        }
        progress.line(&format!("{label} on {}: {}", t.name, summary_line(&result)));
        backends.push(result);
        progress.step();
    }
    if let Some(t) = check {
        match call(&runner, t) {
            Ok(s) => hashes.push(("cpu (untimed check)".into(), s.hash)),
            Err(Failure::Unavailable(r)) => progress.line(&format!("{label}: no cpu check ({r})")),
            Err(Failure::Error(source)) => return Err(BenchError::Check { case: label, source }),
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
