#!/usr/bin/env python3
"""A sensor that speaks weft's wire protocol (docs/protocol.md) without a
kernel: it sends numbered batches of process records and records which the
server acknowledges, reconnecting and sending again whatever is not
acknowledged, as the real sensor's spool does.

  wire_sensor.py --server HOST:PORT --id ID --batches N [--bytes B]
                 [--seconds S] [--acked FILE] [--hello-only]

Prints one JSON line at the end: batches acknowledged, connections made,
and whether every batch was acknowledged before the time ran out. --acked
writes the acknowledged sequence numbers, one a line, as they arrive.
"""
import argparse
import json
import socket
import struct
import sys
import time

HELLO, HELLO_ACK, BATCH, ACK = 1, 2, 3, 4
VERSION = 2  # src/wire/wire.h WIRE_VERSION


def frame(kind, payload):
    return struct.pack("<IBBH", len(payload), VERSION, kind, 0) + payload


def wstr(s):
    b = s.encode()
    return struct.pack("<H", len(b)) + b


def batch(seq, size):
    """One batch of process records adding up to about size bytes."""
    recs, n, pid = [], 0, 1000
    while n < size:
        exe = ("/usr/bin/example-%d-" % seq).ljust(200, "x")
        body = struct.pack("<I", pid) + b"example".ljust(16, b"\0") + wstr(exe)
        recs.append(struct.pack("<BBHI", 2, 0, 0, len(body)) + body)
        n += len(recs[-1])
        pid += 1
    return frame(BATCH, struct.pack("<QI", seq, len(recs)) + b"".join(recs))


def read_frames(sock, buf):
    try:
        data = sock.recv(65536)
    except BlockingIOError:
        return buf, [], False
    except OSError:  # reset: the server went away
        return buf, [], True
    if not data:
        return buf, [], True
    buf += data
    out = []
    while len(buf) >= 8:
        length, _, kind, _ = struct.unpack_from("<IBBH", buf)
        if len(buf) < 8 + length:
            break
        out.append((kind, buf[8:8 + length]))
        buf = buf[8 + length:]
    return buf, out, False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    ap.add_argument("--id", required=True)
    ap.add_argument("--batches", type=int, required=True)
    ap.add_argument("--bytes", type=int, default=4096)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--acked")
    a = ap.parse_args()
    host, port = a.server.rsplit(":", 1)
    acked, connections = set(), 0
    log = open(a.acked, "a") if a.acked else None
    deadline = time.monotonic() + a.seconds
    while len(acked) < a.batches and time.monotonic() < deadline:
        try:
            s = socket.create_connection((host, int(port)), timeout=2)
        except OSError:
            time.sleep(0.2)
            continue
        connections += 1
        try:
            s.sendall(frame(HELLO, wstr(a.id) + wstr(a.id) + struct.pack("<Q", time.time_ns())))
        except OSError:
            s.close()
            time.sleep(0.2)
            continue
        s.setblocking(False)
        buf, sent, closed, last = b"", 0, False, 0
        while not closed and len(acked) < a.batches and time.monotonic() < deadline:
            buf, frames, closed = read_frames(s, buf)
            for kind, p in frames:
                if kind == HELLO_ACK:
                    last = struct.unpack_from("<Q", p)[0]
                    # the server has these: the spool forgets them
                    for q in range(1, last + 1):
                        acked.add(q)
                    sent = last
                elif kind == ACK:
                    q = struct.unpack_from("<Q", p)[0]
                    if q not in acked and log:
                        log.write("%d\n" % q)
                        log.flush()
                    acked.add(q)
            # keep at most 32 unacknowledged batches in flight
            while sent < a.batches and sent - len([q for q in acked if q <= sent]) < 32:
                sent += 1
                if sent in acked:
                    continue
                try:
                    s.setblocking(True)
                    s.sendall(batch(sent, a.bytes))
                    s.setblocking(False)
                except OSError:
                    closed = True
                    break
            time.sleep(0.005)
        s.close()
        if not closed:
            break
        time.sleep(0.2)
    print(json.dumps({"acked": len(acked), "connections": connections,
                      "complete": len(acked) >= a.batches}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
