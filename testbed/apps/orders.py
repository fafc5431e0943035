#!/usr/bin/env python3
"""The testbed's second application tier, in Python: search, order status and
stock, on a thread-per-connection HTTP server, talking to PostgreSQL
(psycopg2, simple query protocol) and Redis (RESP over a plain socket).

  orders.py --port 8000 --db HOST --cache HOST --log FILE [--pool 16]

Every request carries a test id (X-Test-Id, also tid= in the query string);
one JSON line per request goes to FILE: the request served and every call
made for it. That log is the ground truth; weft never reads it.

Database and cache connections are opened at start into a pool, so no
request opens one; the thread that serves a request makes its calls itself.
"""
import argparse
import json
import queue
import socket
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg2


class Redis:
    def __init__(self, host):
        self.sock = socket.create_connection((host, 6379))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.rf = self.sock.makefile("rb")

    def call(self, *args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            a = a.encode()
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.sock.sendall(out)
        line = self.rf.readline().rstrip(b"\r\n")
        if line.startswith(b"$") and line != b"$-1":
            return self.rf.readline().rstrip(b"\r\n").decode()
        return line[1:].decode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        path, _, query = self.path.partition("?")
        params = dict(urllib.parse.parse_qsl(query))
        tid = self.headers.get("X-Test-Id") or params.get("tid", "")
        ident = int(params.get("id", "1")) if params.get("id", "1").isdigit() else 1
        calls, status, body = [], 200, ""
        srv = self.server
        db, cache = srv.dbs.get(), srv.caches.get()
        try:
            cur = db.cursor()
            if path == "/search":
                word = "".join(ch for ch in params.get("q", "a") if ch.isalnum())[:16]
                cur.execute("SELECT id, title FROM item WHERE title LIKE %s ORDER BY id LIMIT 10",
                            (word + "%",))
                calls.append({"svc": "db", "req": cur.query.decode()})
                body = "; ".join("%d %s" % r for r in cur.fetchall())
            elif path == "/order":
                body = "cached %s" % cache.call("GET", "order:%d" % ident)
                calls.append({"svc": "cache", "req": "REDIS GET"})
                cur.execute("SELECT status, qty FROM orders WHERE id = %s", (ident,))
                calls.append({"svc": "db", "req": cur.query.decode()})
                body += " %s" % (cur.fetchone(),)
            elif path == "/stock":
                body = cache.call("DECR", "stock:%d" % ident)
                calls.append({"svc": "cache", "req": "REDIS DECR"})
            else:
                status = 404
            cur.close()
        except Exception as e:  # report it as a failed request, keep serving
            status, body = 500, repr(e)
        finally:
            srv.dbs.put(db)
            srv.caches.put(cache)
        data = (body + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        line = json.dumps({"tid": tid, "svc": "orders", "req": "GET " + self.path,
                           "status": status, "calls": calls})
        with srv.log_lock:
            srv.log.write(line + "\n")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="0.0.0.0")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--db", required=True)
    p.add_argument("--cache", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--pool", type=int, default=16)
    a = p.parse_args()
    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer.request_queue_size = 512
    srv = ThreadingHTTPServer((a.host, a.port), Handler)
    srv.dbs, srv.caches = queue.Queue(), queue.Queue()
    for _ in range(a.pool):
        conn = psycopg2.connect(host=a.db, dbname="bookstore", user="bookstore")
        conn.autocommit = True  # no BEGIN before each statement
        srv.dbs.put(conn)
        srv.caches.put(Redis(a.cache))
    srv.log = open(a.log, "a", buffering=1)
    srv.log_lock = threading.Lock()
    print("orders: listening on %d" % a.port, file=sys.stderr, flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
