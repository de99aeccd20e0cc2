#!/usr/bin/env bash
# Writes a small seed corpus for every fuzz target into fuzz/corpus/<target>/ (made here, never
# committed): real encodings from small dispersals by the crema binary, a GF(2^16) codeword in
# the gf16_shards record format, small vector cases (the repo's fixtures, the shared BLS suite
# when present) behind the byte that selects their function, the node.toml and network.toml of a
# `crema init` network, and one encoding of every node message, store record and p2p frame (BLS
# signatures taken from that network's proofs of possession, so they decode). Needs the release binary
# (`cargo run --release -- info` builds it); run from anywhere.
set -euo pipefail
fuzz=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$fuzz")
crema=${CARGO_TARGET_DIR:-$repo/target}/release/crema
[ -x "$crema" ] || { echo "build the binary first: cargo build --release" >&2; exit 1; }
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cd "$fuzz"
mkdir -p corpus/{vid_avidm_wire,vid_kzg_wire,vid_namespaced_wire,gf16_shards,vectors_case}
mkdir -p corpus/{consensus_wire,da_service,store_records,p2p_frame,node_config,cdn_frame}
printf 'a block' > "$work/p1"; : > "$work/p0"; head -c 3000 /dev/urandom > "$work/p2"; printf 'rollup seven' > "$work/a"
first_share() { find "$1/shares" -type f | sort | head -n 1; }
for i in 0 1 2; do
  CREMA_BACKEND=cpu "$crema" vid disperse --weights 2,1,3 "$work/p$i" --out "$work/av$i" >/dev/null
  cp "$work/av$i/common.bin" "corpus/vid_avidm_wire/common-$i"; cp "$(first_share "$work/av$i")" "corpus/vid_avidm_wire/share-$i"
done
for i in 0 1; do
  CREMA_BACKEND=cpu "$crema" vid disperse --scheme kzg --nodes 2 "$work/p$i" --out "$work/kz$i" >/dev/null
  cp "$work/kz$i/common.bin" "corpus/vid_kzg_wire/common-$i"; cp "$(first_share "$work/kz$i")" "corpus/vid_kzg_wire/share-$i"
done
CREMA_BACKEND=cpu "$crema" vid disperse --nodes 3 --namespace 7="$work/a" --namespace 9="$work/p1" --out "$work/ns" >/dev/null
cp "$work/ns/common.bin" corpus/vid_namespaced_wire/common; cp "$(first_share "$work/ns")" corpus/vid_namespaced_wire/share
python3 - "$repo" <<'PY'
import glob, os, sys
repo = sys.argv[1]
# The order of crema_engine::vectors::kzg::FUNCTIONS, then bls::HANDLERS (the target's selector byte).
fns = ["blob_to_kzg_commitment", "compute_blob_kzg_proof", "compute_cells", "compute_cells_and_kzg_proofs",
       "compute_challenge", "compute_kzg_proof", "compute_verify_cell_kzg_proof_batch_challenge",
       "recover_cells_and_kzg_proofs", "verify_blob_kzg_proof", "verify_blob_kzg_proof_batch",
       "verify_cell_kzg_proof_batch", "verify_kzg_proof"]
hs = ["sign", "verify", "aggregate", "fast_aggregate_verify", "aggregate_verify", "batch_verify", "hash_to_G2",
      "deserialization_G1", "deserialization_G2"]
paths = glob.glob(f"{repo}/fixtures/**/*", recursive=True)
paths += sorted(glob.glob(f"{repo}/../shared/vectors/bls/**/*.json", recursive=True))[:40]
n = 0
for p in paths:
    # Blob-sized cases (hundreds of KB) would set libFuzzer's input size far too high.
    if not os.path.isfile(p) or os.path.getsize(p) > 8192:
        continue
    pick = None
    for part in p.split("/"):
        if part in fns:
            pick = fns.index(part)
        if part in hs and p.endswith(".json"):
            pick = len(fns) + hs.index(part)
    if pick is None:
        continue
    with open(f"corpus/vectors_case/seed-{n}", "wb") as out, open(p, "rb") as case:
        out.write(bytes([pick]) + case.read())
    n += 1
# k=3, m=2, 8-byte shards (selectors 2, 1, 3), then (index, length, bytes) records.
records = bytes([2, 1, 3]) + b"".join(bytes([i, 8]) + bytes([i + 1] * 8) for i in range(5))
open("corpus/gf16_shards/codeword", "wb").write(records)
PY
"$crema" init --nodes 2 --out "$work/net" >/dev/null
cp "$work/net/network.toml" corpus/node_config/network.toml
cp "$(find "$work/net" -name node.toml | sort | head -n 1)" corpus/node_config/node.toml
python3 - "$work/net/network.toml" <<'PY'
import re, struct, sys
# Field layouts: node/src/consensus/wire.rs, node/src/da/service.rs, node/src/store/records.rs,
# node/src/net/p2p/codec.rs. Integers are little-endian except the frame length.
pops = re.findall(r'pop = "([0-9a-f]{192})"', open(sys.argv[1]).read())
bls_sig = bytes.fromhex(pops[0])
u16, u32, u64 = (lambda x: struct.pack("<H", x)), (lambda x: struct.pack("<I", x)), (lambda x: struct.pack("<Q", x))
d = lambda b: bytes([b]) * 32
lb = lambda b: u32(len(b)) + b
header = (u64(5) + u64(3) + d(1) + u16(1) + u64(1_700_000_000_000) + d(2) + u64(12) + u32(1) + d(3)
          + bytes([1]) + u64(1) + u64(3))
