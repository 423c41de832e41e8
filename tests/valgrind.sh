#!/usr/bin/env bash
# Runs tshark with aliiot under valgrind's memcheck over every test capture and fails if any error
# is attributed to aliiot.
#
#   tests/valgrind.sh <aliiot.so>            (JOBS=n valgrinds at once, default: the CPU count)
#
# Each capture is read in the mode that exercises the most of the plugin, two passes with the
# full tree and hex dump and the lab device's secret (so the sign check runs):
#   valgrind tshark -2 -nVxr <capture> -o 'uat:aliiot_device_secrets:…'
# with WIRESHARK_DEBUG_WMEM_OVERRIDE=simple and G_SLICE=always-malloc, as Wireshark's own
# tools/valgrind-wireshark.sh does, so every allocation goes through malloc where memcheck sees it.
#
# Wireshark, GLib and the libraries under them have errors and leaks of their own that are not
# aliiot's, so the verdict does not use valgrind's exit status: every run writes its errors as XML
# (--xml=yes) and an error counts against aliiot when one frame of its stack (for a leak, of the
# allocation's stack) is in the plugin: the object is aliiot.so, or the function is one of the C
# shim's (shim_*) or the plugin's Rust code (aliiot::…). Memory errors of every kind are reported;
# of leaks, only "definitely lost" blocks (still-reachable and possibly-lost blocks at exit are
# caches and globals, not bugs). aliiot's registration, done once per process, is held to the same
# rule: in 4.0 to 4.6 Wireshark uses its field and expert arrays in place and aliiot keeps pointers
# to them (src/epan/registry.rs), so they stay reachable.
# The script prints the totals and, for each distinct error attributed to aliiot, its kind, what
# valgrind says, the runs it appeared in and its stack (aliiot's frames marked *).
# Takes about 10 s per capture (tshark's start-up under memcheck dominates): about 4 min for the
# 42 captures with JOBS=2 on a 2-core machine. tests/compat.sh runs it in its 4.4 and 4.6 trees.
# Exit: 0 none attributed to aliiot, 1 some, 2 setup problem (no valgrind, plugin not loaded, a
# valgrind run that produced no report).
set -uo pipefail

if [ $# -lt 1 ] || [ ! -f "$1" ]; then
    echo "usage: $0 <aliiot.so>" >&2
    exit 2
fi
here=$(cd "$(dirname "$0")/.." && pwd)
plugin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
JOBS=${JOBS:-$(nproc)}
SECRET='uat:aliiot_device_secrets:"a1B2c3D4e5F","lab-sensor-01","3f1d0c9e8b7a6d5c4b3a29180f7e6d01"'
for tool in valgrind tshark python3; do
    command -v $tool >/dev/null || { echo "valgrind.sh: $tool not found" >&2; exit 2; }
done
series=$(pkg-config --modversion wireshark 2>/dev/null | cut -d. -f1,2)
[ -n "$series" ] || series=$(tshark --version | head -1 | grep -oE '[0-9]+\.[0-9]+' | head -1)

work=$(mktemp -d /tmp/aliiot-valgrind.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/home/.local/lib/wireshark/plugins/$series/epan" "$work/empty" "$work/caps" "$work/xml"
cp "$plugin" "$work/home/.local/lib/wireshark/plugins/$series/epan/aliiot.so"
chmod -R a+rwX "$work"

as_user() {
    local env=(env HOME="$work/home" WIRESHARK_PLUGIN_DIR="$work/empty"
        WIRESHARK_DEBUG_WMEM_OVERRIDE=simple G_SLICE=always-malloc)
    if [ "$(id -u)" -eq 0 ]; then
        # Wireshark ignores personal plugin folders when run as root.
        setpriv --reuid=65534 --regid=65534 --clear-groups "${env[@]}" "$@"
    else
        "${env[@]}" "$@"
    fi
}

if ! as_user tshark -G plugins 2>/dev/null | grep -q '^aliiot'; then
    echo "valgrind.sh: tshark $series does not load $plugin (tshark -G plugins does not list aliiot)" >&2
    exit 2
fi

caps=()
for cap in "$here"/tests/captures/*.pcap "$here"/tests/captures/*.pcapng; do
    [ -f "$cap" ] || continue
    cp "$cap" "$work/caps/"
    caps+=("$(basename "$cap")")
done
chmod -R a+r "$work/caps"
echo "== valgrind: ${#caps[@]} captures, tshark -2 -nVxr with aliiot from $plugin, $JOBS at once"

one() {
    local name=$1 start
    start=$(date +%s)
    as_user valgrind --tool=memcheck --xml=yes --xml-file="$work/xml/$name.xml" \
        --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite \
        --num-callers=50 --error-limit=no --child-silent-after-fork=yes \
        tshark -2 -nVxr "$work/caps/$name" -o "$SECRET" >/dev/null 2>"$work/xml/$name.stderr"
    echo "   $name: tshark exit $?, $(( $(date +%s) - start )) s"
}

start=$(date +%s)
for name in "${caps[@]}"; do
    while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do
        wait -n
    done
    one "$name" &
done
wait
elapsed=$(( $(date +%s) - start ))

python3 - "$work/xml" "$elapsed" "${caps[@]}" <<'EOF'
import os
import sys
import xml.etree.ElementTree as ET

xml_dir, elapsed, caps = sys.argv[1], sys.argv[2], sys.argv[3:]


def ours(frame):
    obj = frame.findtext("obj") or ""
    fn = frame.findtext("fn") or ""
    return (os.path.basename(obj) in ("aliiot.so", "libaliiot.so") or fn.startswith("shim_")
            or "aliiot::" in fn)


def frames(err):
    return [fr for st in err.findall("stack") for fr in st.findall("frame")]


def what(err):
    if err.find("xwhat") is not None:
        return err.find("xwhat").findtext("text") or ""
    return err.findtext("what") or ""


def stack_text(err):
    lines = []
    for fr in frames(err):
        where = fr.findtext("fn") or "???"
        if fr.findtext("file"):
            where += f" ({fr.findtext('file')}:{fr.findtext('line')})"
        obj = os.path.basename(fr.findtext("obj") or "?")
        lines.append(f"      {'*' if ours(fr) else ' '} {where}  [{obj}]")
    return "\n".join(lines)


total = 0
kinds = {}
mine = {}  # stack -> (kind, what, [captures])
missing = []
for name in caps:
    try:
        root = ET.parse(os.path.join(xml_dir, name + ".xml")).getroot()
    except (OSError, ET.ParseError):
        missing.append(name)
        continue
    for err in root.findall("error"):
        total += 1
        kind = err.findtext("kind") or "?"
        kinds[kind] = kinds.get(kind, 0) + 1
        fs = frames(err)
        if not any(ours(fr) for fr in fs):
            continue
        mine.setdefault(stack_text(err), (kind, what(err), []))[2].append(name)

n_mine = sum(len(v[2]) for v in mine.values())
print(f"\n== valgrind summary: {len(caps)} captures in {elapsed} s; {total} errors in all "
      f"({', '.join(f'{k} {v}' for k, v in sorted(kinds.items())) or 'none'}); "
      f"{n_mine} attributed to aliiot")
for stack, (kind, text, names) in mine.items():
    print(f"-- {kind}: {text}\n   in {len(names)} run(s): {', '.join(names)}\n{stack}")
if missing:
    print("no valgrind report for: " + ", ".join(missing))
    for name in missing:
        try:
            print(open(os.path.join(xml_dir, name + ".stderr")).read()[-2000:])
        except OSError:
            pass
    sys.exit(2)
sys.exit(1 if mine else 0)
EOF
