#!/usr/bin/env python3
"""A steady stream of small request/response messages on one loopback
connection, for a bounded time and count: keeps a sensor's rings busy."""
import argparse
import socket
import threading
import time

ap = argparse.ArgumentParser()
ap.add_argument("--port", type=int, required=True)
ap.add_argument("--seconds", type=float, default=5)
ap.add_argument("--max", type=int, default=200000)
a = ap.parse_args()

srv = socket.create_server(("127.0.0.1", a.port))


def serve():
    c, _ = srv.accept()
    with c:
        while c.recv(64):
            c.sendall(b"pong")


threading.Thread(target=serve, daemon=True).start()
cli = socket.create_connection(("127.0.0.1", a.port))
end = time.monotonic() + a.seconds
n = 0
while n < a.max and time.monotonic() < end:
    cli.sendall(b"ping")
    cli.recv(64)
    n += 1
cli.close()
print(n)
