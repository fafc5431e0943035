/* A growable string buffer for replies. Allocation failure is sticky:
 * sbuf__str then returns NULL and the caller replies with an error. */
#ifndef WEFT_JVM_SBUF_H
#define WEFT_JVM_SBUF_H

#include <stddef.h>

struct sbuf {
	char *s;    /* NUL-terminated contents, malloc'd */
	size_t len; /* bytes used, without the NUL */
	size_t cap; /* bytes allocated */
	int bad;    /* an allocation failed */
};

void sbuf__printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends `s` as a JSON string literal, quotes included. */
void sbuf__json_str(struct sbuf *b, const char *s);
const char *sbuf__str(const struct sbuf *b);
void sbuf__free(struct sbuf *b);

#endif
