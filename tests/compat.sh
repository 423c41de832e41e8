#!/usr/bin/env bash
# Build aliiot and run its tshark test suite against other Wireshark series, each inside a Debian
# tree made with debootstrap: trixie (Wireshark 4.4) and sid (Wireshark 4.6). In each tree it
# then builds the Debian package for that Wireshark and checks it (packaging/deb-check.sh:
# lintian, dpkg -i, tshark -G plugins, dpkg -r); the packages are copied to packaging/out/. Last,
# tests/valgrind.sh runs that tshark with the plugin under memcheck over every test capture, and
# tests/fuzz-captures.sh reads mutants of them (FUZZ_N per capture, default 2, FUZZ_SEED as there;
# failing mutants are kept in $ALIIOT_COMPAT_DIR/target-<suite>/fuzz-crashes/): the plugin's calls
# into Wireshark, and how Wireshark's exceptions reach them, differ by version, so each version is
# checked, not only 4.0.
#
#   tests/compat.sh [suite...]          default: trixie sid
#   tests/compat.sh --build [suite...]  only build the plugin in each tree (for bench/compat.sh):
#                                       $ALIIOT_COMPAT_DIR/target-<suite>/release/libaliiot.so
#
# Trees are cached outside the repository, in $ALIIOT_COMPAT_DIR (default /var/cache/aliiot-compat),
# and created when missing. The host's Rust toolchain and cargo registry are bind-mounted into the
# tree, so nothing Rust is installed there; C compiler, libclang, pkg-config, tshark and
# wireshark-dev come from the suite itself. Needs root (debootstrap, chroot, mount).
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
cache=${ALIIOT_COMPAT_DIR:-/var/cache/aliiot-compat}
mirror=${ALIIOT_DEBIAN_MIRROR:-http://deb.debian.org/debian}
build_only=0
if [ "${1:-}" = --build ]; then build_only=1; shift; fi
suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(trixie sid)
pkgs="tshark wireshark-dev libclang-dev gcc libc6-dev pkg-config make ca-certificates util-linux python3 binutils lintian valgrind"

if [ "$(id -u)" -ne 0 ]; then
  echo "compat: needs root (debootstrap and chroot); run: sudo make compat" >&2
  exit 2
fi
if ! command -v debootstrap >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
fi

prepare() {
  local suite=$1 root=$cache/$1
  # The marker holds the package list it was made with: a changed list installs again.
  if [ "$(cat "$root/.aliiot-ready" 2>/dev/null)" = "$pkgs" ]; then return 0; fi
  mkdir -p "$cache"
  if [ ! -f "$root/.aliiot-base" ]; then
    echo "compat: creating the $suite tree in $root (once; cached)"
    rm -rf "$root"
    # debootstrap only the base system: its own resolver trips over library transitions in sid,
    # so the build dependencies are installed by apt inside the tree.
    DEBIAN_FRONTEND=noninteractive debootstrap --variant=minbase "$suite" "$root" "$mirror" \
      >"$cache/$suite.debootstrap.log" 2>&1 || {
        echo "compat: debootstrap $suite failed; see $cache/$suite.debootstrap.log" >&2
        tail -20 "$cache/$suite.debootstrap.log" >&2
        return 1
      }
    touch "$root/.aliiot-base"
  fi
  cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
  # The registry may serve a snapshot whose sid Release file is past its Valid-Until date.
  chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
    sh -c "apt-get -o Acquire::Check-Valid-Until=false update -qq && apt-get install -y -qq --no-install-recommends $pkgs" \
    >>"$cache/$suite.debootstrap.log" 2>&1 || {
      echo "compat: installing build dependencies in $suite failed; see $cache/$suite.debootstrap.log" >&2
      tail -20 "$cache/$suite.debootstrap.log" >&2
      return 1
    }
  echo "$pkgs" >"$root/.aliiot-ready"
}

mounted=()
cleanup() {
  local m
  for ((i=${#mounted[@]}-1; i>=0; i--)); do umount -l "${mounted[$i]}" 2>/dev/null || true; done
}
trap cleanup EXIT

bind() { # src dst [ro]
  mkdir -p "$2"
  mount --bind "$1" "$2"
  mounted+=("$2")
  if [ "${3:-}" = ro ]; then mount -o remount,bind,ro "$2"; fi
}

run_suite() {
  local suite=$1 root=$cache/$1
  prepare "$suite"
  local rustup cargo_home
  rustup=${RUSTUP_HOME:-$(rustup show home 2>/dev/null || echo "$HOME/.rustup")}
  cargo_home=${CARGO_HOME:-$(dirname "$(dirname "$(command -v cargo)")")}
  bind /proc "$root/proc"
  bind /dev "$root/dev"
  bind "$here" "$root/src/aliiot" ro
  bind "$rustup" "$root/opt/rustup" ro
  bind "$cargo_home" "$root/opt/cargo"
  mkdir -p "$cache/target-$suite"
  bind "$cache/target-$suite" "$root/opt/target"
  cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
  local ver
  ver=$(chroot "$root" pkg-config --modversion wireshark)
  echo "compat: $suite — Wireshark $ver"
  if [ $build_only = 1 ]; then
    chroot "$root" /usr/bin/env -i PATH=/opt/cargo/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
      RUSTUP_HOME=/opt/rustup CARGO_HOME=/opt/cargo CARGO_TARGET_DIR=/opt/target \
      bash -c 'cd /src/aliiot && cargo build --release --locked --quiet'
    cleanup
    mounted=()
    return 0
  fi
  chroot "$root" /usr/bin/env -i PATH=/opt/cargo/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
    RUSTUP_HOME=/opt/rustup CARGO_HOME=/opt/cargo CARGO_TARGET_DIR=/opt/target \
    ALIIOT_TEST_TARGET_DIR=/opt/target ${CI:+CI=$CI} ${FUZZ_SEED:+FUZZ_SEED=$FUZZ_SEED} \
    FUZZ_N="${FUZZ_N:-2}" FUZZ_CRASHES=/opt/target/fuzz-crashes \
    bash -c 'cd /src/aliiot && cargo test --release --locked --features panic-hook -- --test-threads=2 &&
      echo "compat: Debian package for this Wireshark (built without the test hook)" &&
      cargo build --release --locked &&
      rm -rf /opt/target/debs && deb=$(packaging/deb.sh /opt/target/release/libaliiot.so /opt/target/debs) &&
      packaging/deb-check.sh "$deb" &&
      echo "compat: valgrind over every test capture" &&
      tests/valgrind.sh /opt/target/release/libaliiot.so &&
      echo "compat: mutated captures" &&
      tests/fuzz-captures.sh /opt/target/release/libaliiot.so "$FUZZ_N"'
  mkdir -p "$here/packaging/out"
  cp "$cache/target-$suite/debs/"*.deb "$here/packaging/out/"
  cleanup
  mounted=()
}

for s in "${suites[@]}"; do
  run_suite "$s"
done
