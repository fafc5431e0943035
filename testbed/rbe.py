#!/usr/bin/env python3
"""Remote browser emulator in the manner of TPC-W: a closed loop of N emulated
browsers, each sending one page request, waiting for the whole answer, then
thinking for a negative-exponential time (mean --think, capped at ten times
the mean, as TPC-W does) before the next. Pages are drawn from a transaction
mix. Each browser opens a connection per page, or with --keepalive keeps one
open across pages (reopened when the server closes it).

  rbe.py --url http://10.77.1.11 --browsers 100 --duration 30 --think 7 \
         --prefix p100 --out requests.jsonl

Every request carries its test id "<prefix>-<browser>-<n>" in an X-Test-Id
header and in the query string (tid=), which the applications pass
downstream. Writes one JSON line per completed request (tid, transaction,
status, start, latency) to --out and a summary to stdout. The run is bounded:
no request starts after --duration seconds, and stragglers are given
--timeout seconds.
"""
import argparse
import asyncio
import json
import random
import sys
import time
import urllib.parse

# Transaction: (share in percent, path builder). Paths decide the tiers:
# home, product and buy go to the Java tier, search and order to the Python one.
MIX = {
    "home": (30, lambda r: "/home"),
    "search": (20, lambda r: "/search?q=%s" % r.choice(["Alpha", "Beta", "Gamma", "Delta", "Omega"])),
    "product": (25, lambda r: "/product?id=%d" % r.randint(1, 1000)),
    "order": (15, lambda r: "/order?id=%d" % r.randint(1, 1000)),
    "buy": (10, lambda r: "/buy?id=%d" % r.randint(1, 1000)),
}


async def fetch(host, port, path, tid, timeout):
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    try:
        writer.write(("GET %s HTTP/1.1\r\nHost: %s\r\nX-Test-Id: %s\r\nConnection: close\r\n\r\n"
                      % (path, host, tid)).encode())
        await writer.drain()
        data = await asyncio.wait_for(reader.read(), timeout)
    finally:
        writer.close()
    line = data.split(b"\r\n", 1)[0].split()
    return int(line[1]) if len(line) > 1 and line[1].isdigit() else 0


async def read_response(reader, timeout):
    """One HTTP/1.1 response on a kept-alive connection: (status, keep open)."""
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    hdr = {k.strip().lower(): v.strip() for k, _, v in (l.partition(":") for l in lines[1:] if l)}
    if "content-length" in hdr:
        await asyncio.wait_for(reader.readexactly(int(hdr["content-length"])), timeout)
    elif hdr.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size = int((await asyncio.wait_for(reader.readline(), timeout)).split(b";")[0], 16)
            await asyncio.wait_for(reader.readexactly(size + 2), timeout)
            if size == 0:
                break
    else:
        await asyncio.wait_for(reader.read(), timeout)
        return status, False
    return status, hdr.get("connection", "").lower() != "close"


class Persistent:
    """A browser's one connection, reopened when the server closed it."""

    def __init__(self, host, port):
        self.host, self.port, self.rw = host, port, None

    async def fetch(self, path, tid, timeout):
        for attempt in (0, 1):
            fresh = self.rw is None
            if fresh:
                self.rw = await asyncio.wait_for(asyncio.open_connection(self.host, self.port), timeout)
            reader, writer = self.rw
            try:
                writer.write(("GET %s HTTP/1.1\r\nHost: %s\r\nX-Test-Id: %s\r\n\r\n"
                              % (path, self.host, tid)).encode())
                await writer.drain()
                status, keep = await read_response(reader, timeout)
            except (OSError, asyncio.IncompleteReadError):
                self.close()
                if fresh or attempt:
                    raise
                continue  # the server closed an idle connection: once more on a new one
            if not keep:
                self.close()
            return status

    def close(self):
        if self.rw:
            self.rw[1].close()
        self.rw = None


async def browser(b, a, end, out, rng, names, weights):
    host, port = a.host, a.port
    conn = Persistent(host, port) if a.keepalive else None
    # Browsers arrive spread over one think time, not all at once.
    await asyncio.sleep(rng.uniform(0, min(a.think, a.duration / 2)))
    n = 0
    while time.time() < end:
        tx = rng.choices(names, weights)[0]
        tid = "%s-%d-%d" % (a.prefix, b, n)
        n += 1
        path = MIX[tx][1](rng)
        path += ("&" if "?" in path else "?") + "tid=" + tid
        t0 = time.time()
        try:
            if conn:
                status = await conn.fetch(path, tid, a.timeout)
            else:
                status = await fetch(host, port, path, tid, a.timeout)
        except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError, IndexError) as e:
            status = -1
            print("rbe: %s: %s" % (tid, e), file=sys.stderr)
        out.append({"tid": tid, "tx": tx, "path": path, "status": status, "start": t0,
                    "latency": time.time() - t0})
        think = min(rng.expovariate(1.0 / a.think), 10 * a.think) if a.think > 0 else 0
        await asyncio.sleep(min(think, max(0.0, end - time.time())))
    if conn:
        conn.close()


async def run(a):
    rng = random.Random(a.seed)
    names = list(MIX)
    weights = [MIX[n][0] for n in names]
    out = []
    start = time.time()
    end = start + a.duration
    tasks = [asyncio.create_task(browser(b, a, end, out, random.Random(rng.random()), names, weights))
             for b in range(a.browsers)]
    await asyncio.wait(tasks, timeout=a.duration + a.timeout + 1)
    for t in tasks:
        t.cancel()
    return out, time.time() - start


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--browsers", type=int, default=100)
    p.add_argument("--duration", type=float, default=30)
    p.add_argument("--think", type=float, default=7.0, help="mean think time, seconds")
    p.add_argument("--timeout", type=float, default=10.0)
    p.add_argument("--prefix", default="t")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--keepalive", action="store_true",
                   help="one persistent connection per browser instead of one per page")
    p.add_argument("--out", required=True)
    a = p.parse_args()
    u = urllib.parse.urlsplit(a.url)
    a.host, a.port = u.hostname, u.port or 80
    out, wall = asyncio.run(run(a))
    with open(a.out, "w") as f:
        for r in out:
            f.write(json.dumps(r) + "\n")
    ok = [r for r in out if r["status"] == 200]
    lat = sorted(r["latency"] for r in ok)
    summary = {
        "browsers": a.browsers, "duration_s": round(wall, 2), "requests": len(out),
        "ok": len(ok), "errors": len(out) - len(ok),
        "throughput_rps": round(len(ok) / a.duration, 2),
        "latency_mean_ms": round(1000 * sum(lat) / len(lat), 2) if lat else None,
        "latency_p90_ms": round(1000 * lat[int(0.9 * (len(lat) - 1))], 2) if lat else None,
        "latency_p99_ms": round(1000 * lat[int(0.99 * (len(lat) - 1))], 2) if lat else None,
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
