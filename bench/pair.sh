#!/usr/bin/env bash
# Paired wall/CPU series of two tshark variants on one capture, for changes too small for
# make bench's five pairs (on a shared 2-core machine one pair strays by ±10 %, so a 1 % change
# needs about 40 pairs to show).
#
#   bench/pair.sh <A.so|none> <B.so|none> <rounds> <capture> [tshark args...]
#
# Each round runs A and B, alternating, A first in odd rounds and B first in even ones (slow
# drifts of the machine cancel in each pair's ratio, and neither variant is always first).
# Prints the median, quartiles and range of the A/B ratios of wall and CPU time
# (/usr/bin/time %e, %U+%S) and the ratio of the summed times. "none" is tshark without the
# plugin. Both variants get a private HOME (the plugin in its personal plugin folder) and an
# empty global plugin folder; as root, tshark runs as nobody (root ignores personal plugins).
# Env: PAIR_LOG (keep the per-run times in this file), BENCH_ROOT (a Debian tree, such as make
# compat's, whose tshark is measured instead, as bench/run.sh does: the plugins must be built for
# its Wireshark, and the capture is copied into it; needs root).
set -euo pipefail

die() { echo "pair.sh: $*" >&2; exit 1; }
[ $# -ge 4 ] || die "usage: bench/pair.sh <A.so|none> <B.so|none> <rounds> <capture> [tshark args...]"
A=$1 B=$2 ROUNDS=$3 CAP=$4
shift 4
[[ $ROUNDS =~ ^[0-9]+$ ]] && [ "$ROUNDS" -ge 1 ] || die "rounds must be a positive number: $ROUNDS"
[ -r "$CAP" ] || die "capture not readable: $CAP"
CAP=$(readlink -f "$CAP")
[ -x /usr/bin/time ] || die "/usr/bin/time not found (Debian package time)"

BENCH=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib.sh
. "$BENCH/lib.sh"
bench_root
bench_series

# TMP as this script sees it; IN as tshark sees it (inside BENCH_ROOT, when set).
bench_tmp aliiot-pair
trap 'rm -rf "$TMP"' EXIT
for v in A B; do
    so=${!v}
    [ "$so" = none ] || [ -r "$so" ] || die "plugin not readable: $so"
    bench_home "$v" "$([ "$so" = none ] || echo "$so")"
done
chmod -R a+rwX "$TMP"
bench_capture "$CAP"
CAP_IN=$(bench_at "$CAP")

# variant <A|B>: sets CMD to the command that runs tshark as that variant.
variant() {
    bench_env "$1"
    CMD=("${ENV[@]}" tshark)
}
# A plugin tshark does not load (built for another Wireshark) would make the pairs meaningless.
for v in A B; do
    variant "$v"
    if [ "${!v}" != none ] && ! "${CMD[@]}" -G plugins 2>/dev/null | grep -q '^aliiot\.so'; then
        die "tshark $SERIES does not load ${!v} (built for another Wireshark?)"
    fi
done

LOG=${PAIR_LOG:-$TMP/times}
: >"$LOG"
for ((i = 1; i <= ROUNDS; i++)); do
    order=(A B)
    ((i % 2)) || order=(B A)
    for v in "${order[@]}"; do
        variant "$v"
        /usr/bin/time -f "$v %e %U %S" -o "$TMP/one" "${CMD[@]}" "$@" -r "$CAP_IN" >/dev/null 2>"$TMP/err" ||
            die "tshark failed ($v): $(tail -3 "$TMP/err")"
        awk '{printf "%s %s %.2f\n", $1, $2, $3 + $4}' "$TMP/one" >>"$LOG"
    done
done

python3 - "$LOG" "$A" "$B" <<'EOF'
import statistics as st, sys
rows = [l.split() for l in open(sys.argv[1])]
pairs = [(a, b) if a[0] == "A" else (b, a) for a, b in zip(rows[0::2], rows[1::2])]
print(f"A = {sys.argv[2]}\nB = {sys.argv[3]}\n{len(pairs)} pairs, A/B:")
for col, name in ((1, "wall"), (2, "cpu")):
    r = sorted(float(a[col]) / float(b[col]) for a, b in pairs)
    q = st.quantiles(r, n=4, method="inclusive") if len(r) > 1 else [r[0]] * 3
    sa, sb = (sum(float(p[i][col]) for p in pairs) for i in (0, 1))
    print(f"  {name:4}  median {st.median(r):.3f}  quartiles {q[0]:.3f}-{q[2]:.3f}  "
          f"range {r[0]:.3f}-{r[-1]:.3f}  sums {sa:.1f} s / {sb:.1f} s = {sa / sb:.3f}")
EOF
