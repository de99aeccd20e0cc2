#!/usr/bin/env bash
# The devnet throughput benchmark (issue 15): runs `crema devnet --preset throughput` and `--preset wan` on this
# machine and appends each summary as one JSON line to benches/results/devnet.jsonl, together with the machine
# (CPU model, cores, load average at the start: the machine may be shared), the commit and the date.
#
# Goals on the project's 2-core machine (benchmark goals, not test assertions): throughput >= 25 MB/s decided with
# p50 submit-to-decide <= 1 s; wan (+50 ms per message) >= 10 MB/s. Each preset takes 1-2 minutes.
#
# Usage:  benches/devnet.sh [PRESET...]        presets: throughput wan (the default: both)
#         CREMA_DEVNET_FLAGS="--duration 20" benches/devnet.sh throughput   # extra flags override the preset's
#         CREMA_BACKEND=cpu benches/devnet.sh                               # the engine backend (default auto)
# Needs jq. Exit status: 1 if any run's summary failed (a flag false or nothing decided), after recording it.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
command -v jq >/dev/null || { echo "benches/devnet.sh needs jq (apt-get install jq)" >&2; exit 2; }
cargo build --release --quiet --bin crema
bin=${CARGO_TARGET_DIR:-$root/target}/release/crema
results=$root/benches/results/devnet.jsonl
mkdir -p "$(dirname "$results")"

commit=$(git rev-parse HEAD)
dirty=$([ -n "$(git status --porcelain --untracked-files=no)" ] && echo true || echo false)
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
cores=$(nproc)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

failed=0
presets=("$@")
[ ${#presets[@]} -eq 0 ] && presets=(throughput wan)
for preset in "${presets[@]}"; do
    date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
    load=$(cut -d' ' -f1-3 /proc/loadavg)
    echo "== crema devnet --preset $preset ${CREMA_DEVNET_FLAGS:-}(load average $load)" >&2
    status=0
    # shellcheck disable=SC2086 # CREMA_DEVNET_FLAGS is a list of flags, split on purpose.
    "$bin" devnet --preset "$preset" --summary-json "$tmp/$preset.json" ${CREMA_DEVNET_FLAGS:-} || status=$?
    if [ ! -s "$tmp/$preset.json" ]; then
        echo "crema devnet --preset $preset wrote no summary (exit $status)" >&2
        exit 1
    fi
    [ "$status" -eq 0 ] || failed=1
    jq -c --arg preset "$preset" --arg flags "${CREMA_DEVNET_FLAGS:-}" --arg date "$date" --arg commit "$commit" \
        --argjson dirty "$dirty" --arg cpu "$cpu" --argjson cores "$cores" --arg load "$load" \
        --argjson exit_status "$status" \
        '{preset: $preset, flags: $flags, date: $date, commit: $commit, dirty: $dirty,
          machine: {cpu: $cpu, cores: $cores, load_average_at_start: $load}, exit_status: $exit_status,
          summary: .}' "$tmp/$preset.json" >>"$results"
    jq -r --arg preset "$preset" \
        '"\($preset): \(.throughput_mb_s * 100 | round / 100) MB/s, p50 \(.latency_p50_s) s, p99 \(.latency_p99_s) s, \(.blocks) blocks"' \
        "$tmp/$preset.json" >&2
done
echo "appended to $results" >&2
exit $failed
