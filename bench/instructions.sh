#!/usr/bin/env bash
# Instruction counts (valgrind --tool=callgrind) of tshark with aliiot against tshark without the
# plugin, per mode, on a generated capture and the same frames off MQTT's port. Unlike wall time,
# these repeat exactly on a shared or virtual machine.
#
#   bench/instructions.sh <aliiot.so> [frames]        frames default: 20000
#
# Startup (tshark -c 1) is measured per variant and taken out, so the ratio is per-frame work:
# (aliiot − aliiot startup) / (no-plugin − no-plugin startup). Prints a Markdown table.
# The two variants of a row are counted side by side: a count does not depend on what else the
# machine runs.
# Env: BENCH_ROOT (a Debian tree, such as make compat's, whose tshark is counted instead of this
# machine's, run in it with chroot as nobody; valgrind is installed in it when missing, and /proc
# is mounted there while the counts run; needs root), INSTR_BRIEF (1: no thing-model rows and no
# cache simulation, as bench/compat.sh asks for the 4.4 and 4.6 trees).
set -euo pipefail
die() { echo "instructions.sh: $*" >&2; exit 1; }
[ $# -ge 1 ] || die "usage: bench/instructions.sh <aliiot.so> [frames]"
PLUGIN=$(readlink -f "$1"); N=${2:-20000}
BENCH=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib.sh
. "$BENCH/lib.sh"
bench_root
BRIEF=${INSTR_BRIEF:-0}
if [ -n "$ROOT" ] && [ ! -x "$ROOT/usr/bin/valgrind" ]; then
    echo "installing valgrind in $ROOT..." >&2
    chroot "$ROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
        sh -c 'apt-get -o Acquire::Check-Valid-Until=false update -qq && apt-get install -y -qq --no-install-recommends valgrind' \
        >/dev/null 2>&1 || die "installing valgrind in $ROOT failed"
elif [ -z "$ROOT" ]; then
    command -v valgrind >/dev/null || die "valgrind is not installed"
fi
bench_series
bench_tmp aliiot-instr
PROC=
cleanup() {
    [ -z "$PROC" ] || umount -l "$PROC" 2>/dev/null || true
    rm -rf "$TMP"
}
trap cleanup EXIT
if [ -n "$ROOT" ] && ! mountpoint -q "$ROOT/proc"; then
    mkdir -p "$ROOT/proc" && mount -t proc proc "$ROOT/proc" && PROC=$ROOT/proc
fi
bench_home aliiot "$PLUGIN"
bench_home none
python3 "$BENCH/gen.py" --frames "$N" --out "$TMP/f.pcap" >/dev/null
python3 "$BENCH/gen.py" --frames "$N" --out "$TMP/off.pcap" --server-port 1999 >/dev/null
pk=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["sample_product_key"])' "$TMP/f.json")
pkts=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["mqtt_packets"])' "$TMP/f.json")
chmod -R a+rwX "$TMP"
# The captures and the thing models as tshark sees them.
F=$IN/f.pcap OFF=$IN/off.pcap TSL=$IN/f-tsl
in_variant() { # variant command... : runs the command with the variant's HOME, as tshark runs
    bench_env "$1"; shift
    "${ENV[@]}" "$@"
}
count() { # variant args... -> instructions
    local v=$1; shift
    in_variant "$v" valgrind --tool=callgrind --callgrind-out-file=/dev/null tshark "$@" 2>&1 >/dev/null |
        sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
run() { # variant args... -> tshark's output, no valgrind
    local v=$1; shift
    in_variant "$v" tshark "$@" 2>/dev/null
}
# The filter mode's stock command prints the product's CONNECTs only; aliiot's prints every MQTT
# packet of the product's devices. The same frames without the plugin: MQTT on their TCP streams.
streams=$(run aliiot -n -r "$F" -Y "aliiot.product_key == \"$pk\"" -T fields -e tcp.stream | sort -un | paste -sd,)
same="mqtt && tcp.stream in {$streams}"
[ "$(run aliiot -n -r "$F" -Y "aliiot.product_key == \"$pk\"" -T fields -e frame.number | md5sum)" = \
  "$(run none -n -r "$F" -Y "$same" -T fields -e frame.number | md5sum)" ] ||
    die "the stock filter for the same frames selects other frames"
matched=$(run none -n -r "$F" -Y "$same" -T fields -e frame.number | wc -l)
stock_matched=$(run none -n -r "$F" -Y "mqtt.username contains \"&$pk\"" -T fields -e frame.number | wc -l)
# both aliiot-args ||| no-plugin-args: sets A and B to the two counts, made side by side.
both() {
    local a=() n=() side=a
    for x in "$@"; do if [ "$x" = "|||" ]; then side=n; elif [ $side = a ]; then a+=("$x"); else n+=("$x"); fi; done
    count aliiot "${a[@]}" >"$TMP/count-a" &
    count none "${n[@]}" >"$TMP/count-n"
    wait $!
    A=$(cat "$TMP/count-a") B=$(cat "$TMP/count-n")
    [ -n "$A" ] && [ -n "$B" ] || die "callgrind gave no count (tshark ${a[*]})"
}
both -n -r "$F" -c 1 "|||" -n -r "$F" -c 1
sa=$A sn=$B
echo "$N generated frames, $pkts MQTT packets; startup: aliiot $sa, no-plugin $sn instructions."
echo
echo "| mode | aliiot (M instr.) | no-plugin (M instr.) | per-frame ratio | aliiot's extra per MQTT packet |"
echo "|---|---:|---:|---:|---:|"
row() { # mode, then aliiot args ||| no-plugin args
    local m=$1; shift
    both "$@"
    awk -v m="$m" -v a="$A" -v n="$B" -v sa="$sa" -v sn="$sn" -v p="$pkts" 'BEGIN {
        printf "| %s | %.0f | %.0f | %.3f | %.0f |\n", m, a / 1e6, n / 1e6, (a - sa) / (n - sn), ((a - sa) - (n - sn)) / p }'
}
row read -n -r "$F" "|||" -n -r "$F"
row iostat -n -q -r "$F" -z io,stat,0 "|||" -n -q -r "$F" -z io,stat,0
row filter -n -r "$F" -Y "aliiot.product_key == \"$pk\"" "|||" -n -r "$F" -Y "mqtt.username contains \"&$pk\""
row "filter, same frames" -n -r "$F" -Y "aliiot.product_key == \"$pk\"" "|||" -n -r "$F" -Y "$same"
row "filter, stock filter in both" -n -r "$F" -Y "mqtt.username contains \"&$pk\"" "|||" -n -r "$F" -Y "mqtt.username contains \"&$pk\""
row fields -n -r "$F" -T fields -e aliiot.device_name "|||" -n -r "$F" -T fields -e mqtt.username
row "fields, stock field in both" -n -r "$F" -T fields -e mqtt.username "|||" -n -r "$F" -T fields -e mqtt.username
row twopass -n -2 -r "$F" "|||" -n -2 -r "$F"
row tree -n -2 -q -r "$F" -z aliiot,tree "|||" -n -2 -q -r "$F" -z io,stat,0
if [ "$BRIEF" != 1 ]; then
    # With a thing model for every product (aliiot only: tshark without the plugin has no such
    # preference): every property post, set and service call is described and checked.
    tsl=(-o "aliiot.tsl_folder:$TSL")
    row "read, TSL" -n -r "$F" "${tsl[@]}" "|||" -n -r "$F"
    row "iostat, TSL" -n -q -r "$F" -z io,stat,0 "${tsl[@]}" "|||" -n -q -r "$F" -z io,stat,0
    row "filter, TSL" -n -r "$F" -Y "aliiot.product_key == \"$pk\"" "${tsl[@]}" "|||" -n -r "$F" -Y "mqtt.username contains \"&$pk\""
    row "fields, TSL" -n -r "$F" -T fields -e aliiot.device_name "${tsl[@]}" "|||" -n -r "$F" -T fields -e mqtt.username
    row "twopass, TSL" -n -2 -r "$F" "${tsl[@]}" "|||" -n -2 -r "$F"
