//! `crema bench`: the flags, a progress bar on stderr, and the results printed and written. The
//! benchmark itself — the plan, the timing, the correctness guard across backends, the report
//! and its chart — is `crema_benches::engine_bench`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use crema_benches::engine_bench::{self, Backends, MAX_RUNS, Options, Progress};
use indicatif::{ProgressBar, ProgressStyle};

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
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_RUNS)))]
    pub runs: Option<u32>,
}

/// Runs `crema bench` with the global `--backend` string (`cpu`, `gpu`, or `all` = `auto`).
pub fn run(backend: &str, args: &BenchArgs) -> anyhow::Result<ExitCode> {
    let backends: Backends = backend.parse()?;
    // Output paths are checked before minutes of benchmarking, not after.
    if let Some(path) = &args.json {
        super::check_output(path, "--json", None)?;
    }
    if let Some(path) = &args.plot {
        super::check_output(path, "--plot", Some("png"))?;
    }
    let options = Options { backends, quick: args.quick, filter: args.filter.clone(), runs: args.runs };
    let report = engine_bench::run(&options, &mut Bar::default())?;
    print!("{}", engine_bench::report_text(&report));
    for c in report.cases.iter().filter(|c| c.agree == Some(false)) {
        eprintln!("crema bench: MISMATCH: {} {}: {}", c.op, c.size, c.check);
    }
    if let Some(path) = &args.json {
        engine_bench::write_json(&report, path)?;
        eprintln!("crema bench: results written to {}", path.display());
    }
    if let Some(path) = &args.plot {
        let png = engine_bench::draw(&report).with_context(|| format!("drawing {}", path.display()))?;
        crate::atomic_write::write_atomic(path, &png)?;
        eprintln!("crema bench: chart written to {}", path.display());
    }
    if report.failed() {
        eprintln!("crema bench: FAILED: {} mismatching case(s), {} error(s)", report.mismatches, report.errors);
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// The run's progress as an indicatif bar on stderr (hidden, with its lines, when stderr is no
/// terminal); notes are printed whatever stderr is.
#[derive(Default)]
struct Bar(Option<ProgressBar>);

impl Progress for Bar {
    fn note(&mut self, line: &str) {
        eprintln!("crema bench: {line}");
    }

    fn start(&mut self, steps: u64) {
        self.0 = Some(
            ProgressBar::new(steps).with_style(
                ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} {msg}")
                    .expect("static template")
                    .progress_chars("=> "),
            ),
        );
    }

    fn doing(&mut self, what: &str) {
        if let Some(bar) = &self.0 {
            bar.set_message(what.to_string());
        }
    }

    fn line(&mut self, line: &str) {
        if let Some(bar) = &self.0 {
            bar.println(line);
        }
    }

    fn step(&mut self) {
        if let Some(bar) = &self.0 {
            bar.inc(1);
        }
    }

    fn finish(&mut self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}
