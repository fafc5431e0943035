#!/usr/bin/env python3
"""The message-queue experiment's workers: competing pika consumers on one
durable work queue, each a thread with its own BlockingConnection, prefetch
1. Per message: k Redis calls (those of backend.py, k and the item from the
message's JSON body, the test id its message_id), then the ack.

  mq_worker.py --broker ADDR --cache ADDR --log FILE [--consumers 4] [--queue work]

One JSON line per message goes to FILE (see mq_common.py): "deliver QUEUE",
the exchange and routing key the delivery came with, which consumer took it,
and its Redis calls.
"""
import argparse
import json
import sys
import threading

import pika

import mq_common


def consumer(n, a, cache, log, conns, ready):
    params = pika.ConnectionParameters(host=a.broker, port=5672, heartbeat=0,
                                       credentials=pika.PlainCredentials("guest", "guest"))
    conn = pika.BlockingConnection(params)
    ch = conn.channel()
    ch.queue_declare(a.queue, durable=True)
    ch.basic_qos(prefetch_count=1)

    def on_message(ch, method, props, body):
        status, calls = 200, []
        try:
            d = json.loads(body)
            calls = cache.calls(d["id"], int(d["k"]), props.message_id)
        except Exception as e:
            status = repr(e)
        ch.basic_ack(method.delivery_tag)
        log.write(tid=props.message_id, svc="worker", req="deliver " + a.queue, status=status, calls=calls,
                  amqp={"exchange": method.exchange, "routing_key": method.routing_key, "queue": a.queue},
                  consumer=n)

    ch.basic_consume(a.queue, on_message)
    conns.append((conn, ch))
    ready.release()
    ch.start_consuming()
    conn.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--broker", required=True)
    p.add_argument("--cache", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--queue", default="work")
    p.add_argument("--consumers", type=int, default=4)
    a = p.parse_args()
    cache = mq_common.RedisPool(a.cache, a.consumers)
    log = mq_common.TruthLog(a.log)
    conns, ready = [], threading.Semaphore(0)
    threads = [threading.Thread(target=consumer, args=(n, a, cache, log, conns, ready), daemon=True)
               for n in range(a.consumers)]
    for t in threads:
        t.start()
    for _ in threads:
        if not ready.acquire(timeout=30):
            sys.exit("worker: a consumer did not start")
    print("worker: %d consumers on %s" % (a.consumers, a.queue), file=sys.stderr, flush=True)

    def stop():
        for conn, ch in conns:
            conn.add_callback_threadsafe(ch.stop_consuming)
        for t in threads:
            t.join(5)

    mq_common.until_signalled(stop)


if __name__ == "__main__":
    main()
