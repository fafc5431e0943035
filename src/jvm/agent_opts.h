/* The agent's options: `-agentpath:libweftjvm.so=key=value,key=value`. */
#ifndef WEFT_JVM_AGENT_OPTS_H
#define WEFT_JVM_AGENT_OPTS_H

#include <stddef.h>

struct jvm_opts {
	int port;     /* control port on 127.0.0.1; 0 = no control server */
	char *filter; /* initial filter spec, malloc'd; NULL = none */
	int trace;    /* keep individual calls in the ring from the start */
};

/* Parses `s` (may be NULL or empty: all defaults) into `o`. Keys: port
 * (1..65535), filter (patterns separated by ';', see filter.h), trace
 * (on|off). Every pair is exactly key=value; an unknown key, a repeated key
 * or a bad value fails with the reason in `err`. Returns 0 or -1; on
 * success the caller frees o->filter. */
int jvm_opts__parse(const char *s, struct jvm_opts *o, char *err, size_t errlen);

#endif
