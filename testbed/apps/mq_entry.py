#!/usr/bin/env python3
"""The message-queue experiment's entry: an HTTP/1.1 server, thread per
connection (keep-alive), that hands each request's work to RabbitMQ.

  mq_entry.py --host ADDR --port 8080 --broker ADDR --log FILE [--pool 64]

  GET /mq/call?id=I&k=K&tid=T   oslo.messaging RPC call: topic "weft", method
                                work(tid, id, k); answers 200 once the reply is in
  GET /mq/cast?id=I&k=K&tid=T   the same as an RPC cast: answers right after it
  GET /mq/queue?id=I&k=K&tid=T  pika: a persistent message on the durable queue
                                "work" (default exchange, routing key "work",
                                message_id T); answers once it is published

One JSON line per request goes to FILE (see mq_common.py): its calls are the
publishes it made, with the exchange and routing key they went out with.
oslo.messaging's are taken where its RabbitMQ driver sends them
(Connection.topic_send), so the log says what went on the wire whatever
oslo's defaults are. oslo's connection pool is filled and each connection
used once at start (mq_common.prime_oslo). Pika's BlockingConnection is not
thread-safe: a pool of connections opened at start, each used by one thread
at a time, no publisher confirms.
"""
import argparse
import json
import queue
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import mq_common

TOPIC = "weft"
WORK_QUEUE = "work"
local = threading.local()


def trace_oslo_publishes():
    from oslo_messaging._drivers import impl_rabbit

    orig = impl_rabbit.Connection.topic_send

    def topic_send(self, exchange_name, topic, msg, *args, **kwargs):
        sent = getattr(local, "sent", None)
        if sent is not None:
            sent.append((exchange_name, topic))
        return orig(self, exchange_name, topic, msg, *args, **kwargs)

    impl_rabbit.Connection.topic_send = topic_send


class PikaPool:
    def __init__(self, broker, size):
        import pika

        self.pika = pika
        params = pika.ConnectionParameters(host=broker, port=5672, heartbeat=0,
                                           credentials=pika.PlainCredentials("guest", "guest"))
        self.q = queue.Queue()
        for i in range(size):
            conn = pika.BlockingConnection(params)
            ch = conn.channel()
            if i == 0:
                ch.queue_declare(WORK_QUEUE, durable=True)
            self.q.put((conn, ch))

    def publish(self, tid, body):
        conn, ch = self.q.get()
        try:
            ch.basic_publish(exchange="", routing_key=WORK_QUEUE, body=body,
                             properties=self.pika.BasicProperties(message_id=tid, delivery_mode=2,
                                                                  content_type="application/json"))
        finally:
            self.q.put((conn, ch))

    def close(self):
        while not self.q.empty():
            conn, _ = self.q.get()
            try:
                conn.close()
            except Exception:
                pass


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        srv = self.server
        path, _, qs = self.path.partition("?")
        params = dict(urllib.parse.parse_qsl(qs))
        tid = params.get("tid", "")
        item, k = params.get("id", "1"), int(params.get("k", "1"))
        calls, status, body = [], 200, "entry"
        local.sent = []
        n0 = mq_common.opened()
        try:
            if path == "/mq/call":
                body += " " + srv.rpc.call({}, "work", tid=tid, id=item, k=k)
                calls = [mq_common.publish_call(x, t, reply=True) for x, t in local.sent]
            elif path == "/mq/cast":
                srv.rpc.cast({}, "work", tid=tid, id=item, k=k)
                calls = [mq_common.publish_call(x, t) for x, t in local.sent]
            elif path == "/mq/queue":
                srv.pika.publish(tid, json.dumps({"tid": tid, "id": item, "k": k}))
                calls = [mq_common.publish_call("", WORK_QUEUE)]
            else:
                status, body = 404, "no such path"
        except Exception as e:  # a failed request, reported; keep serving
            status, body = 500, repr(e)
            calls = [mq_common.publish_call(x, t) for x, t in local.sent] or calls
        local.sent = None
        data = (body + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        extra = {"amqp_setup": mq_common.opened() - n0} if mq_common.opened() > n0 else {}
        srv.log.write(tid=tid, svc="entry", req="GET " + self.path, status=status, calls=calls,
                      peer="%s:%d" % self.client_address[:2], **extra)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="0.0.0.0")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--broker", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--pool", type=int, default=64, help="AMQP connections of each client library")
    a = p.parse_args()
    import oslo_messaging

    trace_oslo_publishes()
    mq_common.count_oslo_connections()
    conf = mq_common.oslo_conf(a.broker, a.pool)
    transport = oslo_messaging.get_rpc_transport(conf)
    mq_common.prime_oslo(transport, a.pool)
    transport._driver._get_reply_q()  # the reply queue and its consumer, made by the first call otherwise
    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer.request_queue_size = 512
    srv = ThreadingHTTPServer((a.host, a.port), Handler)
    srv.rpc = oslo_messaging.get_rpc_client(transport, oslo_messaging.Target(topic=TOPIC), timeout=30)
    srv.pika = PikaPool(a.broker, a.pool)
    srv.log = mq_common.TruthLog(a.log)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    print("entry: listening on %d" % a.port, file=sys.stderr, flush=True)

    def stop():
        srv.shutdown()
        srv.pika.close()
        transport.cleanup()

    mq_common.until_signalled(stop)


if __name__ == "__main__":
    main()
