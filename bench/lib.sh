# shellcheck shell=bash
# Sourced by bench/run.sh, bench/instructions.sh and bench/pair.sh (which define die): which
# tshark is measured, this machine's or the one in a Debian tree named by BENCH_ROOT (make
# compat's, say), and how a command runs as that tshark does.

# bench_root: ROOT, the tree (empty: this machine), checked; AS, the prefix that runs a command as
# the measured tshark runs: in the tree with chroot as nobody, or here as nobody when root (root's
# Wireshark ignores personal plugin folders), else as it is.
bench_root() {
    ROOT=${BENCH_ROOT:-}
    AS=()
    if [ -n "$ROOT" ]; then
        ROOT=$(readlink -f "$ROOT")
        [ "$(id -u)" = 0 ] || die "BENCH_ROOT needs root (chroot)"
        [ -x "$ROOT/usr/bin/tshark" ] || die "no tshark in $ROOT"
        AS=(chroot --userspec=65534:65534 "$ROOT" /usr/bin/env -i PATH=/usr/bin:/bin)
    else
        command -v tshark >/dev/null || die "tshark is not installed (apt-get install tshark)"
        if [ "$(id -u)" = 0 ]; then
            command -v setpriv >/dev/null || die "setpriv is missing (util-linux)"
            AS=(setpriv --reuid=65534 --regid=65534 --clear-groups)
        fi
    fi
}

# tshark_version: the first line of the measured tshark's --version.
tshark_version() {
    if [ -n "$ROOT" ]; then chroot "$ROOT" /usr/bin/env -i PATH=/usr/bin:/bin tshark --version 2>/dev/null | head -1
    else tshark --version 2>/dev/null | head -1; fi
}

# bench_series: SERIES, the measured Wireshark's X.Y (the plugin folder's name).
bench_series() {
    if [ -z "$ROOT" ] && command -v pkg-config >/dev/null && pkg-config --exists wireshark; then
        SERIES=$(pkg-config --modversion wireshark | cut -d. -f1,2)
    else
        SERIES=$(tshark_version | sed -n '1s/^TShark (Wireshark) \([0-9]*\.[0-9]*\).*/\1/p')
    fi
    [ -n "$SERIES" ] || die "cannot tell the Wireshark series (X.Y)"
}

# bench_tmp NAME: TMP, a new folder as this script sees it, and IN, the same folder as tshark sees
# it (inside the tree, when there is one). The caller removes it.
bench_tmp() {
    mkdir -p "$ROOT/tmp"
    TMP=$(mktemp -d "$ROOT/tmp/$1.XXXXXX")
    IN=${TMP#"$ROOT"}
}

# bench_home NAME [PLUGIN]: a private HOME for a variant, TMP/home-NAME, with PLUGIN in its
# personal plugin folder when given, and the empty global plugin folder every variant shares.
bench_home() {
    mkdir -p "$TMP/home-$1" "$TMP/no-global-plugins"
    if [ -n "${2:-}" ]; then
        mkdir -p "$TMP/home-$1/.local/lib/wireshark/plugins/$SERIES/epan"
        cp "$2" "$TMP/home-$1/.local/lib/wireshark/plugins/$SERIES/epan/aliiot.so"
    fi
}

# bench_env NAME: ENV, the prefix that runs a command (tshark, or valgrind running it) with the
# HOME of bench_home NAME, as the measured tshark runs (AS), in the same environment every time.
bench_env() {
    ENV=("${AS[@]}" env -u WIRESHARK_CONFIG_DIR HOME="$IN/home-$1"
         WIRESHARK_PLUGIN_DIR="$IN/no-global-plugins" LC_ALL=C.UTF-8 TZ=UTC)
}

# bench_capture FILE: makes sure tshark can read FILE where it runs: inside the tree, a hard link
# (a copy where the file system refuses one) in TMP/cap; here, as nobody when root, a check that
# nobody can. bench_at FILE then gives its path as tshark sees it.
bench_capture() {
    if [ -z "$ROOT" ]; then
        [ ${#AS[@]} -eq 0 ] || "${AS[@]}" test -r "$1" ||
            die "user nobody cannot read $1 (make the folders on its path world-readable, or copy it under /tmp)"
        return 0
    fi
    mkdir -p "$TMP/cap"
    ln -f "$1" "$TMP/cap/" 2>/dev/null || cp "$1" "$TMP/cap/"
    chmod a+r "$TMP/cap/$(basename "$1")"
}
bench_at() {
    if [ -n "$ROOT" ]; then echo "$IN/cap/$(basename "$1")"; else echo "$1"; fi
}
