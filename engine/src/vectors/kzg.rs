//! The c-kzg-4844 / consensus-spec-tests KZG layout: `<function>/<suite>/<case>/data.yaml`
//! with `input` and `output`; `output: null` means the call must fail.
//!
//! Inputs that cannot even be shaped into the API's byte arrays (bad hex, wrong length) count
//! as a failed call, as they do for c-kzg's own runner.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Arc, Mutex, OnceLock};

use serde_yaml::Value;

use crate::backend::{Backend, BackendChoice};
use crate::field::fr_to_bytes;
use crate::kzg::compute_verify_cell_kzg_proof_batch_challenge;
use crate::kzg::{Blob, Bytes32, Bytes48, Cell, KzgContext};

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

/// One context per backend for the whole run: the FK20 tables are built once.
fn context(backend: &dyn Backend) -> Result<Arc<KzgContext>, String> {
    static CONTEXTS: OnceLock<Mutex<HashMap<&'static str, Arc<KzgContext>>>> = OnceLock::new();
    let mut map = CONTEXTS.get_or_init(Default::default).lock().map_err(|_| "context cache poisoned".to_string())?;
    if let Some(c) = map.get(backend.name()) {
        return Ok(c.clone());
    }
    // The runner is handed `&dyn Backend`; the context owns an `Arc`, so rebuild the same kind.
    let built = BackendChoice::from_str(backend.name()).and_then(BackendChoice::build).map_err(|e| e.to_string())?;
    let ctx = Arc::new(KzgContext::new(built).map_err(|e| e.to_string())?);
    map.insert(backend.name(), ctx.clone());
    Ok(ctx)
}

/// Why an input could not be shaped into the API's types.
struct BadInput;

fn bytes(v: &Value) -> Result<Vec<u8>, BadInput> {
    let s = v.as_str().ok_or(BadInput)?;
    hex::decode(s.strip_prefix("0x").unwrap_or(s)).map_err(|_| BadInput)
}

fn array<const N: usize>(v: &Value) -> Result<Box<[u8; N]>, BadInput> {
    let b = bytes(v)?;
    b.into_boxed_slice().try_into().map_err(|_| BadInput)
}

fn list<T>(v: &Value, f: impl Fn(&Value) -> Result<T, BadInput>) -> Result<Vec<T>, BadInput> {
    v.as_sequence().ok_or(BadInput)?.iter().map(f).collect()
}

fn index(v: &Value) -> Result<u64, BadInput> {
    v.as_u64().ok_or(BadInput)
}

fn hex_value(b: &[u8]) -> Value {
    Value::String(format!("0x{}", hex::encode(b)))
}

fn hex_list<T: AsRef<[u8]>>(items: &[T]) -> Value {
    Value::Sequence(items.iter().map(|x| hex_value(x.as_ref())).collect())
}

