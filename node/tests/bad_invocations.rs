//! The real `crema` binary over a table of ordinary mistakes and hostile inputs: each must exit
//! non-zero with a message that names the problem, and none may panic (exit code 101 or
//! "panicked at" fails the test). Adding a case is one row of [`ROWS`]; `{dir}` in an argument
//! is the scratch directory, which holds the crafted files of [`scratch`].

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// One bad invocation: its arguments and a fragment its output (stdout + stderr) must contain.
struct Row {
    args: &'static [&'static str],
    says: &'static str,
}

const fn row(args: &'static [&'static str], says: &'static str) -> Row {
    Row { args, says }
}

const ROWS: &[Row] = &[
    // The command line itself.
    row(&[], "Usage"),
    row(&["nope"], "unrecognized subcommand"),
    row(&["info", "extra"], "unexpected argument"),
    row(&["--backend", "tpu", "info"], "unknown backend \"tpu\""),
    row(&["--backend", "", "vectors", "{dir}"], "unknown backend"),
    // crema sim
    row(&["sim", "--scenario", "partition", "--nodes", "1"], "--nodes 1 is too few for scenario partition"),
    row(&["sim", "--scenario", "mixed", "--nodes", "1", "--seeds", "1"], "--nodes 1 is too few for scenario mixed"),
    row(&["sim", "--nodes", "1", "--seeds", "1"], "--nodes 1 is too few for scenario"),
    row(&["sim", "--nodes", "0"], "--nodes must be between 1 and 1000"),
    row(&["sim", "--nodes", "1001"], "--nodes must be between 1 and 1000"),
    row(&["sim", "--nodes", "18446744073709551616"], "invalid value"),
    row(&["sim", "--nodes", "-1"], "unexpected argument"),
    row(&["sim", "--scenario", "nope"], "unknown scenario \"nope\""),
    row(&["sim", "--seeds", "many"], "invalid value 'many' for '--seeds"),
    row(&["sim", "--seeds", "0"], "--seeds 0 runs nothing"),
    row(&["sim", "--seed", "18446744073709551615", "--seeds", "2"], "passes the last seed"),
    // crema vectors
    row(&["vectors"], "required"),
    row(&["vectors", "{dir}/missing"], "missing"),
    row(&["vectors", "{dir}/empty"], "no reference cases found"),
    row(&["vectors", "{dir}/empty", "{dir}/empty"], "0 passed, 0 failed"),
    row(&["vectors", "{dir}/crafted/kzg/blob_to_kzg_commitment"], "input refused, expected"),
    row(&["vectors", "{dir}/crafted/kzg/compute_cells"], "malformed case"),
    row(&["vectors", "{dir}/crafted/kzg/verify_kzg_proof"], "bad yaml"),
    row(&["vectors", "{dir}/crafted/bls/sign"], "bad JSON"),
    row(&["vectors", "{dir}/crafted/bls/verify"], "case has no \"output\""),
    row(&["vectors", "{dir}/crafted/bls/aggregate"], "neither null nor a hex string"),
    row(&["vectors", "{dir}/crafted"], "6 failed"),
    // crema bench (every refusal comes before any benchmark runs)
    row(&["bench", "--backend", "reference"], "the reference backend is the test oracle"),
    row(&["bench", "--backend", "tpu"], "unknown backend \"tpu\" for crema bench"),
    row(&["bench", "--filter", "no-such-op"], "--filter \"no-such-op\" matches no case"),
    row(&["bench", "--runs", "0"], "0 is not in 1..=1000"),
    row(&["bench", "--json", "{dir}/missing/out.json"], "does not exist"),
    row(&["bench", "--json", "{dir}"], "is a directory"),
    row(&["bench", "--plot", "{dir}/chart.svg"], "must end in .png"),
];

/// The scratch directory: an empty directory and crafted vector files, one wrong in each way.
fn scratch() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("crema-bad-invocations-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(dir.join("empty")).unwrap();
    let write = |rel: &str, text: &str| {
        let path = dir.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    };
    let kzg = "crafted/kzg";
    // A multi-byte character across the 200-byte cut of the failure summary (once a panic).
    let long = format!("{}{}", "a".repeat(199), "é".repeat(10));
    write(
        &format!("{kzg}/blob_to_kzg_commitment/s/c/data.yaml"),
        &format!("input: {{blob: '0x00'}}\noutput: '{long}'\n"),
    );
    write(&format!("{kzg}/compute_cells/s/c/data.yaml"), "input: {}\noutput: null\n");
    write(&format!("{kzg}/verify_kzg_proof/s/c/data.yaml"), "input: [unclosed\n");
    write("crafted/bls/sign/c.json", "{\"input\": ");
    write("crafted/bls/verify/c.json", "{\"input\": {}}");
    write("crafted/bls/aggregate/c.json", "{\"input\": [], \"output\": 7}");
    dir
}

fn run(dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let args: Vec<String> = args.iter().map(|a| a.replace("{dir}", dir.to_str().unwrap())).collect();
    let out = Command::new(env!("CARGO_BIN_EXE_crema"))
        .args(&args)
        .env("CREMA_BACKEND", "cpu")
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("crema runs");
    (out.status.code(), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

#[test]
fn bad_invocations_fail_cleanly_with_a_reason() {
    let dir = scratch();
    let mut problems = Vec::new();
    for row in ROWS {
        let (code, stdout, stderr) = run(&dir, row.args);
        let shown = format!("crema {}: exit {code:?}\n{stdout}{stderr}", row.args.join(" "));
        if code == Some(0) || code.is_none() {
            problems.push(format!("did not fail: {shown}"));
        } else if code == Some(101) || stderr.contains("panicked at") {
            problems.push(format!("panicked: {shown}"));
        } else if !format!("{stdout}{stderr}").contains(row.says) {
            problems.push(format!("does not say {:?}: {shown}", row.says));
        }
    }
    fs::remove_dir_all(&dir).unwrap();
    assert!(problems.is_empty(), "{} of {} rows:\n{}", problems.len(), ROWS.len(), problems.join("\n"));
}
