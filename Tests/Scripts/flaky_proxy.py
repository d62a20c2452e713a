"""A fault-injecting HTTP proxy for mlv's retry tests: forwards every request to an upstream
S3 server unchanged (Host header included, so signatures still verify), except that
request number N (counting from 1) is answered with 503 SlowDown when N % 3 == 1, and the
connection is dropped without an answer when N % 5 == 2. Prints its port on stdout and
appends one line per injected fault to FAULT_LOG.

Usage: python flaky_proxy.py http://127.0.0.1:UPSTREAM_PORT FAULT_LOG
"""
import http.client
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

upstream = urlsplit(sys.argv[1])
fault_log = open(sys.argv[2], "a", buffering=1)
count = 0
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def forward(self):
        global count
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        with lock:
            count += 1
            n = count
        if n % 3 == 1:
            fault_log.write(f"fault {n}: 503\n")
            msg = b"<Error><Code>SlowDown</Code><Message>injected</Message></Error>"
            self.send_response(503)
            self.send_header("Content-Length", str(len(msg)))
            self.end_headers()
            self.wfile.write(msg)
            return
        if n % 5 == 2:
            fault_log.write(f"fault {n}: drop\n")
            self.close_connection = True
            self.connection.shutdown(2)
            return
        conn = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=60)
        conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
        for k, v in self.headers.items():
            conn.putheader(k, v)
        conn.endheaders(body)
        r = conn.getresponse()
        data = r.read()
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() not in ("content-length", "transfer-encoding", "connection", "server", "date"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        conn.close()

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = forward


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
