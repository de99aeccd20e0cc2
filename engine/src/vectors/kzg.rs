//! The c-kzg-4844 / consensus-spec-tests KZG layout: `<function>/<suite>/<case>/data.yaml`
//! with `input` and `output`; `output: null` means the call must fail.
//!
//! Inputs that cannot even be shaped into the API's byte arrays (bad hex, wrong length) count
//! as a refused call, as they do for c-kzg's own runner, and so does a [`KzgError`] that
//! refuses the input. A case whose YAML lacks a field or holds the wrong kind of value, and a
//! call that fails for any other reason (a device or setup error), fail the case: an
//! expected-failure case must not pass because the machinery broke.

use serde_yaml::Value;

use super::truncate;
use crate::field::fr_to_bytes;
use crate::kzg::compute_verify_cell_kzg_proof_batch_challenge;
use crate::kzg::{Blob, Bytes32, Bytes48, Cell, KzgContext, KzgError};

/// The function folders this runner recognises.
pub const FUNCTIONS: &[&str] = &[
    "blob_to_kzg_commitment",
    "compute_blob_kzg_proof",
    "compute_cells",
    "compute_cells_and_kzg_proofs",
    "compute_challenge",
    "compute_kzg_proof",
    "compute_verify_cell_kzg_proof_batch_challenge",
    "recover_cells_and_kzg_proofs",
    "verify_blob_kzg_proof",
    "verify_blob_kzg_proof_batch",
    "verify_cell_kzg_proof_batch",
    "verify_kzg_proof",
];

/// Why a call produced no output.
enum NoOutput {
    /// The input was refused: it could not be shaped into the API's types (bad hex, wrong
    /// length, an index beyond u64), or the call rejected it. What `output: null` expects.
    Refused,
    /// The case itself is broken (a missing field, a value of the wrong kind), or the call
    /// failed for a reason other than its input: the case fails.
    Failed(String),
}

impl From<KzgError> for NoOutput {
    fn from(e: KzgError) -> Self {
        if e.is_input_rejection() { NoOutput::Refused } else { NoOutput::Failed(format!("call failed: {e}")) }
    }
}

fn malformed(what: &str) -> NoOutput {
    NoOutput::Failed(format!("malformed case: {what}"))
}

fn bytes(v: &Value) -> Result<Vec<u8>, NoOutput> {
    let s = v.as_str().ok_or_else(|| malformed("a byte string is missing or not a string"))?;
    hex::decode(s.strip_prefix("0x").unwrap_or(s)).map_err(|_| NoOutput::Refused)
}

fn array<const N: usize>(v: &Value) -> Result<Box<[u8; N]>, NoOutput> {
    let b = bytes(v)?;
    b.into_boxed_slice().try_into().map_err(|_| NoOutput::Refused)
}

fn list<T>(v: &Value, f: impl Fn(&Value) -> Result<T, NoOutput>) -> Result<Vec<T>, NoOutput> {
    v.as_sequence().ok_or_else(|| malformed("a list is missing or not a list"))?.iter().map(f).collect()
}

fn index(v: &Value) -> Result<u64, NoOutput> {
    match v {
        Value::Number(n) => n.as_u64().ok_or(NoOutput::Refused),
        _ => Err(malformed("an index is not a number")),
    }
}

fn hex_value(b: &[u8]) -> Value {
    Value::String(format!("0x{}", hex::encode(b)))
}

fn hex_list<T: AsRef<[u8]>>(items: &[T]) -> Value {
    Value::Sequence(items.iter().map(|x| hex_value(x.as_ref())).collect())
}

