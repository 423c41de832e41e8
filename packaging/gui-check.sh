#!/usr/bin/env bash
# Checks the plugin in the real Wireshark GUI and takes the docs' screenshots (packet list,
# details, and the README's I/O Graph of a property).
#
#   packaging/gui-check.sh <path-to-aliiot.so> [out-dir]    (out-dir: <repo>/docs/screenshots)
#
# Starts Wireshark (Qt) on a private Xvfb display with a throwaway HOME holding only this plugin and
# the "Alibaba Cloud IoT" profile, opens tests/captures/01-aliyun-iot-mqtt-basic.pcapng with the
# tutorial device's secret and the filter aliiot.product_key == "a1B2c3D4e5F", selects the CONNECT
# (frame 4) and writes out-dir/packet-list.png (the profile's aliiot columns) and out-dir/details.png
# (the aliiot subtree expanded). Fails if Wireshark does not start, does not load the plugin, rejects
# the filter or shows any dialog, if the details pane does not show aliiot's fields (checked through
# the clipboard) or a screenshot is blank. Runs as root (then Wireshark runs as nobody: it ignores
# personal plugins as root) or as any user. The PNGs are the same byte for byte from run to run.
# Needs wireshark-qt xvfb xdotool xclip imagemagick (optipng if present). Takes about 10 s.
set -euo pipefail

die() { echo "gui-check: FAIL: $*" >&2; exit 1; }
if [ $# -lt 1 ] || [ $# -gt 2 ]; then echo "usage: $0 <path-to-aliiot.so> [out-dir]" >&2; exit 2; fi
root=$(cd "$(dirname "$0")/.." && pwd)
plugin=$1 out=${2:-$root/docs/screenshots}
capture=$root/tests/captures/01-aliyun-iot-mqtt-basic.pcapng
profile="Alibaba Cloud IoT"
secret='uat:aliiot_device_secrets:"a1B2c3D4e5F","lab-sensor-01","3f1d0c9e8b7a6d5c4b3a29180f7e6d01"'
filter='aliiot.product_key == "a1B2c3D4e5F"'
frame=4
[ -f "$plugin" ] || die "no plugin file at $1"
for tool in wireshark Xvfb xdotool xclip import convert compare; do
  command -v "$tool" >/dev/null || die "$tool is not installed (apt-get install wireshark-qt xvfb xdotool xclip imagemagick)"
done
series=$(pkg-config --modversion wireshark 2>/dev/null | cut -d. -f1,2 || true)
[ -n "$series" ] || series=$(wireshark -v 2>/dev/null | sed -n '1s/.* \([0-9]*\.[0-9]*\)\..*/\1/p')
[ -n "$series" ] || die "cannot tell the Wireshark version (pkg-config or wireshark -v)"

# A throwaway HOME: the plugin, the profile, window geometry; readable by nobody when we are root.
tmp=$(mktemp -d /tmp/gui-check.XXXXXX)
xvfb_pid="" ws_pid=""
cleanup() {
  if [ -n "$ws_pid" ] && kill "$ws_pid" 2>/dev/null; then
    for _ in $(seq 20); do kill -0 "$ws_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$ws_pid" 2>/dev/null || true
  fi
  if [ -n "$xvfb_pid" ]; then kill "$xvfb_pid" 2>/dev/null || true; wait "$xvfb_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
home=$tmp/home conf=$tmp/home/.config/wireshark
mkdir -p "$home/.local/lib/wireshark/plugins/$series/epan" "$conf/profiles/$profile" "$tmp/empty" "$home/run"
cp "$plugin" "$home/.local/lib/wireshark/plugins/$series/epan/aliiot.so"
cp "$root/packaging/profile/$profile/"* "$conf/profiles/$profile/"
cp "$capture" "$tmp/"
cat >"$conf/recent_common" <<'EOF'
gui.geometry_main_x: 0
gui.geometry_main_y: 0
gui.geometry_main_width: 1400
gui.geometry_main_height: 900
gui.geometry_main_maximized: FALSE
gui.last_used_profile: Alibaba Cloud IoT
privs.warn_if_elevated: FALSE
sys.warn_if_no_capture: FALSE
EOF
cat >"$conf/profiles/$profile/recent" <<'EOF'
gui.byte_view_show: FALSE
gui.packet_diagram_show: FALSE
gui.geometry_main_upper_pane: 200
column.width:
	%m, 50, %t, 70, %s, 80, %d, 80, %p, 55,
	"%Cus:aliiot.device_name", 115, "%Cus:aliiot.product_key", 95,
	"%Cus:aliiot.topic.class", 85, "%Cus:aliiot.alink.method", 95,
	"%Cus:aliiot.alink.code or aliiot.login.code", 45, "%Cus:aliiot.response_time", 75, %i, 600
EOF
chmod -R a+rX "$tmp"
as_user=()
if [ "$(id -u)" = 0 ]; then
  chown -R 65534:65534 "$home" # Wireshark writes its recent files and runtime dir in there
  as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups)
fi
chmod 700 "$home/run"

# A free X display: Xvfb picks the number and writes it to fd 3.
Xvfb -displayfd 3 -screen 0 1400x900x24 -nolisten tcp 3>"$tmp/display" >"$tmp/xvfb.log" 2>&1 &
xvfb_pid=$!
for _ in $(seq 100); do [ -s "$tmp/display" ] && break; sleep 0.1; done
[ -s "$tmp/display" ] || die "Xvfb did not start: $(cat "$tmp/xvfb.log")"
DISPLAY=:$(head -1 "$tmp/display"); export DISPLAY

# Wireshark; setpriv and env exec, so $! is Wireshark's own pid.
"${as_user[@]}" env HOME="$home" XDG_CONFIG_HOME="$home/.config" XDG_RUNTIME_DIR="$home/run" \
  WIRESHARK_PLUGIN_DIR="$tmp/empty" DISPLAY="$DISPLAY" \
  wireshark -C "$profile" -o "$secret" -r "$tmp/$(basename "$capture")" -Y "$filter" -g "$frame" \
  >"$tmp/wireshark.log" 2>&1 &
ws_pid=$!
alive() { kill -0 "$ws_pid" 2>/dev/null; }
log() { sed 's/^/  wireshark: /' "$tmp/wireshark.log"; }
exited() { # Wireshark refuses aliiot's -o preference when the plugin did not load
  log >&2
  grep -q "Unknown preference" "$tmp/wireshark.log" && die "the plugin is not loaded: Wireshark $1 on the unknown aliiot preference"
  die "Wireshark $1"
}
title() { xdotool getwindowname "$1" 2>/dev/null || true; } # the window may close meanwhile
loaded() { grep -qs '/aliiot\.so$' "/proc/$ws_pid/maps"; }
dialog() { # dialog WINDOW: fail, keeping a screenshot (a Qt message box's text cannot be read here)
  local name; name=$(title "$1"); sleep 1; alive || exited "exited"
  import -window root "$tmp.png"; log >&2
  loaded || die "aliiot.so is not loaded in Wireshark, which shows a dialog \"$name\" (screenshot: $tmp.png)"
  die "Wireshark shows a dialog \"$name\", a rejected filter? (screenshot: $tmp.png)"
}
win="" # the main window, once its title is the capture's name (the file is read)
for _ in $(seq 120); do
  alive || exited "exited early"
  for w in $(xdotool search --onlyvisible --classname wireshark 2>/dev/null); do
    case "$(title "$w")" in
      *"$(basename "$capture")"*) win=$w ;;
      "" | "The Wireshark Network Analyzer") ;; # gone already, or the main window without the capture
      *) dialog "$w" ;;
    esac
  done
  [ -n "$win" ] && break
  sleep 0.5
