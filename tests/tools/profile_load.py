#!/usr/bin/env python3
"""A small HTTP server that burns CPU per request, and a client that keeps it
busy for a while and says how many bytes it moved, for the profiling tests.

  profile_load.py serve --port P [--host H] [--threads N] [--burn K]
      answers every POST with --reply bytes after summing range(K); keeps N
      extra threads asleep (a process with many threads); prints "listening".
  profile_load.py client --port P [--host H] [--seconds S] [--body B]
      POSTs B-byte bodies on fresh connections for S seconds (at most 2000
      requests); prints {"requests","request_bytes","response_bytes"}, where
      the byte counts are everything written to and read from the sockets.
"""
import argparse
import http.server
import json
import socket
import sys
import threading
import time


def serve(a):
    reply = b"r" * a.reply

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def do_POST(self):
            n = int(self.headers.get("Content-Length", "0"))
            self.rfile.read(n)
            sum(range(a.burn))
            self.send_response(200)
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args):
            pass

    for _ in range(a.threads):
        threading.Thread(target=time.sleep, args=(3600,), daemon=True).start()
    srv = http.server.ThreadingHTTPServer((a.host, a.port), Handler)
    print("listening", flush=True)
    srv.serve_forever()


def client(a):
    body = b"q" * a.body
    head = ("POST /load HTTP/1.0\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body)).encode()
    end = time.monotonic() + a.seconds
    n = sent = got = 0
    while time.monotonic() < end and n < 2000:
        with socket.create_connection((a.host, a.port), timeout=5) as s:
            s.sendall(head + body)
            sent += len(head) + len(body)
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                got += len(chunk)
        n += 1
    json.dump({"requests": n, "request_bytes": sent, "response_bytes": got}, sys.stdout)
    print()


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--threads", type=int, default=0)
    s.add_argument("--burn", type=int, default=20000)
    s.add_argument("--reply", type=int, default=2048)
    c = sub.add_parser("client")
    c.add_argument("--host", default="127.0.0.1")
    c.add_argument("--port", type=int, required=True)
    c.add_argument("--seconds", type=float, default=2.0)
    c.add_argument("--body", type=int, default=4096)
    a = p.parse_args()
    serve(a) if a.cmd == "serve" else client(a)


if __name__ == "__main__":
    main()
