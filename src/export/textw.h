/* A growable text buffer for what the exports write: JSON strings and
 * Prometheus label values, escaped, and always valid UTF-8 (request texts
 * and executable paths are bytes from the wire and the disk: an invalid
 * sequence becomes U+FFFD, which protobuf's JSON parsers and Prometheus
 * require).
 *
 * Once an allocation fails every write is a no-op and textw_take returns
 * NULL, so a writer checks once at the end. */
#ifndef WEFT_EXPORT_TEXTW_H
#define WEFT_EXPORT_TEXTW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct textw {
	char *p;
	size_t len, cap;
	bool oom;
};

void textw_raw(struct textw *w, const char *s, size_t n);
void textw_cstr(struct textw *w, const char *s);
void textw_char(struct textw *w, char c);
void textw_u64(struct textw *w, uint64_t v);
void textw_i64(struct textw *w, int64_t v);
void textw_printf(struct textw *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The first n bytes of s as a JSON string, quotes included. */
void textw_json(struct textw *w, const char *s, size_t n);
/* s as the inside of a Prometheus label value (\, " and newline escaped). */
void textw_label(struct textw *w, const char *s);

/* The text (NUL-terminated, *len without the NUL), which the caller frees;
 * NULL after an allocation failed. The writer is empty afterwards. */
char *textw_take(struct textw *w, size_t *len);
void textw_free(struct textw *w);

/* The length of the valid UTF-8 sequence at p (1 to 4), 0 when the bytes
 * there are not one (or n is 0). */
size_t utf8_seq(const unsigned char *p, size_t n);

#endif
