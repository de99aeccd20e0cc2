//! `crema bench` as a benchmarker runs it: the table, the JSON results and the PNG chart.

use std::fs;
use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;

fn crema(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_crema")).arg("bench").args(args).output().expect("crema runs")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("crema-bench-cli-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn json(path: &PathBuf) -> Value {
    serde_json::from_str(&fs::read_to_string(path).expect("the JSON file exists")).expect("valid JSON")
}

/// Width and height from a PNG's IHDR chunk, after checking the signature.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "PNG signature");
    assert_eq!(&bytes[12..16], b"IHDR", "IHDR is the first chunk");
    let be = |i: usize| u32::from_be_bytes(bytes[i..i + 4].try_into().unwrap());
    (be(16), be(20))
}

#[test]
fn quick_cpu_run_writes_table_json_and_png() {
    let _machine = crate::machine::shared();
    let dir = scratch("cpu");
    let (out, png) = (dir.join("out.json"), dir.join("out.png"));
    let o = crema(&[
        "--quick",
        "--backend",
        "cpu",
        "--filter",
        "gf16_encode 1024",
        "--json",
        out.to_str().unwrap(),
        "--plot",
        png.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    let header = stdout.lines().find(|l| l.starts_with("op ")).expect("a table header");
    for column in ["size", "backend", "runs", "median", "spread", "kernel-only", "throughput", "gpu/cpu"] {
        assert!(header.contains(column), "missing column {column}: {header}");
    }
    let row = stdout.lines().find(|l| l.starts_with("gf16_encode")).expect("a gf16_encode row");
    assert!(row.contains("1024:1024 x 1 KiB") && row.contains(" cpu ") && row.contains("B/s"), "{row}");
    assert!(!stdout.contains("msm_g1"), "the filter keeps only gf16_encode 1024:\n{stdout}");
    assert!(
        stdout.lines().any(|l| l.trim_start().starts_with("gf16_encode: Backend::gf16_encode")),
        "the legend says what the median times:\n{stdout}"
    );

    let v = json(&out);
    assert_eq!(v["tool"]["name"], "crema bench");
    assert_eq!(v["tool"]["version"], env!("CARGO_PKG_VERSION"));
    assert!(v["machine"]["cpu_model"].as_str().is_some_and(|s| !s.is_empty()));
    assert!(v["machine"]["threads"].as_u64().is_some_and(|n| n >= 1));
    assert!(v["machine"]["gpu_adapters"].is_array());
    assert_eq!(v["settings"]["quick"], true);
    assert_eq!(v["settings"]["backends"], serde_json::json!(["cpu"]));
    for stamp in ["started_at", "finished_at"] {
        let s = v[stamp].as_str().unwrap();
        assert!(s.len() == 20 && s.ends_with('Z') && s.as_bytes()[10] == b'T', "{stamp} = {s}");
    }
    let cases = v["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 1, "one case matches the filter");
    let case = &cases[0];
    assert_eq!(case["op"], "gf16_encode");
    assert_eq!(case["work_unit"], "bytes");
    assert_eq!(case["work_amount"], 1024 * 1024);
    let cpu = &case["backends"][0];
    assert_eq!(cpu["backend"], "cpu");
    assert_eq!(cpu["status"], "ok");
    assert!(cpu["reason"].is_null());
    assert_eq!(cpu["output_blake3"].as_str().unwrap().len(), 64);
    let samples = cpu["samples"].as_array().unwrap();
    assert!(samples.len() >= 3, "at least three timed runs");
    assert_eq!(cpu["wall_ns"]["runs"].as_u64().unwrap() as usize, samples.len());
    let walls: Vec<f64> = samples.iter().map(|s| s["wall_ns"].as_f64().unwrap()).collect();
    let (min, max) = (cpu["wall_ns"]["min"].as_f64().unwrap(), cpu["wall_ns"]["max"].as_f64().unwrap());
    let median = cpu["median_ns"].as_f64().unwrap();
    assert!(walls.iter().all(|w| *w > 0.0 && *w >= min && *w <= max));
    assert!(min <= median && median <= max);
    assert!(cpu["warmup_ns"].as_u64().is_some_and(|w| w > 0));
    assert!(cpu["kernel_ns"].is_null(), "no kernel time on the CPU");
    assert!(cpu["throughput_per_s"].as_f64().unwrap() > 0.0);

    let bytes = fs::read(&png).expect("the PNG exists");
    let (w, h) = png_size(&bytes);
    assert!(w >= 600 && h >= 400, "{w}x{h}");
    assert!(bytes.len() > 10_000, "a chart with text and bars, not an empty image: {} bytes", bytes.len());
}

/// With `--backend all`, every GPU row is either measured and agreeing with the CPU, or n/a
/// with a reason (not ported yet, or no adapter on this machine): never an error, never a
/// crash. `CREMA_REQUIRE_GPU=1` additionally demands that an adapter was used.
#[test]
fn all_backends_report_gpu_rows_as_measured_or_na() {
    let _machine = crate::machine::shared();
    let dir = scratch("all");
    // merkle_leaves is a ported op; sum_g1 is not (yet): both paths of the GPU row.
    for filter in ["merkle", "sum_g1"] {
        let out = dir.join(format!("{filter}.json"));
        let o = crema(&["--quick", "--backend", "all", "--filter", filter, "--json", out.to_str().unwrap()]);
        assert!(o.status.success(), "{}", text(&o));
        let stdout = String::from_utf8_lossy(&o.stdout);
        let v = json(&out);
        if std::env::var("CREMA_REQUIRE_GPU").as_deref() == Ok("1") {
            assert!(v["machine"]["gpu_in_use"].is_string(), "CREMA_REQUIRE_GPU=1 but no adapter was used");
        }
        for case in v["cases"].as_array().unwrap() {
            let gpu = case["backends"].as_array().unwrap().iter().find(|b| b["backend"] == "gpu").expect("a gpu row");
            match gpu["status"].as_str().unwrap() {
                "ok" => {
                    assert_eq!(case["agree"], true, "gpu output must match the cpu: {}", case["check"]);
                    assert!(gpu["ratio_to_cpu"].as_f64().is_some_and(|r| r > 0.0));
                }
                "unavailable" => {
                    let reason = gpu["reason"].as_str().expect("a reason");
                    assert!(!reason.is_empty());
                    assert!(gpu["median_ns"].is_null() && gpu["wall_ns"].is_null());
                    let row = stdout
                        .lines()
                        .find(|l| l.starts_with(case["op"].as_str().unwrap()) && l.contains(" gpu "))
                        .expect("a gpu table row");
                    assert!(row.contains("n/a ("), "{row}");
                }
                other => panic!("gpu status {other}: {}", gpu["reason"]),
            }
        }
    }
}

#[test]
fn bad_arguments_fail_cleanly() {
    let o = crema(&["--quick", "--backend", "cpu", "--filter", "no-such-op"]);
    assert!(!o.status.success());
    assert!(text(&o).contains("matches no case"), "{}", text(&o));
    let o = crema(&["--quick", "--backend", "reference"]);
    assert!(!o.status.success());
    assert!(text(&o).contains("cpu, gpu or all"), "{}", text(&o));
}
