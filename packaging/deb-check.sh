#!/usr/bin/env bash
# Builds the Debian package (make deb), checks it with lintian (errors fail), installs it, checks
# that tshark loads the plugin from the package, removes it and checks nothing is left. Needs root.
#   packaging/deb-check.sh [PACKAGE.deb]      (default: make deb, then check what it built)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v lintian >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq lintian >/dev/null; }
if [ $# -ge 1 ]; then
  deb=$1   # a package built already (make compat builds one inside each Debian tree)
else
  make deb
  deb=$(ls -t packaging/out/wireshark-plugin-aliiot_*.deb | head -1)
fi
report=$(lintian --tag-display-limit 0 "$deb" 2>&1 | grep -v 'root privileges' || true)
echo "${report:-lintian: no tags}"
if grep -q '^E:' <<<"$report"; then echo "deb-check: lintian errors" >&2; exit 1; fi
dpkg -i "$deb" >/dev/null
trap 'dpkg -r wireshark-plugin-aliiot >/dev/null 2>&1 || true' EXIT
tshark -G plugins 2>/dev/null | grep -q "^aliiot.so.*$(pkg-config --variable=plugindir wireshark)/epan/aliiot.so" \
  || { echo "deb-check: tshark does not load the packaged plugin" >&2; exit 1; }
dpkg -r wireshark-plugin-aliiot >/dev/null
trap - EXIT
if tshark -G plugins 2>/dev/null | grep -q '^aliiot.so'; then echo "deb-check: plugin still loaded after dpkg -r" >&2; exit 1; fi
echo "deb-check: $deb builds, passes lintian, installs, loads and removes cleanly"