/// Runs the function on the case's input: `Ok(None)` when the call (or shaping its input)
/// failed, `Ok(Some(output))` otherwise.
fn call(function: &str, ctx: &KzgContext, input: &Value) -> Result<Option<Value>, String> {
    let result = (|| -> Result<Option<Value>, BadInput> {
        let ok = |r: Result<Value, crate::kzg::KzgError>| Ok(r.ok());
        Ok(match function {
            "blob_to_kzg_commitment" => {
                let blob = array::<{ crate::kzg::BYTES_PER_BLOB }>(&input["blob"])?;
                ctx.blob_to_kzg_commitment(&blob).map(|c| hex_value(&c)).ok()
            }
            "compute_kzg_proof" => {
                let blob = array::<{ crate::kzg::BYTES_PER_BLOB }>(&input["blob"])?;
                let z: Box<Bytes32> = array(&input["z"])?;
                return ok(ctx.compute_kzg_proof(&blob, &z).map(|(p, y)| hex_list(&[&p[..], &y[..]])));
            }
            "compute_blob_kzg_proof" => {
                let blob = array::<{ crate::kzg::BYTES_PER_BLOB }>(&input["blob"])?;
                let c: Box<Bytes48> = array(&input["commitment"])?;
                return ok(ctx.compute_blob_kzg_proof(&blob, &c).map(|p| hex_value(&p)));
            }
            "compute_challenge" => {
                let blob = array::<{ crate::kzg::BYTES_PER_BLOB }>(&input["blob"])?;
                let c: Box<Bytes48> = array(&input["commitment"])?;
                Some(hex_value(&fr_to_bytes(&ctx.compute_challenge(&blob, &c))))
            }
            "verify_kzg_proof" => {
                let c: Box<Bytes48> = array(&input["commitment"])?;
                let z: Box<Bytes32> = array(&input["z"])?;
                let y: Box<Bytes32> = array(&input["y"])?;
                let p: Box<Bytes48> = array(&input["proof"])?;
                return ok(ctx.verify_kzg_proof(&c, &z, &y, &p).map(Value::Bool));
            }
            "verify_blob_kzg_proof" => {
                let blob = array::<{ crate::kzg::BYTES_PER_BLOB }>(&input["blob"])?;
                let c: Box<Bytes48> = array(&input["commitment"])?;
                let p: Box<Bytes48> = array(&input["proof"])?;
                return ok(ctx.verify_blob_kzg_proof(&blob, &c, &p).map(Value::Bool));
            }
            "verify_blob_kzg_proof_batch" => {
                let blobs: Vec<Box<Blob>> = list(&input["blobs"], array)?;
                let cs: Vec<Box<Bytes48>> = list(&input["commitments"], array)?;
                let ps: Vec<Box<Bytes48>> = list(&input["proofs"], array)?;
                let blobs: Vec<&Blob> = blobs.iter().map(|b| &**b).collect();
                let cs: Vec<&Bytes48> = cs.iter().map(|b| &**b).collect();
                let ps: Vec<&Bytes48> = ps.iter().map(|b| &**b).collect();
                return ok(ctx.verify_blob_kzg_proof_batch(&blobs, &cs, &ps).map(Value::Bool));
            }
            "compute_cells" => {
                let blob = array::<{ crate::kzg::BYTES_PER_BLOB }>(&input["blob"])?;
                return ok(ctx.compute_cells(&blob).map(|cells| hex_list(&cells)));
            }
            "compute_cells_and_kzg_proofs" => {
                let blob = array::<{ crate::kzg::BYTES_PER_BLOB }>(&input["blob"])?;
                return ok(ctx
                    .compute_cells_and_kzg_proofs(&blob)
                    .map(|(cells, proofs)| Value::Sequence(vec![hex_list(&cells), hex_list(&proofs)])));
            }
            "recover_cells_and_kzg_proofs" => {
                let indices = list(&input["cell_indices"], index)?;
                let cells: Vec<Box<Cell>> = list(&input["cells"], array)?;
                let cells: Vec<&Cell> = cells.iter().map(|b| &**b).collect();
                return ok(ctx
                    .recover_cells_and_kzg_proofs(&indices, &cells)
                    .map(|(cells, proofs)| Value::Sequence(vec![hex_list(&cells), hex_list(&proofs)])));
            }
            "verify_cell_kzg_proof_batch" => {
                let cs: Vec<Box<Bytes48>> = list(&input["commitments"], array)?;
                let indices = list(&input["cell_indices"], index)?;
                let cells: Vec<Box<Cell>> = list(&input["cells"], array)?;
                let ps: Vec<Box<Bytes48>> = list(&input["proofs"], array)?;
                let cs: Vec<&Bytes48> = cs.iter().map(|b| &**b).collect();
                let cells: Vec<&Cell> = cells.iter().map(|b| &**b).collect();
                let ps: Vec<&Bytes48> = ps.iter().map(|b| &**b).collect();
                return ok(ctx.verify_cell_kzg_proof_batch(&cs, &indices, &cells, &ps).map(Value::Bool));
            }
            "compute_verify_cell_kzg_proof_batch_challenge" => {
                let cs: Vec<Box<Bytes48>> = list(&input["commitments"], array)?;
                let commitment_indices = list(&input["commitment_indices"], index)?;
                let indices = list(&input["cell_indices"], index)?;
                // Each coset's evaluations, concatenated, are exactly the cell's bytes.
                let cells: Vec<Box<Cell>> = list(&input["cosets_evals"], |v| {
                    let evals: Vec<Box<Bytes32>> = list(v, array)?;
                    let flat: Vec<u8> = evals.iter().flat_map(|e| e.iter().copied()).collect();
                    flat.into_boxed_slice().try_into().map_err(|_| BadInput)
                })?;
                let ps: Vec<Box<Bytes48>> = list(&input["proofs"], array)?;
                if commitment_indices.len() != cells.len() || indices.len() != cells.len() || ps.len() != cells.len() {
                    return Ok(None);
                }
                let cs: Vec<&Bytes48> = cs.iter().map(|b| &**b).collect();
                let cells: Vec<&Cell> = cells.iter().map(|b| &**b).collect();
                let ps: Vec<&Bytes48> = ps.iter().map(|b| &**b).collect();
                let r = compute_verify_cell_kzg_proof_batch_challenge(&cs, &commitment_indices, &indices, &cells, &ps);
                Some(hex_value(&fr_to_bytes(&r)))
            }
            // run_case only calls us with a name from FUNCTIONS.
            _ => return Err(BadInput),
        })
    })();
    Ok(result.unwrap_or(None))
}

/// Runs one `data.yaml` case of `function`.
pub fn run_case(function: &str, yaml: &str, backend: &dyn Backend) -> Result<(), String> {
    if !FUNCTIONS.contains(&function) {
        return Err(format!("unknown KZG function {function}"));
    }
    let doc: Value = serde_yaml::from_str(yaml).map_err(|e| format!("bad yaml: {e}"))?;
    let ctx = context(backend)?;
    let got = call(function, &ctx, &doc["input"])?;
    let want = &doc["output"];
    match (got, want.is_null()) {
        (None, true) => Ok(()),
        (Some(g), true) => Err(format!("expected failure, got {}", summarize(&g))),
        (None, false) => Err(format!("call failed, expected {}", summarize(want))),
        (Some(g), false) if &g == want => Ok(()),
        (Some(g), false) => Err(format!("got {}, expected {}", summarize(&g), summarize(want))),
    }
}

/// A short rendering of a value for failure messages (cells are 4 KiB of hex each).
fn summarize(v: &Value) -> String {
    let s = serde_yaml::to_string(v).unwrap_or_default().replace('\n', " ");
    if s.len() > 200 { format!("{}…", &s[..200]) } else { s }
}
