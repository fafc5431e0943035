#!/usr/bin/env python3
"""HTTPS requests over one keep-alive connection, the certificate not
checked (the test's own, self-signed): each PATH gets a GET, printed as
"PATH STATUS".

    https_client.py HOST PORT PATH...
"""
import http.client
import ssl
import sys


def main():
    host, port, paths = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    conn = http.client.HTTPSConnection(host, port, context=ctx, timeout=10)
    for path in paths:
        conn.request("GET", path)
        r = conn.getresponse()
        r.read()
        print(path, r.status, flush=True)
    conn.close()


if __name__ == "__main__":
    main()