done
[ -n "$win" ] || { log >&2; die "no Wireshark window with the capture within 60 s"; }
sleep 2 # let it finish filtering and select the packet
alive || exited "exited"
echo "gui-check: Wireshark $series (pid $ws_pid) is up on display $DISPLAY: $(title "$win")"

# The checks: plugin mapped, nothing about plugins or filters on stderr, no dialog on screen.
loaded || { log >&2; die "aliiot.so is not loaded in Wireshark"; }
if grep -Eiq "couldn.t load|plugin|filter|invalid|unknown preference|aliiot\." "$tmp/wireshark.log"; then
  log >&2; die "Wireshark complained on stderr"
fi
for w in $(xdotool search --onlyvisible --classname wireshark 2>/dev/null); do
  [ "$w" = "$win" ] || dialog "$w"
done
echo "gui-check: aliiot.so is loaded, the filter $filter is accepted, no error dialog"

# Screenshots: crop regions fit the recent file above (1400x900, list pane 200 px, no bytes pane).
mkdir -p "$out"
shot() { # shot NAME GEOMETRY: the screen region, in 256 colours, checked not to be blank
  import -window root "$tmp/screen.png"
  convert "$tmp/screen.png" -crop "$2" +repage +dither -colors 256 -strip -define png:exclude-chunks=date,time "PNG8:$tmp/$1"
  local colours; colours=$(convert "$tmp/$1" -format %k info:)
  [ "$colours" -ge 16 ] || die "$1 looks blank ($colours colours)"
}
shot packet-list.png 1400x291+0+0
shot collapsed.png 1400x581+0+296
# Details: click into the tree (no window manager: a click gives the focus, windowfocus loses the
# first key), expand the aliiot item (the last top-level one) with all its subtrees, fold the two
# expert-info items at its end back to one line each, reselect it, and copy the visible tree
# (Edit › Copy › All Visible Items) to check what the screenshot shows.
xdotool mousemove --window "$win" 700 850 click 1
sleep 0.5
for k in End End shift+Right End Left Left Up Left Left Home Down Down Down Down Down ctrl+alt+shift+a; do
  xdotool key "$k"; sleep 0.15
