#!/usr/bin/env python3
"""A client and a server on loopback whose messages' first bytes span
several buffers: the client sends with writev and with sendmsg (three
segments each), the server reads with readv and recvmsg into three small
buffers. Prints, as JSON, each call's port pair and the bytes it moved, so a
test can compare them with the sensor's events.

    iovec_pair.py PORT
"""
import json
import os
import socket
import sys
import threading

REQUESTS = [
    ("writev", [b"GET /", b"iovec/first-segment-short", b" HTTP/1.1\r\nHost: a\r\n\r\n"]),
    ("sendmsg", [b"POS", b"T /sendmsg/three", b"-segments HTTP/1.1\r\nHost: b\r\n\r\n"]),
]
REPLY = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"


def recv_exact(read, n):
    got = b""
    while len(got) < n:
        chunk = read(n - len(got))
        if not chunk:
            raise EOFError
        got += chunk
    return got


def serve(lsock, out):
    conn, _ = lsock.accept()
    with conn:
        for i, (_, segs) in enumerate(REQUESTS):
            want = sum(len(s) for s in segs)
            bufs = [bytearray(4), bytearray(9), bytearray(want)]
            if i == 0:
                n = os.readv(conn.fileno(), bufs)
                how = "readv"
            else:
                n, _, _, _ = conn.recvmsg_into(bufs)
                how = "recvmsg"
            data = b"".join(bytes(b) for b in bufs)[:n]
            if n < want:
                data += recv_exact(conn.recv, want - n)
            out.append({"call": how, "port": conn.getsockname()[1], "first": data[:n].decode()})
            conn.sendall(REPLY)


def main():
    port = int(sys.argv[1])
    lsock = socket.socket()
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", port))
    lsock.listen(1)
    seen = []
    t = threading.Thread(target=serve, args=(lsock, seen))
    t.start()
    c = socket.create_connection(("127.0.0.1", port), timeout=5)
    sent = []
    for how, segs in REQUESTS:
        if how == "writev":
            n = os.writev(c.fileno(), segs)
        else:
            n = c.sendmsg(segs)
        assert n == sum(len(s) for s in segs), "short send"
        sent.append({"call": how, "port": c.getsockname()[1], "first": b"".join(segs).decode()})
        recv_exact(c.recv, len(REPLY))
    c.close()
    t.join(10)
    lsock.close()
    json.dump({"sent": sent, "received": seen}, sys.stdout)


if __name__ == "__main__":
    main()
