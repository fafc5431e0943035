#!/usr/bin/env python3
"""The message-queue experiment's RPC server: oslo.messaging, threading
executor, topic "weft", server name "rpc", one endpoint method:

  work(tid, id, k)   k Redis calls (those of backend.py), then returns

  mq_rpc.py --broker ADDR --cache ADDR --log FILE [--pool 64]

oslo's listener thread takes each delivery from its connection and hands it
to a pool thread, which runs the method and, for a call, publishes the reply
(on a connection of oslo's pool). One JSON line per message handled goes to
FILE (see mq_common.py): the delivery as "deliver QUEUE" with the exchange
and routing key it came with and the queue of the consumer it came to, then
the Redis calls and, for a call, the reply's publish (default exchange,
routing key the caller's reply queue). The reply is taken where oslo's
RabbitMQ driver sends it (Connection.direct_send), in the same thread. The
pool of connections replies go out on is filled and each used once at start
(mq_common.prime_oslo).
"""
import argparse
import sys
import threading

import mq_common

TOPIC = "weft"
local = threading.local()


def delivery_of(message):
    """(exchange, routing key, queue) of an oslo incoming message."""
    raw = getattr(message.message, "_raw_message", None)
    di = getattr(raw, "delivery_info", None) or {}
    queue = None
    try:
        for consumer, tag in message.listener.conn._consumers.items():
            if str(tag) == str(di.get("consumer_tag")):
                queue = consumer.queue_name
    except Exception:
        pass
    return di.get("exchange"), di.get("routing_key"), queue


def trace_oslo(log):
    from oslo_messaging._drivers import impl_rabbit
    from oslo_messaging.rpc import server as rpc_server

    send = impl_rabbit.Connection.direct_send

    def direct_send(self, msg_id, msg):
        sent = getattr(local, "rec", None)
        if sent is not None:
            sent["calls"].append(mq_common.publish_call("", msg_id))
        return send(self, msg_id, msg)

    impl_rabbit.Connection.direct_send = direct_send
    process = rpc_server.RPCServer._process_incoming

    def process_incoming(self, incoming):
        exchange, key, queue = delivery_of(incoming[0])
        local.rec = rec = {"tid": None, "svc": "rpc", "req": "deliver %s" % queue, "status": 500, "calls": [],
                           "amqp": {"exchange": exchange, "routing_key": key, "queue": queue},
                           "reply_q": incoming[0].reply_q}
        n0 = mq_common.opened()
        try:
            return process(self, incoming)
        finally:
            local.rec = None
            if mq_common.opened() > n0:
                rec["amqp_setup"] = mq_common.opened() - n0
            log.write(**rec)

    rpc_server.RPCServer._process_incoming = process_incoming


class Endpoint:
    def __init__(self, cache):
        self.cache = cache

    def work(self, ctxt, tid, id, k):
        rec = local.rec
        rec["tid"] = tid
        rec["calls"] += self.cache.calls(id, int(k), tid)
        rec["status"] = 200
        return "rpc %s" % tid


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--broker", required=True)
    p.add_argument("--cache", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--pool", type=int, default=64, help="AMQP connections, pool threads and Redis connections")
    a = p.parse_args()
    import oslo_messaging

    log = mq_common.TruthLog(a.log)
    trace_oslo(log)
    mq_common.count_oslo_connections()
    conf = mq_common.oslo_conf(a.broker, a.pool)
    transport = oslo_messaging.get_rpc_transport(conf)
    mq_common.prime_oslo(transport, a.pool)  # the connections replies go out on
    target = oslo_messaging.Target(topic=TOPIC, server="rpc")
    server = oslo_messaging.get_rpc_server(transport, target, [Endpoint(mq_common.RedisPool(a.cache, a.pool))],
                                           executor="threading")
    server.start()
    print("rpc: consuming topic %s" % TOPIC, file=sys.stderr, flush=True)

    def stop():
        server.stop()
        server.wait()
        transport.cleanup()

    mq_common.until_signalled(stop)


if __name__ == "__main__":
    main()