done
sleep 1
shot details.png 1400x581+0+296
tree=$(timeout 5 xclip -o -selection clipboard 2>/dev/null || true)
for want in "Alibaba Cloud IoT, lab-sensor-01 (a1B2c3D4e5F), sign verified" "Device name: lab-sensor-01" \
  "Product key: a1B2c3D4e5F" "Sign: Verified" "Expert Info (Warning/Security)"; do
  grep -qF "$want" <<<"$tree" || { echo "$tree" >&2; die "the details pane does not show \"$want\""; }
done
grep -q "Arrival Time\|Severity level" <<<"$tree" && { echo "$tree" >&2; die "the details pane shows more than aliiot"; }
changed=$(compare -metric AE "$tmp/collapsed.png" "$tmp/details.png" null: 2>&1 || true)
[ "${changed%% *}" -gt 20000 ] 2>/dev/null || die "the details pane did not change on expanding aliiot ($changed pixels)"
alive || exited "exited while taking screenshots"

# The I/O Graph of the README: a second Wireshark on the temperature series (capture 39) with the
# thermostat's thing model, the profile's io_graphs table holding one graph,
# AVG(aliiot.property.value_num) of the packets with aliiot.property.name == "CurrentTemperature";
# `-z io,stat` opens Statistics › I/O Graphs. Fails if the dialog does not open or draws no line.
kill "$ws_pid" 2>/dev/null || true
for _ in $(seq 50); do alive || break; sleep 0.1; done
series=$root/tests/captures/39-tsl-temperature-series.pcapng
cp "$series" "$tmp/"
mkdir -p "$tmp/tsl" && cp "$root/tests/tsl/lab/thermostat.json" "$tmp/tsl/"
printf '%s\n' '# This file is automatically generated, DO NOT MODIFY.' \
  '"TRUE","Current temperature (°C)","aliiot.property.name == \x22CurrentTemperature\x22","#d62728","Line","AVG(Y Field)","aliiot.property.value_num","None","1"' \
  >"$conf/profiles/$profile/io_graphs"
chmod -R a+rX "$tmp"
if [ "$(id -u)" = 0 ]; then chown -R 65534:65534 "$home"; fi
"${as_user[@]}" env HOME="$home" XDG_CONFIG_HOME="$home/.config" XDG_RUNTIME_DIR="$home/run" \
  WIRESHARK_PLUGIN_DIR="$tmp/empty" DISPLAY="$DISPLAY" \
  wireshark -C "$profile" -o "aliiot.tsl_folder:$tmp/tsl" -r "$tmp/$(basename "$series")" -z io,stat \
  >"$tmp/wireshark.log" 2>&1 &
ws_pid=$!
graph=""
for _ in $(seq 120); do
  alive || exited "exited before the I/O Graph opened"
  for w in $(xdotool search --onlyvisible --classname wireshark 2>/dev/null); do
    case "$(title "$w")" in *"I/O Graphs"*) graph=$w ;; esac
  done
  [ -n "$graph" ] && break
  sleep 0.5
done
[ -n "$graph" ] || { log >&2; die "no I/O Graphs window within 60 s"; }
sleep 3 # the graph is drawn once the capture is tapped
alive || exited "exited while drawing the I/O Graph"
import -window "$graph" "$tmp/graph-window.png"
convert "$tmp/graph-window.png" +dither -colors 256 -strip -define png:exclude-chunks=date,time "PNG8:$tmp/io-graph.png"
# The line is red (#d62728): enough red pixels means it was drawn.
red=$(convert "$tmp/graph-window.png" -fuzz 15% -fill black +opaque "#d62728" -fill white -opaque "#d62728" \
  -format "%[fx:round(mean*w*h)]" info:)
[ "$red" -ge 300 ] || die "the I/O Graph shows no line ($red red pixels)"
echo "gui-check: the I/O Graph of aliiot.property.value_num is drawn ($red pixels of its line)"

cp "$tmp/packet-list.png" "$tmp/details.png" "$tmp/io-graph.png" "$out/"
if command -v optipng >/dev/null; then optipng -quiet -o2 "$out/packet-list.png" "$out/details.png" "$out/io-graph.png"; fi
echo "gui-check: OK: screenshots in $out:"
for f in packet-list.png details.png io-graph.png; do echo "  $out/$f ($(stat -c %s "$out/$f") bytes)"; done
