"""Server of capture 26: a plain HTTPS/1.1 server on 127.0.0.1:443 (Python http.server + ssl, the lab
certificate) that answers POST /auth with a small JSON body, so that the capture is ordinary HTTPS on
port 443 (the port Alibaba's wss endpoint uses) and must stay HTTPS in Wireshark.  The client is curl.
Usage: https_server.py CERT KEY [PORT]   (runs until killed)
"""
import http.server
import json
import ssl
import sys


class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "aliiot-lab-https/1"
    sys_version = ""

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        print("https:", self.path, body[:100], file=sys.stderr, flush=True)
        out = json.dumps({"code": 0, "message": "success",
                          "info": {"token": "lab-https-token-0123456789abcdef"}}, separators=(",", ":")).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(out)
        self.close_connection = True

    def log_message(self, *a):
        pass


def main(cert, key, port=443):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    srv = http.server.HTTPServer(("127.0.0.1", port), H)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    srv.serve_forever()


if __name__ == "__main__":
    a = sys.argv[1:]
    if len(a) < 2:
        sys.exit(__doc__)
    main(a[0], a[1], *([int(a[2])] if len(a) > 2 else []))
