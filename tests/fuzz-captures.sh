#!/usr/bin/env bash
# Mutation fuzzing of the built plugin inside real tshark, in the spirit of Wireshark's
# tools/fuzz-test.sh: every test capture is mutated with `editcap -E` and each mutant is read by
# tshark with aliiot loaded, in three modes, with Wireshark's own bug detectors on.
#
#   tests/fuzz-captures.sh <aliiot.so> [mutants per capture]      (default N=3, or $N)
#   tests/fuzz-captures.sh target/release/libaliiot.so 50        a longer run
#
# For every tests/captures/*.pcap* (the .keylog files are not captures) and each of N mutants:
#   editcap -E $FUZZ_ERR --seed <seed> -o <offset>   (FUZZ_ERR: probability that a byte is changed,
#       default 0.02; the offset alternates between 0 and 66, which keeps the Ethernet/IPv4/TCP
#       headers of these captures intact so the changes land in MQTT, TLS and WebSocket bytes)
#   tshark -nr  /  -nVxr  /  -2 -nr   with the lab device's secret (so the sign check runs),
#       WIRESHARK_DEBUG_WMEM_OVERRIDE=strict and WIRESHARK_ABORT_ON_DISSECTOR_BUG=1, output to
#       /dev/null.
# Seeds are FUZZ_SEED (default: from the clock; printed) plus the mutant's number, so a run is
# repeated with the same FUZZ_SEED, and one mutant with the seed and offset its report names.
# Each original capture is also read once (-2 -nVxr), as a baseline.
#
# What counts as a failure (anything else, e.g. expert infos about malformed packets, is tshark
# doing its job):
#   - tshark killed by a signal (exit >= 128: abort from a DISSECTOR_BUG, from wmem's strict
#     allocator, from a failed assertion, a segfault, ...);
#   - stderr mentioning "DISSECTOR BUG", "AddressSanitizer", "panicked" or "aliiot: internal
#     error" (the plugin catches Rust panics at every callback and logs them that way);
#   - any exit code other than 0, except 2 with libwiretap's own complaint about the file
#     ("cut short in the middle of a packet", "damaged or corrupt"): tshark exits 2 for a file it
#     cannot read to the end, which is about the file, not a dissector. editcap -E changes packet
#     bytes only, never the file structure, so this does not happen with these mutants; it is
#     allowed so that truncated captures can be added to tests/captures without false alarms.
# A failure is then checked against tshark without aliiot (same file, same mode, no plugin, no
# aliiot preference), and if that does not fail the same way, once more with -d tcp.port==1883,tls:
# aliiot hands TLS it finds on MQTT's port 1883 to Wireshark's TLS dissector, where stock tshark
# reads MQTT, so a bug of Wireshark's TLS shows there only with aliiot or that Decode As. If stock
# tshark fails the same way (same result, same first assertion or bug line), the bug is
# Wireshark's own, not aliiot's. It is reported ("-- ... the same without aliiot") and counted in
# the summary, but it does not fail the run and the mutant is not kept: FUZZ_SEED and the printed
# seed/offset reproduce it. Found this way: packet-tls.c's `frag_info && frag_info->offset == 0`
# assertion, which aborts stock tshark 4.0, 4.4 and 4.6 in -2 mode on some mutated TLS handshakes
# (FUZZ_SEED=333380: captures 04 and 24b, seed 333381, offset 66; with TLS on 1883, FUZZ_SEED=328949:
# capture 22, seed 328950, offset 66).
# A failing mutant is kept in tests/fuzz-crashes/ (<capture>-s<seed>-o<offset>.<ext>, with a .txt
# beside it holding, for each failing mode, the command to reproduce, the exit status and stderr)
# and the script exits 1 at the end. tests/fuzz-crashes/ is not git-ignored on purpose (only *.tmp is): a kept
# mutant is meant to be looked at and, once the bug is fixed, to become a regression capture;
# `git status` shows it until then.
#
# Captures with decryption secrets (04, 22, 24, 24b, 26, 28): editcap 4.0 refuses to write them
# ("can't be written as a pcapng file", even with --discard-all-secrets). Rewritten first by
# `tshark -r <capture> -F pcapng -w <copy>`, which keeps the secrets (so TLS is still decrypted in
# the mutants) and gives a file editcap takes.
#
# The plugin is loaded from a private HOME ($HOME/.local/lib/wireshark/plugins/<X.Y>/epan/) with
# WIRESHARK_PLUGIN_DIR pointing at an empty directory, so no installed aliiot is picked up. Run as
# root, Wireshark ignores personal plugin folders, so tshark then runs as nobody (setpriv).
# FUZZ_CRASHES names another folder to keep failing mutants in (tests/compat.sh runs this script in
# its 4.4 and 4.6 trees, where the repository is mounted read-only).
# Exit: 0 no failure, 1 failures (kept in tests/fuzz-crashes/ or FUZZ_CRASHES), 2 setup problem.
set -uo pipefail

