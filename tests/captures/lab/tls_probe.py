"""Capture 27: one TCP connection to 127.0.0.1:1883 whose only client payload is the 10 bytes
  16 03 01 00 05 41 42 43 44 45
(they look like the start of a TLS handshake record - content type 0x16, version 3.1, length 5 - but
the 5 'record' bytes 'ABCDE' are no handshake message, and as MQTT 0x16 would be a CONNECT with
reserved flags 0110 and remaining length 3), then the client's FIN.  The server side is a bare TCP
listener (not an MQTT broker) that reads until end of stream and closes without sending anything.
Usage: tls_probe.py server [PORT]   |   tls_probe.py client [PORT]
"""
import socket
import sys
import time

PROBE = bytes.fromhex("16030100054142434445")


def server(port):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(1)
    print("probe-server: listening", file=sys.stderr, flush=True)
    c, peer = ls.accept()
    got = b""
    while True:
        d = c.recv(4096)
        if not d:
            break
        got += d
    print("probe-server: got", got.hex(), "from", peer, file=sys.stderr, flush=True)
    c.close()
    ls.close()


def client(port):
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    time.sleep(0.05)
    s.sendall(PROBE)
    time.sleep(0.1)
    s.shutdown(socket.SHUT_WR)
    while s.recv(4096):
        pass
    s.close()


if __name__ == "__main__":
    role = sys.argv[1] if len(sys.argv) > 1 else ""
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 1883
    {"server": server, "client": client}.get(role, lambda _p: sys.exit(__doc__))(port)
