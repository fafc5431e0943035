/* The server's sensor port: accepts sensors, reads their frames, answers
 * hellos, relays control commands and sends acknowledgements. A bad frame
 * closes that one connection with a logged reason; the others go on. */
#ifndef WEFT_INGEST_H
#define WEFT_INGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ingest;
struct ingest_conn;

struct ingest_sensor_stats {
	uint64_t events; /* events received in batches */
	uint64_t batches;
	uint64_t drops;	      /* the sensor's ring-buffer drops (its STATUS) */
	uint64_t spool_drops; /* batches its full spool discarded */
	uint64_t last_seen_ns;
	int64_t lag_ns; /* receive time minus the newest event's time */
	bool messages;	/* capture mode */
	bool connected;
};

struct ingest_handlers {
	/* A sensor said hello: return the last batch stored for it. */
	uint64_t (*hello)(const char *sensor, const char *host, void *ctx);
	/* A batch: 0 when taken (acknowledge after the next commit), 1 when it
	 * was a duplicate (acknowledge too), negative to refuse (no ack). */
	int (*batch)(struct ingest_conn *conn, const char *sensor, const char *host, uint64_t seq,
		     const uint8_t *payload, size_t len, void *ctx);
	uint16_t api_port; /* told to sensors so that they leave weft's own traffic out */
	void *ctx;
};

struct ingest *ingest__new(const char *addr, uint16_t port, const struct ingest_handlers *h);
void ingest__free(struct ingest *in);
/* Waits up to timeout_ms for sensors and handles what arrived. */
int ingest__poll(struct ingest *in, int timeout_ms);
/* Sends every acknowledgement queued since the last call: the batches they
 * name are durable now. */
void ingest__flush_acks(struct ingest *in);
void ingest__queue_ack(struct ingest_conn *conn, uint64_t seq);
/* Forgets every queued acknowledgement and closes every connection, saying
 * why: what the sensors sent since the last commit is not stored, and they
 * send it again once reconnected (HELLO_ACK names what is). */
void ingest__drop_all(struct ingest *in, const char *why);
void ingest__note_events(struct ingest_conn *conn, uint64_t events, uint64_t newest_ns);

/* Control commands to a sensor, from any thread: the reply (one line, up to
 * WIRE_STR_MAX bytes: a cap of 64 KiB holds any) or an error is written
 * into reply. Blocks for at most timeout_ms. */
int ingest__control(struct ingest *in, const char *sensor, const char *command, char *reply,
		    size_t cap, int timeout_ms);

/* Calls fn for every sensor seen since start (connected or not). */
void ingest__each_sensor(struct ingest *in,
			 void (*fn)(const char *sensor, const char *host,
				    const struct ingest_sensor_stats *st, void *ctx),
			 void *ctx);
int ingest__connected(struct ingest *in);

#endif