fi
row nomqtt-read -n -r "$OFF" "|||" -n -r "$OFF"
row nomqtt-iostat -n -q -r "$OFF" -z io,stat,0 "|||" -n -q -r "$OFF" -z io,stat,0
echo
printf '%s\n' "The filter rows print different frames: aliiot's filter matches every MQTT packet of the" \
    "product's devices ($matched frames), the stock \`mqtt.username contains \"&<pk>\"\` their CONNECTs only" \
    "($stock_matched frames). \"filter, same frames\" gives tshark without the plugin a filter that prints the" \
    "same $matched frames (\`mqtt && tcp.stream in {…}\`: MQTT on the product's connections, checked frame by" \
    "frame). The \"stock … in both\" rows give aliiot's variant tshark's own filter or field: what" \
    "aliiot costs in that mode when none of its fields is named. The filter or fields row's extra" \
    "above it is what naming aliiot's field costs (an item on every MQTT packet, where" \
    "\`mqtt.username\` is on each CONNECT)."
if [ "$SERIES" = 4.0 ]; then
    printf '%s\n' "On Wireshark 4.0, whose \`-T fields\` builds the tree that \`-V\` shows, the" \
        "\"fields, stock field in both\" row already holds aliiot's whole tree."
fi
[ "$BRIEF" = 1 ] && exit 0

