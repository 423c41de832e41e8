#!/usr/bin/env bash
# Benchmarks tshark with aliiot against the same tshark without the plugin, on large generated
# captures (bench/gen.py) and on the same frames moved off MQTT's port (no MQTT at all), and
# writes BENCHMARKS.md.
#
#   bench/run.sh <aliiot.so> [frames...]          frames default: 100000 1000000
#
# Variants, all with the same tshark and an empty global plugin folder (WIRESHARK_PLUGIN_DIR):
#   aliiot     the plugin in a private HOME's personal plugin folder
#   no-plugin  a private HOME without the plugin: the baseline
#   disabled   the plugin loaded, with --disable-protocol aliiot (second column; below the
#              largest size only: its runs go to more aliiot/no-plugin pairs there instead)
# First a machine check: the no-plugin variant paired with itself (plain read at the smallest
# size), whose ratios' spread is the machine's own noise, reported beside the results.
# Each measurement is repeated BENCH_REPS times (default 5) at the largest size, with the variants
# alternating, and more often at smaller sizes (scaled by the size ratio, at most 9 runs): a short
# run is easily swung by the machine's noise. Each mode begins with one run that is not kept (the
# first run after a switch of mode is the slow one), and each pair runs in the other order from
# the pair before (aliiot first, then no-plugin first). The
# median wall time, peak RSS and CPU time (/usr/bin/time %e %M %U+%S) are kept, and the ratio is
# the median of the paired runs' ratios (each aliiot run over the no-plugin run next to it, which
# cancels the machine's slow drifts in speed).
# Env: BENCH_OUT (report path, default <repo>/BENCHMARKS.md), BENCH_REPS, BENCH_ROOT (a Debian
# tree, such as make compat's, whose tshark is measured instead of this machine's: tshark runs in
# it with chroot as nobody, the plugin must be built for its Wireshark, and the captures are
# copied into it; needs root), BENCH_NO_DISABLED (1: no disabled variant at any size),
# BENCH_FORCE (1: go on when the machine check finds the machine too noisy, or slower than when
# the report being replaced was made, and say so in the report).
set -euo pipefail

die() { echo "run.sh: $*" >&2; exit 1; }