/// Runs the function on the case's input: its output, or why there is none.
fn call(function: &str, ctx: &KzgContext, input: &Value) -> Result<Value, NoOutput> {
    let ok = |r: Result<Value, KzgError>| r.map_err(NoOutput::from);
    match function {
        "blob_to_kzg_commitment" => {
            let blob = array::<{ crate::kzg::BYTES_PER_BLOB }>(&input["blob"])?;
            ok(ctx.blob_to_kzg_commitment(&blob).map(|c| hex_value(&c)))
        }
        "compute_kzg_proof" => {
            let blob = array::<{ crate::kzg::BYTES_PER_BLOB }>(&input["blob"])?;
            let z: Box<Bytes32> = array(&input["z"])?;
            ok(ctx.compute_kzg_proof(&blob, &z).map(|(p, y)| hex_list(&[&p[..], &y[..]])))
        }
        "compute_blob_kzg_proof" => {
            let blob = array::<{ crate::kzg::BYTES_PER_BLOB }>(&input["blob"])?;
            let c: Box<Bytes48> = array(&input["commitment"])?;
            ok(ctx.compute_blob_kzg_proof(&blob, &c).map(|p| hex_value(&p)))
        }
        "compute_challenge" => {
            let blob = array::<{ crate::kzg::BYTES_PER_BLOB }>(&input["blob"])?;
            let c: Box<Bytes48> = array(&input["commitment"])?;
            Ok(hex_value(&fr_to_bytes(&ctx.compute_challenge(&blob, &c))))
        }
        "verify_kzg_proof" => {
            let c: Box<Bytes48> = array(&input["commitment"])?;
            let z: Box<Bytes32> = array(&input["z"])?;
            let y: Box<Bytes32> = array(&input["y"])?;
            let p: Box<Bytes48> = array(&input["proof"])?;
            ok(ctx.verify_kzg_proof(&c, &z, &y, &p).map(Value::Bool))
        }
        "verify_blob_kzg_proof" => {
            let blob = array::<{ crate::kzg::BYTES_PER_BLOB }>(&input["blob"])?;
            let c: Box<Bytes48> = array(&input["commitment"])?;
            let p: Box<Bytes48> = array(&input["proof"])?;
            ok(ctx.verify_blob_kzg_proof(&blob, &c, &p).map(Value::Bool))
        }
        "verify_blob_kzg_proof_batch" => {
            let blobs: Vec<Box<Blob>> = list(&input["blobs"], array)?;
            let cs: Vec<Box<Bytes48>> = list(&input["commitments"], array)?;
            let ps: Vec<Box<Bytes48>> = list(&input["proofs"], array)?;
            let blobs: Vec<&Blob> = blobs.iter().map(|b| &**b).collect();
            let cs: Vec<&Bytes48> = cs.iter().map(|b| &**b).collect();
            let ps: Vec<&Bytes48> = ps.iter().map(|b| &**b).collect();
            ok(ctx.verify_blob_kzg_proof_batch(&blobs, &cs, &ps).map(Value::Bool))
        }
        "compute_cells" => {
            let blob = array::<{ crate::kzg::BYTES_PER_BLOB }>(&input["blob"])?;
            ok(ctx.compute_cells(&blob).map(|cells| hex_list(&cells)))
        }
        "compute_cells_and_kzg_proofs" => {
            let blob = array::<{ crate::kzg::BYTES_PER_BLOB }>(&input["blob"])?;
            ok(ctx
                .compute_cells_and_kzg_proofs(&blob)
                .map(|(cells, proofs)| Value::Sequence(vec![hex_list(&cells), hex_list(&proofs)])))
        }
        "recover_cells_and_kzg_proofs" => {
            let indices = list(&input["cell_indices"], index)?;
            let cells: Vec<Box<Cell>> = list(&input["cells"], array)?;
            let cells: Vec<&Cell> = cells.iter().map(|b| &**b).collect();
            ok(ctx
                .recover_cells_and_kzg_proofs(&indices, &cells)
                .map(|(cells, proofs)| Value::Sequence(vec![hex_list(&cells), hex_list(&proofs)])))
        }
        "verify_cell_kzg_proof_batch" => {
            let cs: Vec<Box<Bytes48>> = list(&input["commitments"], array)?;
            let indices = list(&input["cell_indices"], index)?;
            let cells: Vec<Box<Cell>> = list(&input["cells"], array)?;
            let ps: Vec<Box<Bytes48>> = list(&input["proofs"], array)?;
            let cs: Vec<&Bytes48> = cs.iter().map(|b| &**b).collect();
            let cells: Vec<&Cell> = cells.iter().map(|b| &**b).collect();
            let ps: Vec<&Bytes48> = ps.iter().map(|b| &**b).collect();
            ok(ctx.verify_cell_kzg_proof_batch(&cs, &indices, &cells, &ps).map(Value::Bool))
        }
        "compute_verify_cell_kzg_proof_batch_challenge" => {
            let cs: Vec<Box<Bytes48>> = list(&input["commitments"], array)?;
            let commitment_indices = list(&input["commitment_indices"], index)?;
            let indices = list(&input["cell_indices"], index)?;
            // Each coset's evaluations, concatenated, are exactly the cell's bytes.
            let cells: Vec<Box<Cell>> = list(&input["cosets_evals"], |v| {
                let evals: Vec<Box<Bytes32>> = list(v, array)?;
                let flat: Vec<u8> = evals.iter().flat_map(|e| e.iter().copied()).collect();
                flat.into_boxed_slice().try_into().map_err(|_| NoOutput::Refused)
            })?;
            let ps: Vec<Box<Bytes48>> = list(&input["proofs"], array)?;
            if commitment_indices.len() != cells.len() || indices.len() != cells.len() || ps.len() != cells.len() {
                return Err(NoOutput::Refused);
            }
            let cs: Vec<&Bytes48> = cs.iter().map(|b| &**b).collect();
            let cells: Vec<&Cell> = cells.iter().map(|b| &**b).collect();
            let ps: Vec<&Bytes48> = ps.iter().map(|b| &**b).collect();
            let r = compute_verify_cell_kzg_proof_batch_challenge(&cs, &commitment_indices, &indices, &cells, &ps);
            Ok(hex_value(&fr_to_bytes(&r)))
        }
        other => Err(NoOutput::Failed(format!("unknown KZG function {other}"))),
    }
}

/// Runs one `data.yaml` case of `function` in `ctx`.
pub fn run_case(function: &str, yaml: &str, ctx: &KzgContext) -> Result<(), String> {
    if !FUNCTIONS.contains(&function) {
        return Err(format!("unknown KZG function {function}"));
    }
    let doc: Value = serde_yaml::from_str(yaml).map_err(|e| format!("bad yaml: {}", truncate(&e.to_string(), 200)))?;
    let input = doc.get("input").ok_or("malformed case: no \"input\"")?;
    let want = doc.get("output").ok_or("malformed case: no \"output\"")?;
    match (call(function, ctx, input), want.is_null()) {
        (Err(NoOutput::Failed(reason)), _) => Err(reason),
        (Err(NoOutput::Refused), true) => Ok(()),
        (Ok(g), true) => Err(format!("expected failure, got {}", summarize(&g))),
        (Err(NoOutput::Refused), false) => Err(format!("input refused, expected {}", summarize(want))),
        (Ok(g), false) if &g == want => Ok(()),
        (Ok(g), false) => Err(format!("got {}, expected {}", summarize(&g), summarize(want))),
    }
}

/// A short rendering of a value for failure messages (cells are 4 KiB of hex each).
fn summarize(v: &Value) -> String {
    truncate(&serde_yaml::to_string(v).unwrap_or_default().replace('\n', " "), 200)
}
