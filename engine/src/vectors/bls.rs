//! The ethereum bls12-381-tests JSON layout: `{"input": ..., "output": ...}` per case, where
//! `output: null` (or `false` for predicates) means the call must fail. Every handler runs on
//! the backend's BLS arithmetic (arkworks for the reference backend, blst otherwise), so the
//! vectors check both implementations.
//!
//! Inputs that do not decode (bad hex, wrong lengths, invalid points) are the implementation
//! *rejecting* the input, which is the expected outcome for many cases; a case whose JSON
//! shape is wrong is a failure of the case, never a pass.

use ark_ff::{BigInteger, PrimeField};
use serde_json::Value;

use crate::backend::Backend;
use crate::bls::{self, DST_SIG, PublicKey, SecretKey, Signature};
use crate::field::{self, Fq, G2Affine};

/// The handler folders this runner recognises.
pub const HANDLERS: &[&str] = &[
    "sign",
    "verify",
    "aggregate",
    "fast_aggregate_verify",
    "aggregate_verify",
    "batch_verify",
    "hash_to_G2",
    "deserialization_G1",
    "deserialization_G2",
];

/// The DST of the RFC 9380 hash_to_G2 vectors.
const HASH_TO_G2_DST: &[u8] = b"QUUX-V01-CS02-with-BLS12381G2_XMD:SHA-256_SSWU_RO_";

/// Runs one JSON case of `handler`.
pub fn run_case(handler: &str, json: &str, backend: &dyn Backend) -> Result<(), String> {
    let case: Value = serde_json::from_str(json).map_err(|e| format!("bad JSON: {e}"))?;
    let input = case.get("input").ok_or("case has no \"input\"")?;
    let output = case.get("output").ok_or("case has no \"output\"")?;
    match handler {
        "sign" => sign(input, output, backend),
        "verify" => expect_bool(output, verify(input, backend)),
        "aggregate" => aggregate(input, output, backend),
        "fast_aggregate_verify" => expect_bool(output, fast_aggregate_verify(input, backend)),
        "aggregate_verify" => expect_bool(output, aggregate_verify(input, backend)),
        "batch_verify" => expect_bool(output, batch_verify(input, backend)),
        "hash_to_G2" => hash_to_g2(input, output, backend),
        "deserialization_G1" => {
            let ok = hex_field(input, "pubkey").map(|b| field::g1_from_bytes(&b).is_ok()).unwrap_or(false);
            expect_bool(output, Ok(ok))
        }
        "deserialization_G2" => {
            let ok = hex_field(input, "signature").map(|b| field::g2_from_bytes(&b).is_ok()).unwrap_or(false);
            expect_bool(output, Ok(ok))
        }
        other => Err(format!("unknown handler {other}")),
    }
}

/// Outcome of a predicate: `Ok(bool)` the answer (rejected inputs are `false`), `Err` a
/// malformed case.
type Verdict = Result<bool, String>;

fn expect_bool(output: &Value, got: Verdict) -> Result<(), String> {
    let want = output.as_bool().ok_or_else(|| format!("output {output} is not a boolean"))?;
    let got = got?;
    if got == want { Ok(()) } else { Err(format!("expected {want}, got {got}")) }
}

/// Decodes a `0x`-prefixed hex string; `None` when it is not valid hex (a rejected input).
fn unhex(s: &str) -> Option<Vec<u8>> {
    hex::decode(s.strip_prefix("0x").unwrap_or(s)).ok()
}

/// The hex string at `input[key]`, decoded; `Err` when the field is missing or not a string.
fn hex_field(input: &Value, key: &str) -> Result<Vec<u8>, String> {
    let s = input.get(key).and_then(Value::as_str).ok_or_else(|| format!("input has no string {key:?}"))?;
    unhex(s).ok_or_else(|| format!("{key:?} is not hex"))
}

/// The array of hex strings at `input[key]` (or `input` itself when `key` is empty).
fn hex_list(input: &Value, key: &str) -> Result<Vec<Option<Vec<u8>>>, String> {
    let v = if key.is_empty() { input } else { input.get(key).ok_or_else(|| format!("input has no {key:?}"))? };
    let arr = v.as_array().ok_or_else(|| format!("{key:?} is not an array"))?;
    arr.iter().map(|x| x.as_str().map(unhex).ok_or_else(|| format!("{key:?} holds a non-string"))).collect()
}

fn pubkeys(input: &Value) -> Result<Option<Vec<PublicKey>>, String> {
    Ok(hex_list(input, "pubkeys")?.into_iter().map(|b| PublicKey::from_slice(&b?).ok()).collect())
}

fn signatures(list: Vec<Option<Vec<u8>>>) -> Option<Vec<Signature>> {
    list.into_iter().map(|b| Signature::from_slice(&b?).ok()).collect()
}

fn messages(input: &Value) -> Result<Vec<Vec<u8>>, String> {
    hex_list(input, "messages")?.into_iter().map(|m| m.ok_or_else(|| "a message is not hex".to_string())).collect()
}