[ $# -ge 1 ] || die "usage: bench/run.sh <aliiot.so> [frames...]   (frames default: 100000 1000000)"
PLUGIN=$(readlink -f "$1") || die "plugin not found: $1"
[ -f "$PLUGIN" ] || die "plugin not found: $1"
shift
SIZES=("$@")
[ ${#SIZES[@]} -gt 0 ] || SIZES=(100000 1000000)
for n in "${SIZES[@]}"; do [[ $n =~ ^[0-9]+$ ]] || die "frames must be a number: $n"; done

BENCH=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$BENCH/.." && pwd)
OUT=${BENCH_OUT:-$REPO/BENCHMARKS.md}

# --- tools -------------------------------------------------------------------------------------
# shellcheck source=bench/lib.sh
. "$BENCH/lib.sh"
bench_root
command -v python3 >/dev/null || die "python3 is not installed"
if [ ! -x /usr/bin/time ]; then
    [ "$(id -u)" = 0 ] || die "/usr/bin/time is missing: apt-get install time"
    echo "installing the time package (for /usr/bin/time)..." >&2
    apt-get install -y -qq time >/dev/null || die "apt-get install time failed"
fi
bench_series

# --- private plugin folders ------------------------------------------------------------------
# TMP as this script sees it; IN as tshark sees it (inside BENCH_ROOT, when set).
bench_tmp aliiot-bench
trap 'rm -rf "$TMP"' EXIT
bench_home aliiot "$PLUGIN"
bench_home none
chmod -R a+rX "$TMP"

# variant <aliiot|stock|none>: sets CMD to the command that runs tshark in that variant
variant() {
    local extra=()
    [ "$1" = stock ] && extra=(--disable-protocol aliiot)
    bench_env "$([ "$1" = none ] && echo none || echo aliiot)"
    CMD=("${ENV[@]}" tshark "${extra[@]}")
}
ts() { variant "$1"; shift; "${CMD[@]}" "$@"; }

plugins=$(ts aliiot -G plugins 2>"$TMP/err") || die "tshark -G plugins failed: $(cat "$TMP/err")"
grep -q '^aliiot\.so' <<<"$plugins" ||
    die "tshark does not load $PLUGIN (built for another Wireshark than $SERIES?): $(cat "$TMP/err")"
plugins=$(ts none -G plugins 2>/dev/null) || die "tshark -G plugins failed (no-plugin variant)"
if grep -q aliiot <<<"$plugins"; then die "the no-plugin variant still loads aliiot"; fi

# --- captures ----------------------------------------------------------------------------------
label() {
    local n=$1
    if ((n % 1000000 == 0)); then echo "$((n / 1000000))M"
    elif ((n % 1000 == 0)); then echo "$((n / 1000))k"
    else echo "$n"; fi
}
meta() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }

mkdir -p "$BENCH/out"
SMALLEST=$(printf '%s\n' "${SIZES[@]}" | sort -n | head -1)
LARGEST=$(printf '%s\n' "${SIZES[@]}" | sort -n | tail -1)
for n in "${SIZES[@]}"; do
    f=$BENCH/out/$(label "$n").pcap
    if [ ! -s "$f" ] || [ ! -s "${f%.pcap}.json" ] || [ "$(meta "${f%.pcap}.json" frames)" != "$n" ]; then
        echo "generating $f..." >&2
        python3 "$BENCH/gen.py" --frames "$n" --out "$f"
    fi
    off=${f%.pcap}-nomqtt.pcap
    if [ ! -s "$off" ] || [ "$(meta "${off%.pcap}.json" frames)" != "$n" ]; then
        echo "generating $off (the same frames, broker on port 1999)..." >&2
        python3 "$BENCH/gen.py" --frames "$n" --out "$off" --server-port 1999 >/dev/null
    fi
    xs=("$f" "$off")
    if [ "$n" = "$LARGEST" ]; then
        # The same number of frames in sessions about four times as long: fewer connections for
        # about as many MQTT packets, which tells the memory a packet keeps from a connection's.
        long=${f%.pcap}-long.pcap
        if [ ! -s "$long" ] || [ "$(meta "${long%.pcap}.json" frames)" != "$n" ]; then
            echo "generating $long (sessions of 40-60 property posts)..." >&2
            python3 "$BENCH/gen.py" --frames "$n" --out "$long" --posts 40-60 >/dev/null
        fi
        xs+=("$long")
    fi
    for x in "${xs[@]}"; do bench_capture "$x"; done
done

# --- measurements ------------------------------------------------------------------------------
MODES=(read iostat filter fields twopass tree nomqtt-read nomqtt-iostat nomqtt-twopass twopass-long)
declare -A DESC=(
    [read]='tshark -n -r f'
    [iostat]='tshark -n -q -r f -z io,stat,0'
    [filter]="tshark -n -r f -Y 'aliiot.product_key == \"<pk>\"'"
    [fields]='tshark -n -r f -T fields -e aliiot.device_name'
    [twopass]='tshark -n -2 -r f'
    [tree]='tshark -n -2 -q -r f -z aliiot,tree'
    [nomqtt-read]='tshark -n -r f-nomqtt'
    [nomqtt-iostat]='tshark -n -q -r f-nomqtt -z io,stat,0'
    [nomqtt-twopass]='tshark -n -2 -r f-nomqtt'
    [twopass-long]='tshark -n -2 -r f-long (largest size only)'
)
# Targets: wall time of aliiot over no-plugin (median of the paired runs).
declare -A TARGET=([read]=1.10 [iostat]=1.10 [filter]=1.10 [fields]=1.15 [twopass]=1.15 [tree]=1.25
                   [nomqtt-read]=1.02 [nomqtt-iostat]=1.02 [nomqtt-twopass]=1.02 [twopass-long]=1.15)
VARIANTS=(aliiot none stock)
# The variants run at size $1: disabled (stock) is left out at the largest size, where one run
# of the three costs as much as two more aliiot/no-plugin pairs, which the target's median needs
# more on this noisy machine (one run can stray by a quarter).
# BENCH_NO_DISABLED=1 leaves it out at every size.
variants_at() {
    if [ -n "${BENCH_NO_DISABLED:-}" ] || { [ "$1" = "$LARGEST" ] && [ ${#SIZES[@]} -gt 1 ]; }; then echo aliiot none
    else echo "${VARIANTS[@]}"; fi
}
RESULTS=$TMP/results.tsv   # size mode variant wall_s rss_kb cpu_s paired_ratio lowest highest
: >"$RESULTS"

# measure <variant> tshark-args...  -> appends "wall-s peak-KB cpu-s" to $TMP/m.<variant>, or to
# $TMP/m.warmup while WARMUP=1 (a run that is not kept)
measure() {
    local v=$1 to=$1
    [ "${WARMUP:-0}" = 1 ] && to=warmup
    shift
    variant "$v"
    /usr/bin/time -f '%e %M %U %S' -o "$TMP/time" "${CMD[@]}" "$@" >/dev/null 2>"$TMP/err" ||
        die "tshark failed ($v: tshark $*): $(tail -5 "$TMP/err")"
    if [ -s "$TMP/err" ]; then echo "  note: tshark ($v) wrote to stderr: $(head -c 300 "$TMP/err")" >&2; fi
    tail -1 "$TMP/time" | awk '{print $1, $2, $3 + $4}' >>"$TMP/m.$to"
}
# Runs per measurement at size $1: BENCH_REPS at the largest size, scaled up by the size ratio
# (at most 9) below it.
reps_at() {
    local r=${BENCH_REPS:-5}
    local scaled=$((r * LARGEST / $1))
    [ "$scaled" -gt 9 ] && scaled=9
    [ "$scaled" -gt "$r" ] && r=$scaled
    echo "$r"
}
median() { sort -n | awk '{a[NR]=$1} END {if (NR % 2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

START=$(date +%s)
# The machine's own noise first: tshark without the plugin against itself (plain read, the
# smallest size, as many pairs as a mode gets there). Its pairs' ratios would all be 1.00 on a
# quiet machine; their spread is how far a ratio below can stray for reasons that are not
# aliiot's, and the median time of its runs tells this machine's speed from another report's.
aa_check() {
    local F f reps i
    F=$BENCH/out/$(label "$SMALLEST").pcap
    f=$(bench_at "$F")
    reps=$(reps_at "$SMALLEST")
    rm -f "$TMP"/m.*
    WARMUP=1 measure none -n -r "$f"
    for ((i = 0; i < reps; i++)); do
        measure none -n -r "$f"
        measure none -n -r "$f"
    done
    # Each pair's ratio, first over second and second over first in turn.
    awk '{t[NR] = $1} END {for (i = 1; i + 1 <= NR; i += 2) if (t[i] > 0 && t[i + 1] > 0)
        print (i % 4 == 1 ? t[i] / t[i + 1] : t[i + 1] / t[i])}' "$TMP/m.none" | sort -n >"$TMP/aa"
    AA_PAIRS=$(wc -l <"$TMP/aa")
    AA_MEDIAN=$(median <"$TMP/aa")
    AA_LOW=$(head -1 "$TMP/aa") AA_HIGH=$(tail -1 "$TMP/aa")
    AA_TIME=$(cut -d' ' -f1 "$TMP/m.none" | median)
    printf '  machine check   no-plugin against itself, %s pair%s: median %.2f, %.2f–%.2f (%.2f s a run)\n' \
        "$AA_PAIRS" "$( ((AA_PAIRS == 1)) || echo s)" "$AA_MEDIAN" "$AA_LOW" "$AA_HIGH" "$AA_TIME" >&2
}
aa_check
# refuse <why>: the machine cannot measure aliiot's cost now; stop before measuring, unless
# BENCH_FORCE=1 (then say so, and the report carries a warning row).
refuse() {
    [ "${BENCH_FORCE:-}" = 1 ] || die "$1; try again later, or BENCH_FORCE=1 to measure anyway"
    echo "  machine check   $1; going on (BENCH_FORCE=1)" >&2
}
# A pair of the same tshark straying by more than 15 % either way: the machine is busy with work
# that is not this benchmark's (seen on a shared host: every run at half speed, aliiot's ratios up
# to 1.3-1.4 with the same instruction counts), and a report made now would not say aliiot's cost.
NOISY=
if awk -v l="$AA_LOW" -v h="$AA_HIGH" 'BEGIN { exit !(l < 0.85 || h > 1.15) }'; then
    NOISY=1
    refuse "$(printf 'the machine is too noisy to measure (no-plugin against itself: %.2f–%.2f, outside 0.85–1.15)' "$AA_LOW" "$AA_HIGH")"
fi
# A machine slowed evenly passes that check: on a shared host every run at half speed, the pairs
# still close, and aliiot's ratios up by a fifth all the same (its extra time is cache misses,
# dearer when another tenant shares the caches). The report this run replaces, when made on the
# same kind of machine with the same tshark, says how fast a run was then: its plain read without
# the plugin at the smallest size is the check's command (and is in reports made before the check
# had a row of its own); more than 1.3 times as slow now stops the bench as a noisy check does.
MACHINE="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(nproc) cores, $(awk '/^MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo) RAM"
SLOWER=
if [ -f "$OUT" ] && [ "$(sed -n 's/^| machine | \(.*\); load average.*/\1/p' "$OUT")" = "$MACHINE" ] &&
    [ "$(sed -n 's/^| tshark | \(.*\) |$/\1/p' "$OUT")" = "$(tshark_version)" ]; then
    # The time as the reports write it (two decimals), then and now.
    was=$(awk -v h="### $SMALLEST frames" '$0 == h { f = 1; next }
        f && /^\| read \|/ { split($0, c, "|"); gsub(/ /, "", c[4]); print c[4]; exit }' "$OUT")
    SLOWER=$(awk -v t="$(printf '%.2f' "$AA_TIME")" -v p="$was" \
        'BEGIN { if (p > 0 && t > 1.3 * p) printf "%.2f s a run, %.1f times the %.2f s of the report it replaces, made on the same kind of machine with the same tshark", t, t / p, p }')
    [ -z "$SLOWER" ] || refuse "the machine is slower than when $OUT was made: $SLOWER"
fi
for n in "${SIZES[@]}"; do
    F=$BENCH/out/$(label "$n").pcap
    pk=$(meta "${F%.pcap}.json" sample_product_key)
    f=$(bench_at "$F") off=$(bench_at "${F%.pcap}-nomqtt.pcap") long=$(bench_at "${F%.pcap}-long.pcap")
    reps=$(reps_at "$n")
    read -ra vs <<<"$(variants_at "$n")"
    filter_aliiot="aliiot.product_key == \"$pk\""
    filter_none="mqtt.username contains \"&$pk\""
    if ts stock -n -c 1 -r "$f" -Y "$filter_aliiot" >/dev/null 2>&1; then filter_stock=$filter_aliiot
    else filter_stock=$filter_none; fi
    echo "$n: $(label "$n").pcap, $(stat -c %s "$F") bytes, $reps run(s) per measurement" >&2
    cat "$F" "${F%.pcap}-nomqtt.pcap" "${F%.pcap}-long.pcap" >/dev/null 2>&1 || true   # warm the page cache
    for m in "${MODES[@]}"; do
        [ "$m" = twopass-long ] && [ "$n" != "$LARGEST" ] && continue
        rm -f "$TMP"/m.*
        # One run first, not kept: the first run of a mode is slower than those after it (A/A
        # pairs of one variant: the first pair's ratio 1.09, the six others' median 1.01). Then
        # the variants alternate, each pair in the other order from the one before (aliiot
        # first, then no-plugin first), so neither is always the run after a mode switch.
        for ((i = -1; i < reps; i++)); do
            WARMUP=$((i < 0))
            if ((i < 0)); then order=(none)
            elif ((i % 2)); then mapfile -t order < <(printf '%s\n' "${vs[@]}" | tac)
            else order=("${vs[@]}"); fi
            for v in "${order[@]}"; do
                case $m in
                read) a=(-n -r "$f") ;;
                iostat) a=(-n -q -r "$f" -z io,stat,0) ;;
                filter) case $v in aliiot) a=(-n -r "$f" -Y "$filter_aliiot") ;; stock) a=(-n -r "$f" -Y "$filter_stock") ;;
                               none) a=(-n -r "$f" -Y "$filter_none") ;; esac ;;
                fields) a=(-n -r "$f" -T fields -e "$([ $v = none ] && echo mqtt.username || echo aliiot.device_name)") ;;
                twopass) a=(-n -2 -r "$f") ;;
                tree) if [ $v = none ]; then a=(-n -2 -q -r "$f" -z io,stat,0); else a=(-n -2 -q -r "$f" -z aliiot,tree); fi ;;
                nomqtt-read) a=(-n -r "$off") ;;
                nomqtt-iostat) a=(-n -q -r "$off" -z io,stat,0) ;;
                nomqtt-twopass) a=(-n -2 -r "$off") ;;
                twopass-long) a=(-n -2 -r "$long") ;;
                esac
                measure "$v" "${a[@]}"
            done
        done
        # Each aliiot run over the no-plugin run of its pair.
        paste -d' ' "$TMP/m.aliiot" "$TMP/m.none" | awk '$4 > 0 {print $1 / $4}' | sort -n >"$TMP/pairs"
        pr=$(median <"$TMP/pairs")
        # The spread of the paired ratios: how far one run can be from the median on this machine.
        spread="$(head -1 "$TMP/pairs") $(tail -1 "$TMP/pairs")"
        for v in "${vs[@]}"; do
            t=$(cut -d' ' -f1 "$TMP/m.$v" | median)
            r=$(cut -d' ' -f2 "$TMP/m.$v" | median)
            c=$(cut -d' ' -f3 "$TMP/m.$v" | median)
            printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$n" "$m" "$v" "$t" "$r" "$c" "$pr" $spread >>"$RESULTS"
        done
        # Progress: each variant run at this size, its median wall time and peak memory.
        for v in "${vs[@]}"; do
            awk -F'\t' -v n="$n" -v m="$m" -v v="$v" -v name="$([ "$v" = none ] && echo no-plugin || { [ "$v" = stock ] && echo disabled || echo aliiot; })" \
                '$1==n && $2==m && $3==v {printf " | %s %7.2f s %7.1f MB", name, $4, $5/1024}' "$RESULTS"
        done | sed "s/^ |/  $(printf '%-15s' "$m")/" >&2
        echo >&2
    done
