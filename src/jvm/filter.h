/* Filter patterns: which classes and methods get timed.
 *
 * A filter is a list of patterns separated by ';'. A pattern is a dotted
 * name in which '*' matches any run of characters, dots included. It selects
 * every method of a class whose name it matches (`com.shop.*`,
 * `com.shop.Cart`) and single methods when it matches `class.method`
 * (`com.shop.Cart.add`, `com.shop.Cart.get*`). */
#ifndef WEFT_JVM_FILTER_H
#define WEFT_JVM_FILTER_H

#include <stddef.h>

struct filter;

/* Parses `spec`; an empty spec is the empty filter (matches nothing).
 * Returns NULL with the reason in `err` when a pattern is bad. The caller
 * owns the result and frees it with filter__free. */
struct filter *filter__parse(const char *spec, char *err, size_t errlen);
void filter__free(struct filter *f);

/* The spec as given, patterns joined by ';'. */
const char *filter__spec(const struct filter *f);
int filter__empty(const struct filter *f);

/* Does it select method `method` of class `cls` (dotted binary name)? */
int filter__match_method(const struct filter *f, const char *cls, const char *method);

/* Could it select any method of class `cls`? */
int filter__may_match_class(const struct filter *f, const char *cls);

/* Glob match of `pat` ('*' any run) against `s`; with `prefix` set, also
 * true when `s` is only the beginning of a matching string. Exposed for
 * tests. */
int filter_glob(const char *pat, const char *s, int prefix);

#endif
