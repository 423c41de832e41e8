#!/usr/bin/env bash
# Builds a Debian package of the plugin for the Wireshark installed here:
#   packaging/deb.sh PLUGIN.so [OUTDIR]      (make deb)
# The package installs aliiot.so into $(pkg-config --variable=plugindir wireshark)/epan and
# depends on the exact libwireshark package it was built against, since Wireshark loads a plugin
# only in the X.Y it was built for.
set -euo pipefail
plugin=${1:?usage: deb.sh PLUGIN.so [OUTDIR]}
out=${2:-packaging/out}
here=$(cd "$(dirname "$0")/.." && pwd)

version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$here/Cargo.toml" | head -1)
plugindir=$(pkg-config --variable=plugindir wireshark)
lib=$(ls "$(pkg-config --variable=libdir wireshark)"/libwireshark.so.* | head -1)
libpkg=$(dpkg -S "$(readlink -f "$lib")" | cut -d: -f1)
libver=$(dpkg-query -W -f='${Version}' "$libpkg")
series=$(pkg-config --modversion wireshark | cut -d. -f1,2)
arch=$(dpkg --print-architecture)
name=wireshark-plugin-aliiot
debver="$version-1+ws$series"

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
install -d "$stage/DEBIAN" "$stage$plugindir/epan" "$stage/usr/share/doc/$name"
install -m 0644 "$plugin" "$stage$plugindir/epan/aliiot.so"
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$stage$plugindir/epan/aliiot.so"
cat >"$stage/usr/share/doc/$name/copyright" <<COPY
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: aliiot

Files: *
Copyright: 2026 aliiot contributors
License: GPL-2+
 This program is free software; you can redistribute it and/or modify it under the terms of the
 GNU General Public License as published by the Free Software Foundation; either version 2 of the
 License, or (at your option) any later version.
 .
 On Debian systems, the full text of the GNU General Public License version 2 can be found in
 /usr/share/common-licenses/GPL-2.
COPY
cat >"$stage/usr/share/doc/$name/changelog.Debian" <<LOG
$name ($debver) unstable; urgency=medium

  * Build of aliiot $version for Wireshark $series.

 -- aliiot maintainers <aliiot@aliiot.dev>  $(date -R -d @"${SOURCE_DATE_EPOCH:-$(git -C "$here" log -1 --format=%ct 2>/dev/null || date +%s)}")
LOG
gzip -9n "$stage/usr/share/doc/$name/changelog.Debian"
size=$(du -k -s "$stage" | cut -f1)
cat >"$stage/DEBIAN/control" <<CTRL
Package: $name
Version: $debver
Architecture: $arch
Maintainer: aliiot maintainers <aliiot@aliiot.dev>
Installed-Size: $size
Depends: $libpkg (= $libver), libc6, libgcc-s1
Section: net
Priority: optional
Homepage: https://localhost/aliiot
Description: Wireshark plugin for Alibaba Cloud IoT device traffic
 Adds the aliiot layer on top of Wireshark's MQTT dissector: which product and
 device a session belongs to, whether its login sign verifies, what each
 message is, which reply answered it and how fast, and how the session ended.
CTRL
mkdir -p "$out"
deb="$out/${name}_${debver}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >/dev/null
echo "$deb"
