#!/usr/bin/env python3
"""The models experiment's backend: a thread-per-connection HTTP/1.1 server
(keep-alive) that makes k Redis calls per request, or none (--role leaf).

  backend.py --role back --port 8000 --cache HOST --log FILE
  backend.py --role leaf --port 8001 --log FILE

Any path is served. The query string says what to do: k (1 to 3) Redis calls,
in this order, GET item:<id>, INCR hits:<tid>, DEL hits:<tid>; weft names
them "REDIS GET", "REDIS INCR", "REDIS DEL". Every request carries its test id
as tid= in the query string. One JSON line per request goes to FILE: the test
id, this tier's role, the request served ("GET <target>") and the calls made
for it in order, and the client's address and port (which connection it came
on). That log is the ground truth; weft never reads it.

Redis connections are opened at start into a pool, so no request opens one;
the thread that serves a request makes its calls itself.
"""
import argparse
import json
import queue
import socket
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

REDIS_CALLS = (("GET", "item:{id}"), ("INCR", "hits:{tid}"), ("DEL", "hits:{tid}"))


class Redis:
    def __init__(self, host):
        h, _, port = host.partition(":")  # HOST[:PORT]
        self.sock = socket.create_connection((h, int(port or 6379)))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.rf = self.sock.makefile("rb")

    def call(self, *args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            a = a.encode()
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.sock.sendall(out)
        line = self.rf.readline().rstrip(b"\r\n")
        if line.startswith(b"-"):
            raise RuntimeError(line.decode())
        if line.startswith(b"$") and line != b"$-1":
            return self.rf.readline().rstrip(b"\r\n").decode()
        return line[1:].decode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        srv = self.server
        params = dict(urllib.parse.parse_qsl(self.path.partition("?")[2]))
        tid = params.get("tid", "")
        calls, status, body = [], 200, srv.role
        try:
            k = int(params.get("k", "0")) if srv.caches else 0
            if k:
                cache = srv.caches.get()
                try:
                    for cmd, key in REDIS_CALLS[:k]:
                        body += " " + cache.call(cmd, key.format(id=params.get("id", "1"), tid=tid))
                        calls.append({"svc": "cache", "req": "REDIS " + cmd})
                finally:
                    srv.caches.put(cache)
        except Exception as e:  # a failed request, reported; keep serving
            status, body = 500, repr(e)
        data = (body + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        line = json.dumps({"tid": tid, "svc": srv.role, "req": "GET " + self.path, "status": status,
                           "calls": calls, "peer": "%s:%d" % self.client_address[:2]})
        with srv.log_lock:
            srv.log.write(line + "\n")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--role", default="back")
    p.add_argument("--host", default="0.0.0.0")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--cache")
    p.add_argument("--log", required=True)
    p.add_argument("--pool", type=int, default=16)
    a = p.parse_args()
    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer.request_queue_size = 512
    srv = ThreadingHTTPServer((a.host, a.port), Handler)
    srv.role = a.role
    srv.caches = None
    if a.cache:
        srv.caches = queue.Queue()
        for _ in range(a.pool):
            srv.caches.put(Redis(a.cache))
    srv.log = open(a.log, "a", buffering=1)
    srv.log_lock = threading.Lock()
    print("%s: listening on %d" % (a.role, a.port), file=sys.stderr, flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
