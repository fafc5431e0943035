#!/usr/bin/env python3
"""Fills a weft database (schema already created by `weft server`) with a
synthetic system for the dashboard's performance test: SERVICES services in
applications of 30, in tiers of six that each call the next tier or two,
EDGES distinct edges with a few calls each in the last ten minutes, and
TRAJECTORIES trajectories in all (the older ones spread over a day, one span
each), so the map is big and the trajectory list long.

  synth_db.py --db weft.db [--services 300] [--edges 1000] [--trajectories 1000000]
"""
import argparse
import random
import sqlite3
import time

PER_APP, PER_TIER = 30, 6
SVC_BASE = 0x5EED000000
TRAJ_BASE = 0x7A00000000


def plan_edges(n_svc, n_edges, rnd):
    """Edges within each application, from one tier into the next one or two."""
    tiers = PER_APP // PER_TIER

    def tier_members(app, t):
        if t >= tiers:
            return []
        first = app * PER_APP + t * PER_TIER
        return [x for x in range(first, first + PER_TIER) if x < n_svc]

    edges, seen = [], set()

    def add(a, b):
        if (a, b) not in seen:
            seen.add((a, b))
            edges.append((a, b))

    for i in range(n_svc):  # every service below the first tier has a caller
        app, t = divmod(i, PER_APP)[0], (i % PER_APP) // PER_TIER
        if t > 0:
            add(rnd.choice(tier_members(app, t - 1)), i)
    tries = 0
    while len(edges) < n_edges and tries < n_edges * 200:
        tries += 1
        a = rnd.randrange(n_svc)
        t = (a % PER_APP) // PER_TIER + (2 if rnd.random() < 0.25 else 1)
        nxt = tier_members(a // PER_APP, t)
        if nxt:
            add(a, rnd.choice(nxt))
    return edges


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--db", required=True)
    p.add_argument("--services", type=int, default=300)
    p.add_argument("--edges", type=int, default=1000)
    p.add_argument("--trajectories", type=int, default=1000000)
    p.add_argument("--calls", type=int, default=4, help="recent calls per edge")
    a = p.parse_args()
    rnd = random.Random(7)
    now = time.time_ns()
    db = sqlite3.connect(a.db)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    with db:
        db.executemany(
            "INSERT OR REPLACE INTO services VALUES (?,?,?,?,?,0,'',?,?)",
            [(SVC_BASE + i, "h%d" % (i % 20), "/usr/bin/svc-%d" % i, "svc-%d" % i, 8000 + i,
              now - 86400 * 10**9, now) for i in range(a.services)])
        edges = plan_edges(a.services, a.edges, rnd)
        db.execute("CREATE TEMP TABLE e (k INTEGER PRIMARY KEY, src INTEGER, dst INTEGER)")
        db.executemany("INSERT INTO e VALUES (?,?,?)", [(k, SVC_BASE + s, SVC_BASE + d) for k, (s, d) in enumerate(edges)])
        ne, recent = len(edges), len(edges) * a.calls
        # Trajectory x: the recent ones (x < recent) within the last ten minutes
        # go round the edges; the rest spread over the day before.
        db.execute("""
            CREATE TEMP TABLE t AS
            WITH RECURSIVE c(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM c WHERE x + 1 < :n)
            SELECT x, :base + x * 7919 AS id,
                   CASE WHEN x < :recent THEN :now - (x * 600000000000 / :recent) - 1000000
                        ELSE :now - 600000000000 - ((x - :recent) * 86400000000000 / (:n - :recent + 1)) END AS start,
                   (abs(x * 2654435761 % 50000000) + 200000) AS dur,
                   x % :ne AS k,
                   (x % 97 = 0) AS err
            FROM c""", {"n": a.trajectories, "base": TRAJ_BASE, "recent": recent, "now": now, "ne": ne})
        db.execute("""
            INSERT OR REPLACE INTO trajectories
            SELECT t.id, t.start, t.dur, e.dst, 'GET /api/v1/item/' || t.x, 1, 1, t.err, 0, t.id, t.id,
                   json_array(t.start)  -- span_starts: the one span's start_ns
            FROM t JOIN e ON e.k = t.k""")
        db.execute("""
            INSERT OR REPLACE INTO spans
            SELECT t.id, 0, t.id, 0, e.src, e.dst, t.start, t.dur, 8000 + (e.dst - :sb),
                   1, 'h' || ((e.src - :sb) % 20), 1000 + (e.src - :sb), 1000 + (e.src - :sb), 'svc-' || (e.src - :sb),
                   '10.0.0.1', 40000, t.start, t.start + t.dur,
                   1, 'h' || ((e.dst - :sb) % 20), 1000 + (e.dst - :sb), 2000 + (t.x % 8), 'svc-' || (e.dst - :sb),
                   '10.0.0.2', 8000 + (e.dst - :sb), t.start + 100000, t.start + t.dur - 100000,
                   0, 1, 'GET /api/v1/item/' || t.x, CASE WHEN t.err THEN 503 ELSE 200 END, t.err,
                   CASE WHEN t.err THEN 'HTTP 503' ELSE '' END, 0, 200, 900,
                   -- c_proc, s_proc: any integer unique to a (host, pid) pair
                   ((e.src - :sb) % 20) * 100000 + 1000 + (e.src - :sb),
                   ((e.dst - :sb) % 20) * 100000 + 2000 + (t.x % 8),
                   0, 0  -- link (a root), incomplete
            FROM t JOIN e ON e.k = t.k""", {"sb": SVC_BASE})
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    print("%d services, %d edges, %d trajectories (%d in the last ten minutes)" %
          (a.services, ne, a.trajectories, recent))


if __name__ == "__main__":
    main()
