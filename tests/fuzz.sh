#!/usr/bin/env bash
# Fuzzes aliiot's pure core (src/core, no Wireshark needed) with cargo-fuzz and libFuzzer.
# The targets are tests/fuzz/fuzz_targets/*.rs, one per parser (client id, user name, sign and
# secrets, topic, Alink JSON, payloads, MQTT packets, WebSocket cutter, transport sniffing) plus
# `session`, which drives a whole synthetic capture through session analysis and rendering.
#
#   tests/fuzz.sh                  every target, FUZZ_TIME seconds in total (default 60), split evenly
#   tests/fuzz.sh 300              every target, 300 seconds each
#   FUZZ_TIME=3600 tests/fuzz.sh   an hour in total
#   FUZZ_TARGETS="session payload" tests/fuzz.sh 600
#
# Each run starts from tests/fuzz/seeds/<target>/ (committed, real inputs from the test captures,
# written by tests/fuzz/make-seeds.py) copied into tests/fuzz/corpus/<target>/, which keeps
# growing across runs (git-ignored). A crash, timeout, leak or out-of-memory stops that target:
# the input is kept in tests/fuzz/artifacts/<target>/, the reproduce command is printed, the other
# targets still run, and the script exits 1. Exit 2: cargo-fuzz could not be installed or built.
#
# Long campaigns: give one target the machine for hours, with as many processes as cores, e.g.
#   RUSTC_BOOTSTRAP=1 cargo fuzz run session --fuzz-dir tests/fuzz -- -jobs=2 -workers=2 -max_total_time=14400
# (-jobs=N runs N fuzzing processes sharing tests/fuzz/corpus/session, logs in fuzz-N.log), then
# shrink the grown corpus with `cargo fuzz cmin session --fuzz-dir tests/fuzz`. A new crash:
#   RUSTC_BOOTSTRAP=1 cargo fuzz run <target> --fuzz-dir tests/fuzz tests/fuzz/artifacts/<target>/crash-…
#   RUSTC_BOOTSTRAP=1 cargo fuzz tmin <target> --fuzz-dir tests/fuzz tests/fuzz/artifacts/<target>/crash-…
# then fix it, add a unit test in the module, and copy the input into tests/fuzz/seeds/<target>/.
#
# Toolchain: stable Rust is enough (tested with 1.95). cargo-fuzz's default AddressSanitizer build
# passes -Zsanitizer=address, which stable rustc refuses ("the option `Z` is only accepted on the
# nightly compiler"); RUSTC_BOOTSTRAP=1, set here, makes stable accept it, and stable ships the ASan
# runtime (librustc-stable_rt.asan.a), so the targets really are built with ASan (plus debug
# assertions and overflow checks: cargo-fuzz's default release-with-assertions build).
# FUZZ_SANITIZER=none builds without ASan and needs no RUSTC_BOOTSTRAP at all (the coverage flags
# are stable -C options); it runs 3 to 6 times more inputs per second. The core has no unsafe code,
# so ASan mostly adds leak detection and checks on the unsafe code of std and the hash crates.
# Builds go to tests/fuzz/target/ unless CARGO_TARGET_DIR says otherwise.
#
# Environment: FUZZ_TIME (total seconds, default 60), FUZZ_TARGETS (default: all),
# FUZZ_SANITIZER (address|none, default address), FUZZ_TIMEOUT (seconds one input may take,
# default 10: slower is a bug for a dissector), FUZZ_RSS_MB (default 2048).
set -uo pipefail

cd "$(dirname "$0")/.." || exit 2
FUZZ_DIR=tests/fuzz
export RUSTC_BOOTSTRAP=1
SAN=${FUZZ_SANITIZER:-address}
TIMEOUT=${FUZZ_TIMEOUT:-10}
RSS=${FUZZ_RSS_MB:-2048}

