#!/usr/bin/env bash
# Fuzz smoke test: replays the committed seeds through the harness (cargo test,
# stable), builds the fuzz targets and runs each one (every target `cargo fuzz
# list` shows, or those in $FUZZ_TARGETS) for SECONDS (default 10) from its seeds,
# one at a time. Exits non-zero if a test fails or a target crashes; crashing
# inputs are left in fuzz/artifacts/<target>/.
#
#   fuzz/smoke.sh [SECONDS]        (or FUZZ_SECONDS=N fuzz/smoke.sh)
#   FUZZ_TARGETS="sign1_verify encrypt0_open" fuzz/smoke.sh 30
#
# Uses the nightly toolchain when rustup has one, else stable with
# RUSTC_BOOTSTRAP=1 (cargo-fuzz needs -Z flags). Installs cargo-fuzz if missing.
set -euo pipefail

secs="${1:-${FUZZ_SECONDS:-10}}"
if ! [[ "$secs" =~ ^[0-9]+$ ]]; then
    echo "usage: $0 [SECONDS]" >&2
    exit 2
fi

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
cd "$repo"

echo "== fuzz smoke: seed replay (cargo test, fuzz crate)"
cargo test --manifest-path fuzz/Cargo.toml --quiet

if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    cargo_fuzz=(cargo +nightly fuzz)
else
    cargo_fuzz=(env RUSTC_BOOTSTRAP=1 cargo fuzz)
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "== installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi

echo "== fuzz smoke: build (${cargo_fuzz[*]} build)"
"${cargo_fuzz[@]}" build

logs="$(mktemp -d)"
trap 'rm -rf "$logs"' EXIT
failed=0
if [[ -n "${FUZZ_TARGETS:-}" ]]; then
    read -r -a targets <<<"$FUZZ_TARGETS"
else
    mapfile -t targets < <("${cargo_fuzz[@]}" list)
fi
if ((${#targets[@]} == 0)); then
    echo "fuzz smoke: no fuzz targets found" >&2
    exit 1
fi
shopt -s nullglob
for target in "${targets[@]}"; do
    corpus="$logs/corpus-$target"
    mkdir -p "$corpus"
    seeds=("fuzz/seeds/$target"/*)
    if ((${#seeds[@]})); then
        cp "${seeds[@]}" "$corpus/"
    fi
    log="$logs/$target.log"
    echo "== fuzz smoke: $target for ${secs}s"
    if "${cargo_fuzz[@]}" run "$target" "$corpus" -- \
        -max_total_time="$secs" -print_final_stats=1 >"$log" 2>&1; then
        grep -E '^Done [0-9]+ runs' "$log" || true
        grep -E '^#[0-9]+.*cov:' "$log" | tail -n 1 || true
    else
        failed=1
        echo "!! $target failed; last lines of its log:" >&2
        tail -n 40 "$log" >&2
        echo "!! $target: panic message and crashing input:" >&2
        grep -E -A1 "panicked at|^SUMMARY|Test unit written" "$log" >&2 || true
    fi
done

if [[ "$failed" -ne 0 ]]; then
    echo "fuzz smoke: FAILED (see fuzz/artifacts/)" >&2
    exit 1
fi
echo "fuzz smoke: all targets ran ${secs}s without a crash"