done
ELAPSED=$(($(date +%s) - START))

# --- report ------------------------------------------------------------------------------------
commit=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -n "$(git -C "$REPO" status --porcelain --untracked-files=no -- . ':(exclude)BENCHMARKS.md' 2>/dev/null)" ] && commit="$commit (dirty)"
os=$( . "$ROOT/etc/os-release" 2>/dev/null && echo "${PRETTY_NAME:-unknown}")
[ -z "$ROOT" ] || os="$os (a tree of its own, tshark run in it with chroot: $ROOT)"

report() {
    echo "# aliiot benchmarks"
    echo
    echo "Generated by \`bench/run.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC') (runs took ${ELAPSED} s)."
    echo
    echo "| | |"
    echo "|---|---|"
    echo "| machine | $MACHINE; load average at the end $(cut -d' ' -f1-3 /proc/loadavg) |"
    echo "| OS | $os, Linux $(uname -r) |"
    echo "| tshark | $(tshark_version) |"
    echo "| plugin | \`$(basename "$PLUGIN")\` (sha256 $(sha256sum "$PLUGIN" | cut -c1-12)), tree at commit $commit |"
    local alternate="aliiot, no-plugin and disabled alternate"
    if [ -n "${BENCH_NO_DISABLED:-}" ]; then alternate="aliiot and no-plugin alternate (no disabled variant: BENCH_NO_DISABLED)"
    elif variants_at "$LARGEST" | grep -q stock; then alternate="$alternate (disabled: every size)"
    else alternate="$alternate (disabled: below $LARGEST frames only)"; fi
    echo "| runs | $(for n in "${SIZES[@]}"; do printf '%s at %s frames, ' "$(reps_at "$n")" "$n"; done)medians kept; $alternate on the same file, each round in the other order from the one before, after one run per mode that is not kept, page cache warm |"
    printf '| machine check | no-plugin against itself, %s pair%s of `tshark -n -r f` at %s frames: ratio median %.2f, lowest–highest %.2f–%.2f; %.2f s a run |\n' \
        "$AA_PAIRS" "$( ((AA_PAIRS == 1)) || echo s)" "$SMALLEST" "$AA_MEDIAN" "$AA_LOW" "$AA_HIGH" "$AA_TIME"
    [ -z "$NOISY" ] || echo "| warning | the machine check is outside 0.85–1.15 (made with BENCH_FORCE=1): the ratios below can stray as far for reasons that are not aliiot's |"
    [ -z "$SLOWER" ] || echo "| warning | the machine check took $SLOWER; measured anyway (BENCH_FORCE=1), and on a machine slowed by other work aliiot's ratios grow |"
    echo
    echo "Variants: **aliiot** = the plugin loaded from a private HOME; **no-plugin** = a HOME without"
    echo "the plugin, the baseline; **disabled** = the plugin loaded with \`--disable-protocol aliiot\`."
    echo "The global plugin folder is empty in all three. As root, tshark runs as nobody (\`setpriv\`)."
    echo
    echo "## Captures (bench/gen.py)"
    echo
    echo "| frames | bytes | MQTT packets | devices = TCP connections | open at once (max) | seconds of traffic |"
    echo "|---:|---:|---:|---:|---:|---:|"
    for j in "${SIZES[@]}" long; do
        if [ "$j" = long ]; then j=$BENCH/out/$(label "$LARGEST")-long.json tag=" (\`f-long\`)"
        else j=$BENCH/out/$(label "$j").json tag=""; fi
        echo "| $(meta "$j" frames)$tag | $(meta "$j" bytes) | $(meta "$j" mqtt_packets) | $(meta "$j" connections) | $(meta "$j" max_concurrent_connections) | $(meta "$j" duration_s) |"
    done
    echo
    echo "\`f-long\` (largest size only) has sessions of 40-60 property posts instead of 3-12"
    echo "(\`gen.py --posts 40-60\`): as many frames, about a quarter of the connections."
    echo "\`f-nomqtt\` is the same capture with the broker on port 1999 (\`gen.py --server-port 1999\`):"
    echo "the same frames, no MQTT."
    echo
    echo "## Modes"
    echo
    echo "| mode | command (aliiot, disabled) | no-plugin command |"
    echo "|---|---|---|"
    for m in "${MODES[@]}"; do
        case $m in
        filter) echo "| filter | \`${DESC[filter]}\` | \`tshark -n -r f -Y 'mqtt.username contains \"&<pk>\"'\` |" ;;
        fields) echo "| fields | \`${DESC[fields]}\` | \`-e mqtt.username\` |" ;;
        tree) echo "| tree | \`${DESC[tree]}\` | \`tshark -n -2 -q -r f -z io,stat,0\` |" ;;
        *) echo "| $m | \`${DESC[$m]}\` | same |" ;;
        esac
    done
    echo
    echo "The machine check runs before the modes: tshark without the plugin, paired with itself as the"
    echo "modes pair aliiot with it. On a quiet machine its ratios are all 1.00; their spread is how far"
    echo "a ratio below can stray for reasons that are not aliiot's, and its time a run tells this"
    echo "machine's speed from another report's."
    echo
    echo "Output goes to /dev/null. The ratio is the median of the paired runs' ratios (each aliiot run"
    echo "over the no-plugin run next to it), followed by the lowest and highest of them (the spread"
    echo "shows how far one run can stray on this machine); ✅/❌ against the target. Peak memory: target ≤ 1.10 ×"
    echo "no-plugin at 1M frames."
    echo "The CPU column (user + system time) is less sensitive than wall time to other work."
    echo
    echo "## Results"
    local targets=""
    for m in "${MODES[@]}"; do targets="$targets $m=${TARGET[$m]}"; done
    awk -F'\t' -v sizes="${SIZES[*]}" -v modes="${MODES[*]}" -v targets="$targets" '
        { t[$1,$2,$3] = $4; r[$1,$2,$3] = $5 / 1024; c[$1,$2,$3] = $6; p[$1,$2] = $7; lo[$1,$2] = $8; hi[$1,$2] = $9 }
        function mark(x, lim) { return lim == "" ? "" : (x + 0 <= lim + 0 ? " ✅" : " ❌ (> " lim ")") }
        END {
            split(sizes, S, " "); split(modes, M, " "); split(targets, T, " ")
            for (k in T) { split(T[k], kv, "="); tl[kv[1]] = kv[2] }
            for (i = 1; i in S; i++) {
                n = S[i]
                printf "\n### %s frames\n\n", n
                print "| mode | wall s aliiot | wall s no-plugin | ratio (target), lowest–highest | CPU s aliiot / no-plugin (ratio) | peak MB aliiot | peak MB no-plugin | ratio | disabled: wall s (aliiot / disabled) |"
                print "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
                for (j = 1; j in M; j++) {
                    m = M[j]; if (!((n, m, "aliiot") in t)) continue
                    has_stock = ((n, m, "stock") in t)
                    ta = t[n,m,"aliiot"]; tn = t[n,m,"none"]; ts = t[n,m,"stock"]
                    ra = r[n,m,"aliiot"]; rn = r[n,m,"none"]; ca = c[n,m,"aliiot"]; cn = c[n,m,"none"]
                    tr = p[n,m]; rr = (rn > 0 ? ra / rn : 0)
                    spread = (lo[n,m] == "" ? "" : sprintf(", %.2f–%.2f", lo[n,m], hi[n,m]))
                    dis = has_stock ? sprintf("%.2f (%.2f)", ts, (ts > 0 ? ta / ts : 0)) : "–"
                    printf "| %s | %.2f | %.2f | %.2f%s%s | %.2f / %.2f (%.2f) | %.1f | %.1f | %.2f%s | %s |\n",
                        m, ta, tn, tr, mark(sprintf("%.2f", tr), tl[m]), spread, ca, cn, (cn > 0 ? ca / cn : 0),
                        ra, rn, rr, mark(sprintf("%.2f", rr), (n >= 1000000 ? "1.10" : "")), dis
                }
            }
        }' "$RESULTS"
    echo
    echo "## aliiot's own memory (twopass mode: \`tshark -n -2 -r f\`, peak aliiot − peak no-plugin)"
    echo
    echo "| frames | aliiot's memory | per MQTT packet | per TCP connection |"
    echo "|---:|---:|---:|---:|"
    # Each size's twopass row, then the long-session capture's.
    for row in "${SIZES[@]/%/ twopass}" "$LARGEST twopass-long"; do
        read -r n m <<<"$row"
        j=$BENCH/out/$(label "$n").json
        if [ "$m" = twopass-long ]; then j=${j%.json}-long.json; fi
        awk -F'\t' -v n="$n" -v m="$m" -v c="$(meta "$j" connections)" -v p="$(meta "$j" mqtt_packets)" '$1==n && $2==m { k[$3] = $5 }
            END { d = (k["aliiot"] - k["none"]) * 1024
                  printf "| %d%s | %.1f MB | %.0f bytes | %.0f bytes |\n", n, (m == "twopass" ? "" : " (f-long)"), d / 1048576, d / p, d / c }' "$RESULTS"
    done
    if [ ${#SIZES[@]} -ge 2 ]; then
        echo
        echo "Growth between sizes, which leaves out any fixed cost: (difference at the larger − difference"
        echo "at the smaller) / (MQTT packets or connections added). Targets: ≤ 40 bytes per MQTT packet,"
        echo "≤ 600 bytes per finished connection. Both grow together in these captures (every session"
        echo "ends), so each column charges the whole growth to one of them: an upper bound for each."
        echo
        echo "| from → to | per MQTT packet added | per connection added |"
        echo "|---|---:|---:|"
        for ((i = 1; i < ${#SIZES[@]}; i++)); do
            a=${SIZES[i-1]} b=${SIZES[i]}
            ja=$BENCH/out/$(label "$a").json jb=$BENCH/out/$(label "$b").json
            ca=$(meta "$ja" connections) cb=$(meta "$jb" connections)
            pa=$(meta "$ja" mqtt_packets) pb=$(meta "$jb" mqtt_packets)
            awk -F'\t' -v a="$a" -v b="$b" -v ca="$ca" -v cb="$cb" -v pa="$pa" -v pb="$pb" '$2=="twopass" { k[$1,$3] = $5 * 1024 }
                END { d = (k[b,"aliiot"] - k[b,"none"]) - (k[a,"aliiot"] - k[a,"none"])
                      if (b != a && cb != ca) printf "| %d → %d | %.0f bytes | %.0f bytes |\n", a, b, d / (pb - pa), d / (cb - ca) }' "$RESULTS"
        done
        # Three captures, three unknowns: aliiot's memory = fixed + a × MQTT packets + b ×
        # connections, at the smallest size, the largest and the largest with long sessions.
        j0=$BENCH/out/$(label "$SMALLEST").json j1=$BENCH/out/$(label "$LARGEST").json
        j2=$BENCH/out/$(label "$LARGEST")-long.json
        echo
        echo "Each apart: aliiot's memory at $(label "$SMALLEST"), at $(label "$LARGEST") and at $(label "$LARGEST") with long sessions"
        echo "(\`f-long\`), solved for a fixed part, bytes per MQTT packet and bytes per connection:"
        echo
        awk -F'\t' -v n0="$SMALLEST" -v n1="$LARGEST" \
            -v p0="$(meta "$j0" mqtt_packets)" -v c0="$(meta "$j0" connections)" \
            -v p1="$(meta "$j1" mqtt_packets)" -v c1="$(meta "$j1" connections)" \
            -v p2="$(meta "$j2" mqtt_packets)" -v c2="$(meta "$j2" connections)" '
            $2 == "twopass" || $2 == "twopass-long" { k[$1, $2, $3] = $5 * 1024 }
            END {
                d0 = k[n0, "twopass", "aliiot"] - k[n0, "twopass", "none"]
                d1 = k[n1, "twopass", "aliiot"] - k[n1, "twopass", "none"]
                d2 = k[n1, "twopass-long", "aliiot"] - k[n1, "twopass-long", "none"]
                # d1 - d0 = a (p1 - p0) + b (c1 - c0);  d1 - d2 = a (p1 - p2) + b (c1 - c2)
                x1 = p1 - p0; y1 = c1 - c0; x2 = p1 - p2; y2 = c1 - c2; det = x1 * y2 - x2 * y1
                if (det == 0) { print "(the three captures do not tell the two apart)"; exit }
                a = ((d1 - d0) * y2 - (d1 - d2) * y1) / det
                b = (x1 * (d1 - d2) - x2 * (d1 - d0)) / det
                f = d1 - a * p1 - b * c1
                print "| fixed | per MQTT packet (target ≤ 40) | per finished connection (target ≤ 600) |"
                print "|---:|---:|---:|"
                printf "| %.1f MB | %.0f bytes%s | %.0f bytes%s |\n", f / 1048576, a, (a <= 40 ? " ✅" : " ❌"), b, (b <= 600 ? " ✅" : " ❌")
            }' "$RESULTS"
    fi
}
report >"$OUT"
echo >&2
cat "$OUT"
echo >&2
echo "wrote $OUT" >&2
