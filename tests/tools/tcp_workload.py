#!/usr/bin/env python3
"""A threaded TCP server and client with known behaviour, for the sensor's tests.

Each client thread opens one connection and runs ROUNDS request/response
exchanges; requests rotate through write, send, sendmsg, writev and sendfile,
responses likewise on the server. Every system call that moved bytes is
logged as a JSON line: {"role","pid","tid","op","method","len","sport","dport"},
which the checker compares with what the sensor reported.
"""
import argparse
import json
import os
import socket
import struct
import sys
import tempfile
import threading

METHODS = ["write", "send", "sendmsg", "writev", "sendfile"]
log_lock = threading.Lock()


def log(out, sock, role, op, method, n):
    local, peer = sock.getsockname(), sock.getpeername()
    rec = {"role": role, "pid": os.getpid(), "tid": threading.get_native_id(), "op": op,
           "method": method, "len": n, "sport": local[1], "dport": peer[1]}
    with log_lock:
        out.write(json.dumps(rec) + "\n")
        out.flush()


def send_all(out, sock, role, method, data, tmpdir):
    """Sends data with one system call of the given kind (loops only on short writes)."""
    fd = sock.fileno()
    off = 0
    if method == "sendfile":
        path = os.path.join(tmpdir, "sf-%d" % threading.get_native_id())
        with open(path, "wb") as f:
            f.write(data)
        with open(path, "rb") as f:
            while off < len(data):
                n = os.sendfile(fd, f.fileno(), off, len(data) - off)
                log(out, sock, role, "send", method, n)
                off += n
        os.unlink(path)
        return
    while off < len(data):
        chunk = data[off:]
        if method == "write":
            n = os.write(fd, chunk)
        elif method == "send":
            n = sock.send(chunk)
        elif method == "sendmsg":
            n = sock.sendmsg([chunk])
        else:  # writev: two buffers, header and body
            n = os.writev(fd, [chunk[:8], chunk[8:]])
        log(out, sock, role, "send", method, n)
        off += n


def recv_exact(out, sock, role, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(min(65536, n - len(buf)))
        if not chunk:
            raise EOFError("peer closed")
        log(out, sock, role, "recv", "recv", len(chunk))
        buf += chunk
    return buf


def message(kind, i, size):
    """A message: 4-byte length, then a recognizable text body."""
    body = ("%s %d " % (kind, i)).encode()
    body += b"x" * max(0, size - 4 - len(body))
    return struct.pack("!I", len(body)) + body


def serve_conn(out, conn, args, tmpdir):
    try:
        i = 0
        while True:
            hdr = conn.recv(4)
            if not hdr:
                break
            log(out, conn, "server", "recv", "recv", len(hdr))
            if len(hdr) < 4:
                hdr += recv_exact(out, conn, "server", 4 - len(hdr))
            (n,) = struct.unpack("!I", hdr)
            recv_exact(out, conn, "server", n)
            send_all(out, conn, "server", METHODS[i % len(METHODS)],
                     message("RESP", i, args.resp_size), tmpdir)
            i += 1
    finally:
        conn.close()


def run_server(args, out, tmpdir):
    fam = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    srv = socket.socket(fam, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((args.host, args.port))
    srv.listen(64)
    print("listening", flush=True)
    threads = []
    for _ in range(args.threads):
        conn, _ = srv.accept()
        t = threading.Thread(target=serve_conn, args=(out, conn, args, tmpdir))
        t.start()
        threads.append(t)
    for t in threads:
        t.join()
    srv.close()


def client_thread(out, args, tmpdir, errors):
    try:
        fam = socket.AF_INET6 if ":" in args.host else socket.AF_INET
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.settimeout(10)
        s.connect((args.host, args.port))
        for i in range(args.rounds):
            send_all(out, s, "client", METHODS[i % len(METHODS)],
                     message("REQ", i, args.req_size), tmpdir)
            hdr = recv_exact(out, s, "client", 4)
            (n,) = struct.unpack("!I", hdr)
            recv_exact(out, s, "client", n)
        s.close()
    except Exception as e:  # reported, and the exit status says so
        errors.append(repr(e))


def run_client(args, out, tmpdir):
    errors = []
    threads = [threading.Thread(target=client_thread, args=(out, args, tmpdir, errors))
               for _ in range(args.threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        print("client errors: %s" % errors, file=sys.stderr)
        sys.exit(1)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["server", "client"])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--threads", type=int, default=4)
    p.add_argument("--rounds", type=int, default=10)
    p.add_argument("--req-size", type=int, default=300)
    p.add_argument("--resp-size", type=int, default=2000)
    p.add_argument("--log", required=True)
    args = p.parse_args()
    with open(args.log, "w") as out, tempfile.TemporaryDirectory() as tmpdir:
        (run_server if args.mode == "server" else run_client)(args, out, tmpdir)


if __name__ == "__main__":
    main()