if [ $# -lt 1 ] || [ ! -f "$1" ]; then
    echo "usage: $0 <aliiot.so> [mutants per capture]" >&2
    exit 2
fi
here=$(cd "$(dirname "$0")/.." && pwd)
plugin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
N=${2:-${N:-3}}
ERR=${FUZZ_ERR:-0.02}
SEED=${FUZZ_SEED:-$(( $(date +%s) % 1000000 ))}
SECRET='uat:aliiot_device_secrets:"a1B2c3D4e5F","lab-sensor-01","3f1d0c9e8b7a6d5c4b3a29180f7e6d01"'
CRASHES=${FUZZ_CRASHES:-$here/tests/fuzz-crashes}

for tool in tshark editcap; do
    command -v $tool >/dev/null || { echo "fuzz-captures: $tool not found" >&2; exit 2; }
done
series=$(pkg-config --modversion wireshark 2>/dev/null | cut -d. -f1,2)
[ -n "$series" ] || series=$(tshark --version | head -1 | grep -oE '[0-9]+\.[0-9]+' | head -1)

work=$(mktemp -d /tmp/aliiot-fuzz-captures.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/home/.local/lib/wireshark/plugins/$series/epan" "$work/stock" "$work/empty" "$work/mutants"
cp "$plugin" "$work/home/.local/lib/wireshark/plugins/$series/epan/aliiot.so"
chmod -R a+rX "$work"

# run_tshark_in <home> <tshark args...>: tshark with the plugins of <home> only.
run_tshark_in() {
    local env=(env HOME="$1" WIRESHARK_PLUGIN_DIR="$work/empty"
        WIRESHARK_DEBUG_WMEM_OVERRIDE=strict WIRESHARK_ABORT_ON_DISSECTOR_BUG=1)
    shift
    if [ "$(id -u)" -eq 0 ]; then
        setpriv --reuid=65534 --regid=65534 --clear-groups "${env[@]}" tshark "$@"
    else
        "${env[@]}" tshark "$@"
    fi
}
run_tshark() { run_tshark_in "$work/home" "$@"; }

if ! run_tshark -G plugins 2>/dev/null | grep -q '^aliiot'; then
    echo "fuzz-captures: tshark $series does not load $plugin (tshark -G plugins does not list aliiot)" >&2
    run_tshark -G plugins 2>&1 | grep -i aliiot >&2
    exit 2
fi
echo "== fuzz-captures: aliiot from $plugin in tshark $series, $N mutants per capture, editcap -E $ERR, FUZZ_SEED=$SEED"

BUG_RE='DISSECTOR BUG|AddressSanitizer|panicked|aliiot: internal error'
FILE_RE='cut short in the middle of a packet|appears to be damaged or corrupt'
MODES=("-nr" "-nVxr" "-2 -nr")
runs=0
failures=0
wireshark_own=0
skipped=()
start=$(date +%s)

# verdict <rc> <stderr file>: prints why the run failed, or nothing.
verdict() {
    local rc=$1 err=$2
    if [ "$rc" -ge 128 ]; then
        echo "killed by signal $((rc - 128))"
    elif grep -qE "$BUG_RE" "$err"; then
        echo "stderr: $(grep -m1 -E "$BUG_RE" "$err")"
    elif [ "$rc" -eq 2 ] && grep -qE "$FILE_RE" "$err"; then
        :
    elif [ "$rc" -ne 0 ]; then
        echo "exit $rc"
    fi
}

# signature <why> <stderr file>: the verdict and the first assertion or bug line, without the
# process id and clock that tshark's log lines carry.
signature() {
    local line
    line=$(grep -m1 -iE "$BUG_RE|failed assertion|assertion failed" "$2" | sed -E 's/^.*\] -- //')
    echo "$1 | $line"
}

# check <file> <label> <mode...>: runs tshark on the file; on a failure that stock tshark does not
# share, keeps it in tests/fuzz-crashes.
check() {
    local file=$1 label=$2 mode=$3 rc why="" stock_rc stock_why
    # shellcheck disable=SC2086
    run_tshark $mode "$file" -o "$SECRET" >/dev/null 2>"$work/stderr"
    rc=$?
    runs=$((runs + 1))
    why=$(verdict $rc "$work/stderr")
    [ -z "$why" ] && return 0
    # The same file and mode in tshark without aliiot (and so without its preference); then, as
    # aliiot hands TLS found on MQTT's port 1883 to Wireshark's TLS dissector where stock tshark
    # reads MQTT, with TLS decoded there (a bug of Wireshark's TLS reached that way is its own).
    local stock_args plain_why="" ours
    ours=$(signature "$why" "$work/stderr")
    for stock_args in "" "-d tcp.port==1883,tls"; do
        # shellcheck disable=SC2086
        run_tshark_in "$work/stock" $mode "$file" $stock_args >/dev/null 2>"$work/stock.stderr"
        stock_rc=$?
        stock_why=$(verdict $stock_rc "$work/stock.stderr")
        [ -n "$stock_args" ] || plain_why=$stock_why
        if [ -n "$stock_why" ] && [ "$ours" = "$(signature "$stock_why" "$work/stock.stderr")" ]; then
            wireshark_own=$((wireshark_own + 1))
            echo "-- $label, tshark $mode: $why, the same without aliiot${stock_args:+ ($stock_args)} (Wireshark's own bug, not counted):"
            echo "   $(signature "$stock_why" "$work/stock.stderr")"
            return 0
        fi
    done
    failures=$((failures + 1))
    mkdir -p "$CRASHES"
    local ext=${file##*.} kept
    kept="$CRASHES/$label.$ext"
    cp "$file" "$kept"
    {
        echo "capture: $label"
        echo "mode:    tshark $mode"
        echo "result:  $why"
        echo "without aliiot: ${plain_why:-no failure}; with TLS on 1883: ${stock_why:-no failure}"
        echo "repro:   tshark $mode $kept -o '$SECRET'   (with the plugin, env WIRESHARK_DEBUG_WMEM_OVERRIDE=strict WIRESHARK_ABORT_ON_DISSECTOR_BUG=1)"
        echo "--- stderr"
        cat "$work/stderr"
        echo
    } >>"$kept.txt"
    echo "!! $label, tshark $mode: $why"
    echo "   kept $kept (details in $kept.txt)"
}

n_captures=0
mutants=0
for cap in "$here"/tests/captures/*.pcap "$here"/tests/captures/*.pcapng; do
    [ -f "$cap" ] || continue
    name=$(basename "$cap")
    stem=${name%.*}
    ext=${name##*.}
    n_captures=$((n_captures + 1))
    # A copy tshark can read when it runs as nobody.
    src=$work/$stem.orig.$ext
    cp "$cap" "$src"
    if ! editcap -E 0.0 "$src" "$work/probe.$ext" 2>/dev/null; then
        # Decryption secrets: let tshark rewrite the file first (keeps the secrets).
        if ! tshark -r "$cap" -F pcapng -w "$src" 2>/dev/null ||
            ! editcap -E 0.0 "$src" "$work/probe.$ext" 2>/dev/null; then
            echo "-- $name: editcap cannot rewrite it, skipped"
            skipped+=("$name")
            continue
        fi
    fi
    chmod a+r "$src"
    check "$src" "$stem-original" "-2 -nVxr"
    for i in $(seq 1 "$N"); do
        seed=$((SEED + i))
        offset=$(( i % 2 ? 66 : 0 ))
        m="$work/mutants/$stem-s$seed-o$offset.$ext"
        if ! editcap -E "$ERR" --seed "$seed" -o "$offset" "$src" "$m" 2>"$work/editcap.err"; then
            echo "-- $name: editcap failed: $(head -1 "$work/editcap.err")"
            continue
        fi
        chmod a+r "$m"
        mutants=$((mutants + 1))
        for mode in "${MODES[@]}"; do
            check "$m" "$stem-s$seed-o$offset" "$mode"
        done
        rm -f "$m"
    done
done

elapsed=$(( $(date +%s) - start ))
echo
echo "== fuzz-captures summary: $n_captures captures × $N mutants = $mutants mutants, × ${#MODES[@]} modes, + $n_captures originals = $runs tshark runs in ${elapsed} s (FUZZ_SEED=$SEED)"
[ ${#skipped[@]} -eq 0 ] || echo "   skipped (editcap cannot rewrite): ${skipped[*]}"
[ $wireshark_own -eq 0 ] || echo "   $wireshark_own runs failed the same way without aliiot (Wireshark's own bugs, not counted)"
if [ $failures -gt 0 ]; then
    echo "FAILED: $failures runs failed; mutants and reports in $CRASHES/"
    exit 1
fi
echo "no failure"
