/* Class-file rewriting: inserts a timing probe at the entry of selected
 * methods, before each of their returns, and in a catch-all handler that
 * records and rethrows. Pure C over byte buffers: no JNI, no JVMTI. */
#ifndef WEFT_JVM_CLASSFILE_H
#define WEFT_JVM_CLASSFILE_H

#include <stddef.h>
#include <stdint.h>

#define CF_MAX_ID 32767 /* ids are pushed with sipush */

/* Called once per method that could be instrumented (not abstract, native,
 * bridge, constructor or static initializer). `cls` is the internal name
 * (`com/shop/Cart`), `name` and `desc` as in the class file. Returns 1 and
 * sets *id (0..CF_MAX_ID) to instrument it, 0 to leave it. */
typedef int (*cf_select_fn)(void *ctx, const char *cls, const char *name, const char *desc,
			    int *id);

/* The probe class and its static methods, each with descriptor (I)V. */
#define CF_PROBE_CLASS "weft/Probe"
#define CF_PROBE_ENTER "enter"
#define CF_PROBE_EXIT  "exit"
#define CF_PROBE_THROW "exitThrow"

/* Rewrites the class in `in`. On success returns the number of methods
 * instrumented (> 0) and sets *out to a malloc'd buffer the caller frees.
 * Returns 0 when no method was selected (*out untouched), or -1 when the
 * class cannot be handled, with the reason in `err`: the class must then be
 * left as it is. Never reads outside `in`. */
int cf_instrument(const uint8_t *in, size_t len, cf_select_fn select, void *ctx, uint8_t **out,
		  size_t *out_len, char *err, size_t errlen);

/* Internal class name of the class in `in` into `buf`; 0 or -1. */
int cf_class_name(const uint8_t *in, size_t len, char *buf, size_t buflen);

#endif
