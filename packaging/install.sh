#!/usr/bin/env bash
# Installs or removes the aliiot plugin.
#
#   packaging/install.sh install PLUGIN.so [SERIES]   SERIES (X.Y) the plugin was built for
#   packaging/install.sh uninstall
#
# A normal user gets the personal plugin folder (~/.local/lib/wireshark/plugins/X.Y/epan);
# root gets the global one, because Wireshark run as root ignores personal plugin folders.
# The folders are the ones tshark itself reports (tshark -G folders).
set -euo pipefail

die() { echo "install: $*" >&2; exit 1; }
command -v tshark >/dev/null || die "tshark not found (apt-get install tshark)"

running=$(tshark --version | sed -n 's/^TShark (Wireshark) \([0-9]*\.[0-9]*\)\..*/\1/p' | head -1)
[ -n "$running" ] || die "cannot tell tshark's version"

folder() { # "Personal Plugins" or "Global Plugins"
  tshark -G folders 2>/dev/null | awk -F'\t' -v k="$1:" '{ sub(/ +$/, "", $1) } $1 == k { print $2 }' | head -1
}

if [ "$(id -u)" -eq 0 ]; then scope="Global Plugins"; else scope="Personal Plugins"; fi
base=$(folder "$scope")
[ -n "$base" ] || die "tshark -G folders does not list the $scope folder"
# tshark reports .../plugins/X.Y (or .../plugins); the plugin goes in its epan/ subfolder.
case "$base" in
  */"$running") dir="$base/epan" ;;
  *) dir="$base/$running/epan" ;;
esac

case "${1:-}" in
  install)
    plugin=${2:-}
    [ -f "$plugin" ] || die "usage: install.sh install PLUGIN.so [SERIES]"
    built=${3:-}
    if [ -n "$built" ] && [ "$built" != "$running" ]; then
      die "this aliiot.so was built for Wireshark $built, but tshark here is $running: Wireshark only loads plugins built for its own X.Y. Rebuild on this machine (make install) or install the build for $running."
    fi
    mkdir -p "$dir"
    install -m 0644 "$plugin" "$dir/aliiot.so"
    echo "install: $dir/aliiot.so ($scope)"
    err=$(tshark -G plugins 2>&1 >/dev/null || true)
    if ! tshark -G plugins 2>/dev/null | grep -q "^aliiot.so"; then
      die "installed, but tshark does not load it: ${err:-no message}"
    fi
    if [ -n "$err" ]; then echo "install: tshark says: $err" >&2; fi
    tshark -G plugins 2>/dev/null | grep "^aliiot.so"
    ;;
  uninstall)
    if [ -f "$dir/aliiot.so" ]; then
      rm -f "$dir/aliiot.so"
      echo "uninstall: removed $dir/aliiot.so"
    else
      echo "uninstall: no aliiot.so in $dir"
    fi
    ;;
  *)
    die "usage: install.sh install PLUGIN.so [SERIES] | uninstall"
    ;;
esac