# Scheme: (signature, empty or small certificate).
schemes = {
    "mac": (bytes(range(16)), u32(2) + u16(0) + bytes(16) + u16(1) + bytes([9]) * 16),
    "bls": (bls_sig, bytes([1]) + lb(bls_sig + struct.pack(">I", 2) + bytes([0b11]))),
}
messages = []
for name, (sig, cert) in schemes.items():
    qc = u64(4) + d(4) + cert
    tc = u64(6) + u32(1) + u16(1) + u64(4) + sig
    kinds = {
        1: header + qc + b"\0" + sig, 2: u64(5) + d(5) + u16(1) + sig, 3: u64(5) + d(2) + lb(b"a block") + sig,
        4: u64(5) + d(2) + u16(0) + sig, 5: u64(5) + d(2) + cert, 6: u64(5) + d(2) + u16(1) + lb(b"common") + lb(b"share"),
        7: u64(6) + qc + u16(0) + sig, 8: u16(1) + qc + b"\1" + tc, 9: u16(1) + d(6), 10: header + qc + b"\1" + tc + sig,
        11: u16(1) + u64(5) + d(2), 12: u16(1) + u64(2), 13: u32(1) + header + qc + header + qc,
    }
    for k, body in kinds.items():
        msg = b"CMS\1" + bytes([k]) + body
        messages.append(msg)
        open(f"corpus/consensus_wire/{name}-{k}", "wb").write(msg)
open("corpus/consensus_wire/header", "wb").write(header)
service = {
    1: u16(1) + d(2), 2: d(2) + lb(b"a block"), 3: u16(0) + d(2),
    4: u64(5) + d(2) + u16(1) + lb(b"common") + lb(b"share"), 5: u32(2) + u64(7) + lb(b"tx") + u64(9) + lb(b""),
}
for k, body in service.items():
    open(f"corpus/da_service/kind-{k}", "wb").write(b"CDS\1" + bytes([k]) + body)
# store_records: a selector byte, then the record (after an 8-byte height for decided and proof).
mac_qc = u64(4) + d(4) + schemes["mac"][1]
records = {
    "safety": b"\0" + b"CSS\1" + u64(5) + u64(4) + mac_qc + header,
    "decided": b"\1" + u64(3) + b"CSH\1" + header + mac_qc,
    "proof": b"\2" + u64(2) + b"CSP\1" + header + mac_qc,
    "share": b"\3" + b"CSV\1" + u64(5) + u16(1) + lb(b"common") + lb(b"share"),
    "payload": b"\4" + b"CSD\1" + u64(5) + lb(b"a block"),
    "blob_ref": b"\5" + b"CSR\1" + u64(5) + u64(16) + bytes(range(32)),
}
for name, rec in records.items():
    open(f"corpus/store_records/{name}", "wb").write(rec)
# cdn_frame: one Cocoa frame of every kind (kind byte after "CDF" and version 1).
key = lambda: b"\1" + bytes(range(32))
cdn = {
    "challenge": b"\1" + bytes(32), "login": b"\2" + u32(1) + u64(1_700_000_000_000) + lb(bytes(96)),
    "welcome": b"\3" + lb(b"cdn-a"), "refused": b"\4" + lb(b"bad login signature"),
    "publish": b"\5" + b"\1" + key() + lb(messages[1]), "direct": b"\6" + u32(2) + u32(0) + u32(3) + b"\0" + lb(b"hi"),
    "fetch": b"\7" + u64(9) + bytes(range(32)), "deliver": b"\x08" + u32(2) + lb(messages[2]),
    "fetched": b"\x09" + u64(9) + b"\1" + lb(b"a block"), "fetched-none": b"\x09" + u64(9) + b"\0",
    "hello": b"\x0a" + lb(b"cdn-b"), "forward-topic": b"\x0b" + u32(1) + b"\0\0" + b"\0" + lb(b"m"),
    "forward-nodes": b"\x0b" + u32(1) + b"\1" + u32(1) + u32(2) + key() + lb(b"m"),
}
for name, body in cdn.items():
    open(f"corpus/cdn_frame/{name}", "wb").write(b"CDF\1" + body)
for i, (cls, body) in enumerate([(0, messages[1]), (1, messages[2]), (0, b"")]):
    open(f"corpus/p2p_frame/frame-{i}", "wb").write(struct.pack(">I", len(body)) + bytes([cls]) + body)
PY
for d in corpus/*; do echo "$d: $(ls "$d" | wc -l) files"; done
