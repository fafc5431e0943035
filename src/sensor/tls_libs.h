/* TLS libraries on this host. Their plaintext is read with uprobes on the
 * library file itself, which every process mapping that file shares: the
 * system's libssl is attached at start; a process that speaks TLS through
 * another copy (a container's, a bundled one) has its own attached when its
 * first handshake is seen. A process whose handshakes come from no libssl
 * (Go's crypto/tls, a statically linked library) is reported once: its TLS
 * connections are matched but their requests are not named. */
#ifndef WEFT_TLS_LIBS_H
#define WEFT_TLS_LIBS_H

#include <stdint.h>

#include "bpf/sensor_event.h"

struct capture;
struct tls_libs;

/* NULL + errno. cap outlives it. */
struct tls_libs *tls_libs__new(struct capture *cap);
void tls_libs__free(struct tls_libs *t);
/* The system's libssl files, and those mapped by every running process. */
void tls_libs__scan(struct tls_libs *t);
/* An event of a connection: a handshake from a process not looked at yet
 * has its TLS library found and attached. Cheap for every other event. */
void tls_libs__event(struct tls_libs *t, const struct weft_event *e);
/* Library files attached so far. */
unsigned tls_libs__count(const struct tls_libs *t);

#endif