# Where wall time parts from the instruction count: callgrind's cache simulation (a model of this
# machine's caches, not a measurement) of the read and twopass modes. aliiot's extra work runs at
# a lower rate of instructions per cycle than Wireshark's own when it misses the first-level
# caches (instructions or data) more often per instruction.
cache() { # variant args... -> "instructions I1-misses D1-misses LL-misses"
    local v=$1; shift
    in_variant "$v" valgrind --tool=callgrind --cache-sim=yes --callgrind-out-file=/dev/null tshark "$@" 2>&1 >/dev/null |
        awk '/I +refs:/ {gsub(",", "", $4); i = $4} /I1 +misses:/ {gsub(",", "", $4); c = $4}
             /D1 +misses:/ {gsub(",", "", $4); d = $4} /LL +misses:/ {gsub(",", "", $4); l = $4}
             END {print i, c, d, l}'
}
cache_rows() { # mode, then tshark's arguments (the same for both variants)
    local m=$1; shift
    local ca_i ca_c ca_d ca_l cn_i cn_c cn_d cn_l a_i a_c a_d a_l n_i n_c n_d n_l
    read -r ca_i ca_c ca_d ca_l < <(cache aliiot "$@" -c 1)
    read -r cn_i cn_c cn_d cn_l < <(cache none "$@" -c 1)
    read -r a_i a_c a_d a_l < <(cache aliiot "$@")
    read -r n_i n_c n_d n_l < <(cache none "$@")
    for k in "instructions:$a_i:$n_i:$ca_i:$cn_i" "first-level instruction cache misses:$a_c:$n_c:$ca_c:$cn_c" \
             "first-level data cache misses:$a_d:$n_d:$ca_d:$cn_d" \
             "last-level cache misses:$a_l:$n_l:$ca_l:$cn_l"; do
        IFS=: read -r what a n sa sn <<<"$k"
        awk -v m="$m" -v w="$what" -v a="$a" -v n="$n" -v sa="$sa" -v sn="$sn" -v p="$pkts" 'BEGIN {
            printf "| %s | %s | %.1f | %.1f | %.3f | %.1f |\n", m, w, a / 1e6, n / 1e6, (n - sn > 0 ? (a - sa) / (n - sn) : 0), ((a - sa) - (n - sn)) / p }'
    done
    # First-level misses (instruction and data) per thousand instructions: of the work aliiot adds,
    # and of tshark's own per-frame work.
    density+=$(awk -v m="$m" -v ai="$a_i" -v ni="$n_i" -v sai="$ca_i" -v sni="$cn_i" \
        -v am="$((a_c + a_d))" -v nm="$((n_c + n_d))" -v sam="$((ca_c + ca_d))" -v snm="$((cn_c + cn_d))" 'BEGIN {
        x = (ai - sai) - (ni - sni); xm = (am - sam) - (nm - snm)
        printf "%s: %.0f first-level misses per thousand instructions in the work aliiot adds, %.0f in tshark'"'"'s own. ",
            m, (x > 0 ? 1000 * xm / x : 0), 1000 * (nm - snm) / (ni - sni) }')
}
density=
echo
echo "Simulated caches (callgrind --cache-sim=yes), startup taken out as above:"
echo
echo "| mode | | aliiot (M) | no-plugin (M) | per-frame ratio | aliiot's extra per MQTT packet |"
echo "|---|---|---:|---:|---:|---:|"
cache_rows read -n -r "$F"
cache_rows twopass -n -2 -r "$F"
echo
echo "${density% }"
echo
printf '%s\n' "A first-level miss ratio above the instruction ratio (more misses per thousand instructions" \
    "in aliiot's share than in tshark's own) means aliiot's extra instructions miss the first-level" \
    "caches more often than Wireshark's own do: aliiot's code runs between" \
    "Wireshark's for each packet, so neither stays in the 32 KiB instruction cache, and its data" \
    "(the connection's state, the frame cache) is not in the data cache either. A miss served by the" \
    "second-level cache costs about a dozen cycles, the time of several instructions: that is why" \
    "wall time grows by more than the instruction count."
