#!/usr/bin/env python3
"""A response followed at once by the server's FIN, so the client's single
recv returns the data and consumes the FIN in the same call."""
import socket
import sys
import threading
import time

port = int(sys.argv[1])
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", port))
srv.listen(1)


def serve():
    c, _ = srv.accept()
    c.recv(100)
    c.sendall(b"RESPONSE-THEN-FIN" * 10)
    c.close()


t = threading.Thread(target=serve)
t.start()
cl = socket.create_connection(("127.0.0.1", port))
cl.sendall(b"REQUEST")
time.sleep(0.1)  # data and FIN are both queued before the client reads
data = cl.recv(65536)
assert len(data) == 170, len(data)
cl.close()
t.join()