fn sign(input: &Value, output: &Value, backend: &dyn Backend) -> Result<(), String> {
    let msg = hex_field(input, "message")?;
    let got = hex_field(input, "privkey")
        .ok()
        .and_then(|b| SecretKey::from_slice(&b).ok())
        .map(|sk| bls::core_sign(backend.bls_arithmetic(), &sk, &msg, DST_SIG).map(|s| s.to_bytes().to_vec()))
        .transpose()
        .map_err(|e| e.to_string())?;
    expect_bytes(output, got)
}

fn expect_bytes(output: &Value, got: Option<Vec<u8>>) -> Result<(), String> {
    let want = match output {
        Value::Null => None,
        Value::String(s) => Some(unhex(s).ok_or("output is not hex")?),
        other => return Err(format!("output {other} is neither null nor a hex string")),
    };
    if got == want {
        Ok(())
    } else {
        Err(format!("expected {:?}, got {:?}", want.map(hex::encode), got.map(hex::encode)))
    }
}

fn verify(input: &Value, backend: &dyn Backend) -> Verdict {
    let msg = hex_field(input, "message")?;
    let pk = hex_field(input, "pubkey").ok().and_then(|b| PublicKey::from_slice(&b).ok());
    let sig = hex_field(input, "signature").ok().and_then(|b| Signature::from_slice(&b).ok());
    match (pk, sig) {
        (Some(pk), Some(sig)) => {
            bls::core_verify(backend.bls_arithmetic(), &pk, &msg, &sig, DST_SIG).map_err(|e| e.to_string())
        }
        _ => Ok(false),
    }
}

fn aggregate(input: &Value, output: &Value, backend: &dyn Backend) -> Result<(), String> {
    let got = match signatures(hex_list(input, "")?) {
        Some(sigs) if !sigs.is_empty() => {
            Some(bls::aggregate(backend, &sigs).map_err(|e| e.to_string())?.to_bytes().to_vec())
        }
        _ => None,
    };
    expect_bytes(output, got)
}

fn fast_aggregate_verify(input: &Value, backend: &dyn Backend) -> Verdict {
    let msg = hex_field(input, "message")?;
    let sig = hex_field(input, "signature").ok().and_then(|b| Signature::from_slice(&b).ok());
    match (pubkeys(input)?, sig) {
        (Some(pks), Some(sig)) => bls::fast_aggregate_verify(backend, &pks, &msg, &sig).map_err(|e| e.to_string()),
        _ => Ok(false),
    }
}

fn aggregate_verify(input: &Value, backend: &dyn Backend) -> Verdict {
    let msgs = messages(input)?;
    let refs: Vec<&[u8]> = msgs.iter().map(Vec::as_slice).collect();
    let sig = hex_field(input, "signature").ok().and_then(|b| Signature::from_slice(&b).ok());
    match (pubkeys(input)?, sig) {
        (Some(pks), Some(sig)) => bls::aggregate_verify(backend, &pks, &refs, &sig).map_err(|e| e.to_string()),
        _ => Ok(false),
    }
}

fn batch_verify(input: &Value, backend: &dyn Backend) -> Verdict {
    let msgs = messages(input)?;
    let refs: Vec<&[u8]> = msgs.iter().map(Vec::as_slice).collect();
    match (pubkeys(input)?, signatures(hex_list(input, "signatures")?)) {
        (Some(pks), Some(sigs)) => {
            let verdict = bls::batch_verify(backend, &pks, &refs, &sigs).map_err(|e| e.to_string())?;
            // Bisection must tell the same story: nothing invalid exactly when the batch holds.
            let invalid = bls::batch_find_invalid(backend, &pks, &refs, &sigs).map_err(|e| e.to_string())?;
            if !pks.is_empty() && verdict != invalid.is_empty() {
                return Err(format!("batch_verify says {verdict} but batch_find_invalid names {invalid:?}"));
            }
            Ok(verdict)
        }
        _ => Ok(false),
    }
}

fn hash_to_g2(input: &Value, output: &Value, backend: &dyn Backend) -> Result<(), String> {
    let msg = input.get("msg").and_then(Value::as_str).ok_or("input has no string \"msg\"")?;
    let p = bls::hash_to_g2_on(backend.bls_arithmetic(), msg.as_bytes(), HASH_TO_G2_DST).map_err(|e| e.to_string())?;
    let got = affine_hex(&p);
    let want = ["x", "y"].map(|k| output.get(k).and_then(Value::as_str).unwrap_or_default().to_ascii_lowercase());
    if got == want { Ok(()) } else { Err(format!("expected {want:?}, got {got:?}")) }
}

/// `["0x<x.c0>,0x<x.c1>", "0x<y.c0>,0x<y.c1>"]`, the vectors' notation for a G2 point.
fn affine_hex(p: &G2Affine) -> [String; 2] {
    let fq = |f: &Fq| format!("0x{}", hex::encode(f.into_bigint().to_bytes_be()));
    [format!("{},{}", fq(&p.x.c0), fq(&p.x.c1)), format!("{},{}", fq(&p.y.c0), fq(&p.y.c1))]
}
