#!/usr/bin/env bash
# Installs what building and testing aliiot needs on Debian/Ubuntu, only what is missing:
# tshark, the Wireshark headers (wireshark-dev), libclang (for bindgen), pkg-config and a C
# compiler. Rust (cargo) must already be installed (https://rustup.rs or Debian's cargo).
set -euo pipefail

missing=()
command -v tshark >/dev/null || missing+=(tshark)
pkg-config --exists wireshark 2>/dev/null || missing+=(wireshark-dev)
command -v pkg-config >/dev/null || missing+=(pkg-config)
command -v cc >/dev/null || missing+=(gcc)
if ! ldconfig -p 2>/dev/null | grep -q 'libclang\(-[0-9.]*\)\?\.so'; then missing+=(libclang-dev); fi
command -v setpriv >/dev/null || missing+=(util-linux)
command -v python3 >/dev/null || missing+=(python3)   # tests generate their large capture
command -v nm >/dev/null || missing+=(binutils)       # tests check the plugin's exported symbols

if ((${#missing[@]})); then
  echo "deps: installing ${missing[*]}"
  if [ "$(id -u)" -eq 0 ]; then sudo=(); elif command -v sudo >/dev/null; then sudo=(sudo); else
    echo "deps: missing ${missing[*]}; install them as root: apt-get install ${missing[*]}" >&2
    exit 1
  fi
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if ! command -v cargo >/dev/null; then
  echo "deps: cargo not found; install Rust (rustup, or: apt-get install cargo) and run again" >&2
  exit 1
fi