ALL_TARGETS=$(sed -n 's/^name = "\([a-z_0-9]*\)"$/\1/p' "$FUZZ_DIR/Cargo.toml" | grep -v '^aliiot-fuzz$')
TARGETS=${FUZZ_TARGETS:-$ALL_TARGETS}
n=$(echo "$TARGETS" | wc -w)
if [ $# -ge 1 ]; then
    PER=$1
else
    total=${FUZZ_TIME:-60}
    PER=$(( total / n ))
    [ "$PER" -ge 1 ] || PER=1
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "== installing cargo-fuzz (cargo install cargo-fuzz --locked)"
    cargo install cargo-fuzz --locked || { echo "fuzz.sh: could not install cargo-fuzz" >&2; exit 2; }
fi

echo "== building the fuzz targets (sanitizer: $SAN)"
build_start=$(date +%s)
if ! cargo fuzz build --fuzz-dir "$FUZZ_DIR" --sanitizer "$SAN"; then
    echo "fuzz.sh: the fuzz targets do not build" >&2
    exit 2
fi
echo "   built in $(( $(date +%s) - build_start )) s"

LOGS=$(mktemp -d)
trap 'rm -rf "$LOGS"' EXIT
failed=()
summary=()
start=$(date +%s)
for t in $TARGETS; do
    corpus="$FUZZ_DIR/corpus/$t"
    artifacts="$FUZZ_DIR/artifacts/$t"
    mkdir -p "$corpus" "$artifacts"
    if [ -d "$FUZZ_DIR/seeds/$t" ]; then
        cp -n "$FUZZ_DIR/seeds/$t/"* "$corpus/" 2>/dev/null || true
    fi
    before=$(ls "$artifacts" | sort)
    echo "== $t: ${PER} s ($(ls "$corpus" | wc -l) corpus inputs)"
    cargo fuzz run "$t" --fuzz-dir "$FUZZ_DIR" --sanitizer "$SAN" -- \
        -max_total_time="$PER" -timeout="$TIMEOUT" -rss_limit_mb="$RSS" \
        -print_final_stats=1 >"$LOGS/$t.log" 2>&1
    rc=$?
    new=$(comm -13 <(echo "$before") <(ls "$artifacts" | sort) | grep -E '^(crash|leak|timeout|oom|slow-unit)-' || true)
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$LOGS/$t.log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$LOGS/$t.log" | tail -1)
    cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+' "$LOGS/$t.log" | tail -1)
    if [ $rc -ne 0 ] || [ -n "$new" ]; then
        failed+=("$t")
        summary+=("$(printf '%-11s FAILED (exit %s) after %s runs' "$t" "$rc" "${execs:-?}")")
        echo "!! $t failed (exit $rc):"
        # The panic message or sanitizer report, else the end of the log.
        if grep -qE 'panicked at|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)' "$LOGS/$t.log"; then
            grep -m1 -A12 -E 'panicked at|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)' "$LOGS/$t.log" | sed 's/^/   /'
        else
            grep -vE '^(INFO|#[0-9]+|\s*Compiling|\s*Finished|\s*Running)' "$LOGS/$t.log" | tail -40 | sed 's/^/   /'
        fi
        if [ -z "$new" ]; then
            echo "   (no new artifact: the run itself failed)"
        fi
        for a in $new; do
            echo "   input kept:  $artifacts/$a"
            echo "   reproduce:   RUSTC_BOOTSTRAP=1 cargo fuzz run $t --fuzz-dir $FUZZ_DIR $artifacts/$a"
            echo "   minimize:    RUSTC_BOOTSTRAP=1 cargo fuzz tmin $t --fuzz-dir $FUZZ_DIR $artifacts/$a"
        done
    else
        summary+=("$(printf '%-11s ok  %10s runs  %7s exec/s  %s' "$t" "${execs:-?}" "${rate:-?}" "$cov")")
    fi
done

echo
echo "== fuzz summary: $n targets, ${PER} s each, $(( $(date +%s) - start )) s in all (sanitizer: $SAN)"
printf '   %s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
    echo "FAILED: ${failed[*]} (inputs in $FUZZ_DIR/artifacts/)"
    exit 1
fi
echo "no crash"
