#!/usr/bin/env python3
"""Copies a little-endian pcapng file, changing a TCP port in every Ethernet/IPv4 packet
(both directions). Used to make 28-mqtt-tls-on-443.pcapng from 22-tls-on-1883.pcapng: the same
TLS session and embedded keys, as if the device had connected to port 443.

    rewrite_port.py IN OUT OLD_PORT NEW_PORT

TCP checksums are left as they are (Wireshark does not check them by default)."""
import struct
import sys


def main(src, dst, old, new):
    data = bytearray(open(src, "rb").read())
    i = 0
    while i + 12 <= len(data):
        kind, length = struct.unpack_from("<II", data, i)
        if kind == 6:  # Enhanced Packet Block
            caplen = struct.unpack_from("<I", data, i + 20)[0]
            pkt = i + 28
            if caplen >= 34 and data[pkt + 12:pkt + 14] == b"\x08\x00" and data[pkt + 23] == 6:
                ihl = (data[pkt + 14] & 0x0F) * 4
                tcp = pkt + 14 + ihl
                for off in (tcp, tcp + 2):
                    if struct.unpack_from(">H", data, off)[0] == old:
                        struct.pack_into(">H", data, off, new)
        i += length
    open(dst, "wb").write(data)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
