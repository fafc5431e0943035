#!/usr/bin/env python3
"""A two-tier test application for the Autoprofiler: an HTTP web tier in
front of Redis. Every request does a fixed amount of CPU work and two Redis
round trips (INCR, GET) on the worker thread's own connection. Several
worker processes share the port (SO_REUSEPORT), each threaded, so the tier
uses more than one CPU despite Python's global lock. Every process names
itself (comm) with --comm so that ps and weft can tell it from other Pythons."""
import argparse
import ctypes
import hashlib
import os
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def set_comm(name):
    ctypes.CDLL(None).prctl(15, name.encode()[:15], 0, 0, 0)  # PR_SET_NAME


class Redis:
    def __init__(self, host, port):
        self.sock = socket.create_connection((host, port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.rf = self.sock.makefile("rb")

    def call(self, *args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            a = a.encode()
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.sock.sendall(out)
        line = self.rf.readline()
        if line[:1] == b"$":
            n = int(line[1:])
            return None if n < 0 else self.rf.read(n + 2)[:-2]
        if line[:1] == b"-":
            raise RuntimeError(line.decode().strip())
        return line[1:].strip()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--redis", default="127.0.0.1:6379")
    p.add_argument("--work", type=int, default=400, help="sha256 rounds per request")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--comm", default="weft-shop")
    a = p.parse_args()
    rhost, rport = a.redis.rsplit(":", 1)
    local = threading.local()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # headers and body go out in two writes: without this, Nagle's
        # algorithm holds the body until the client's delayed ACK (40 ms)
        disable_nagle_algorithm = True

        def log_message(self, *args):
            pass

        def do_GET(self):
            if not hasattr(local, "redis"):
                local.redis = Redis(rhost, int(rport))
            h = b"x" * 64
            for _ in range(a.work):
                h = hashlib.sha256(h).digest()
            n = local.redis.call("INCR", "visits")
            item = local.redis.call("GET", "item:%d" % (int(n) % 100)) or b"none"
            body = b"item %s after %s\n" % (item, n)
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 256

        def server_bind(self):
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            super().server_bind()

    for _ in range(a.workers - 1):
        if os.fork() == 0:
            break
    set_comm(a.comm)
    srv = Server(("0.0.0.0", a.port), Handler)
    print("listening on %d (pid %d)" % (a.port, os.getpid()), flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
