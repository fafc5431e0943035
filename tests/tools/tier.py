#!/usr/bin/env python3
"""One tier of a multi-tier test application, or its client.

  tier.py serve --name front --port 8001 [--next http://127.0.0.1:8002/middle]
                [--delay SECONDS]
      A thread-per-request HTTP server. GET /<name>/<id> calls <next>/<id> when
      a next tier is given (keep-alive, one connection per serving thread),
      waits --delay, then answers 200. /<name>/<id>?fail=1 answers 503.
  tier.py client --url http://127.0.0.1:8001/front --threads 4 --requests 25
      Closed loop: each thread sends its requests on one keep-alive
      connection; ids are "<thread>-<n>". Prints the ids it completed.
"""
import argparse
import http.client
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Tier(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    local = threading.local()

    def log_message(self, *args):
        pass

    def downstream(self, ident):
        nxt = urllib.parse.urlsplit(self.server.next_url)
        conn = getattr(Tier.local, "conn", None)
        if conn is None:
            conn = http.client.HTTPConnection(nxt.hostname, nxt.port, timeout=10)
            Tier.local.conn = conn
        try:
            conn.request("GET", "%s/%s" % (nxt.path, ident))
            resp = conn.getresponse()
            resp.read()
            return resp.status
        except (OSError, http.client.HTTPException):
            conn.close()
            Tier.local.conn = None
            return 502

    def do_GET(self):
        path, _, query = self.path.partition("?")
        ident = path.rsplit("/", 1)[-1]
        status = 200
        if self.server.next_url:
            status = self.downstream(ident)
        if "fail=1" in query:
            status = 503
        if self.server.delay:
            time.sleep(self.server.delay)
        body = ("%s %s\n" % (self.server.name, ident)).encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def serve(args):
    srv = ThreadingHTTPServer((args.host, args.port), Tier)
    srv.daemon_threads = True
    srv.name = args.name
    srv.next_url = args.next
    srv.delay = args.delay
    print("listening", flush=True)
    srv.serve_forever()


def client(args):
    url = urllib.parse.urlsplit(args.url)
    done = []
    lock = threading.Lock()

    def run(t):
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
        for n in range(args.requests):
            ident = "%s%d-%d" % (args.prefix, t, n)
            conn.request("GET", "%s/%s" % (url.path, ident))
            r = conn.getresponse()
            r.read()
            if r.status == 200:
                with lock:
                    done.append(ident)
            if args.pause:
                time.sleep(args.pause)
        conn.close()

    threads = [threading.Thread(target=run, args=(t,)) for t in range(args.threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("\n".join(done))
    return 0 if len(done) == args.threads * args.requests else 1


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--name", required=True)
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--next", default="")
    s.add_argument("--delay", type=float, default=0.0, help="seconds before each answer")
    c = sub.add_parser("client")
    c.add_argument("--url", required=True)
    c.add_argument("--threads", type=int, default=4)
    c.add_argument("--requests", type=int, default=25)
    c.add_argument("--pause", type=float, default=0.0)
    c.add_argument("--prefix", default="", help="prefix of the request ids")
    args = p.parse_args()
    sys.exit(serve(args) if args.cmd == "serve" else client(args))


if __name__ == "__main__":
    main()
