#!/usr/bin/env python3
"""The models experiment's load generator: N client threads, each keeping one
HTTP/1.1 connection open across its requests (reopened when the server
closes it), each sending a request, reading the whole answer, then waiting a
short random think time before the next. Bounded by a total number of
requests and by time: no request starts after --duration seconds or once
--requests have been started.

  models_load.py --url http://10.77.3.11 --path /n/item --clients 50 \
                 --requests 4000 --duration 25 --prefix nginx --out requests.jsonl

Every request is GET <path>?id=<1..1000>&k=<1..3>&tid=<prefix>-<client>-<n>;
the test id is unique and the tiers pass it downstream. Writes one JSON line
per request (tid, target, status, start, latency) to --out and a summary to
stdout.
"""
import argparse
import http.client
import json
import random
import sys
import threading
import time


class Client:
    def __init__(self, host, port, timeout):
        self.host, self.port, self.timeout, self.conn = host, port, timeout, None

    def get(self, target):
        for attempt in (0, 1):
            fresh = self.conn is None
            if fresh:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                self.conn.request("GET", target)
                r = self.conn.getresponse()
                r.read()
                if r.getheader("connection", "").lower() == "close":
                    self.close()
                return r.status
            except (OSError, http.client.HTTPException):
                self.close()
                if fresh or attempt:
                    raise
                # the server closed an idle connection: once more on a new one

    def close(self):
        if self.conn:
            self.conn.close()
        self.conn = None


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--path", required=True)
    p.add_argument("--clients", type=int, default=50)
    p.add_argument("--requests", type=int, default=4000)
    p.add_argument("--duration", type=float, default=25)
    p.add_argument("--think", type=float, default=0.02, help="mean think time, seconds")
    p.add_argument("--timeout", type=float, default=10)
    p.add_argument("--prefix", required=True)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", required=True)
    a = p.parse_args()
    host, _, port = a.url.split("//", 1)[1].partition(":")
    port = int(port or 80)
    lock = threading.Lock()
    started = [0]
    out = []
    end = time.time() + a.duration

    def client(c):
        rng = random.Random(a.seed * 1000 + c)
        cl = Client(host, port, a.timeout)
        time.sleep(rng.uniform(0, 0.5))  # arrivals spread over half a second
        n = 0
        while time.time() < end:
            with lock:
                if started[0] >= a.requests:
                    break
                started[0] += 1
            tid = "%s-%d-%d" % (a.prefix, c, n)
            n += 1
            target = "%s?id=%d&k=%d&tid=%s" % (a.path, rng.randint(1, 1000), rng.randint(1, 3), tid)
            t0 = time.time()
            try:
                status = cl.get(target)
            except (OSError, http.client.HTTPException) as e:
                status = -1
                print("load: %s: %r" % (tid, e), file=sys.stderr)
            rec = {"tid": tid, "target": target, "status": status, "start": t0, "latency": time.time() - t0}
            with lock:
                out.append(rec)
            if a.think > 0:
                time.sleep(min(rng.expovariate(1.0 / a.think), 10 * a.think))
        cl.close()

    t0 = time.time()
    threads = [threading.Thread(target=client, args=(c,), daemon=True) for c in range(a.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(a.duration + a.timeout * 2 + 5)
    wall = time.time() - t0
    with lock:
        done = list(out)
    with open(a.out, "w") as f:
        for r in done:
            f.write(json.dumps(r) + "\n")
    ok = [r for r in done if r["status"] == 200]
    lat = sorted(r["latency"] for r in ok)
    print(json.dumps({
        "clients": a.clients, "duration_s": round(wall, 2), "requests": len(done), "ok": len(ok),
        "errors": len(done) - len(ok), "throughput_rps": round(len(ok) / max(wall, 1e-9), 2),
        "latency_mean_ms": round(1000 * sum(lat) / len(lat), 2) if lat else None,
        "latency_p99_ms": round(1000 * lat[int(0.99 * (len(lat) - 1))], 2) if lat else None,
    }))


if __name__ == "__main__":
    main()
