#ifndef WEFT_BASE64_H
#define WEFT_BASE64_H

#include <stddef.h>

/* Encodes n bytes into out (which must hold base64_len(n) + 1 bytes),
 * NUL-terminates it and returns the encoded length. */
size_t base64_encode(const unsigned char *in, size_t n, char *out);
#define base64_len(n) ((((n) + 2) / 3) * 4)
/* Decodes; returns the decoded length or -1 on bad input. out holds 3n/4. */
long base64_decode(const char *in, size_t n, unsigned char *out);

#endif
