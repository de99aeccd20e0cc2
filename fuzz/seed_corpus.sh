#!/usr/bin/env bash
# Writes a small seed corpus for every fuzz target into fuzz/corpus/<target>/ (made here, never
# committed): real encodings from small dispersals by the crema binary, a GF(2^16) codeword in
# the gf16_shards record format, and small vector cases (the repo's fixtures, the shared BLS
# suite when present) behind the byte that selects their function. Needs the release binary
# (`cargo run --release -- info` builds it); run from anywhere.
set -euo pipefail
fuzz=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$fuzz")
crema=${CARGO_TARGET_DIR:-$repo/target}/release/crema
[ -x "$crema" ] || { echo "build the binary first: cargo build --release" >&2; exit 1; }
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cd "$fuzz"
mkdir -p corpus/{vid_avidm_wire,vid_kzg_wire,vid_namespaced_wire,gf16_shards,vectors_case}
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
for d in corpus/*; do echo "$d: $(ls "$d" | wc -l) files"; done
