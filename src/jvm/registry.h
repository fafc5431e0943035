/* Method registry: the small integer id of each instrumented method, fixed
 * the first time it is instrumented and kept for the life of the JVM (a
 * method that leaves the filter and comes back gets its old id), and the set
 * of classes whose bytecode currently carries probes. Thread-safe. */
#ifndef WEFT_JVM_REGISTRY_H
#define WEFT_JVM_REGISTRY_H

struct method_entry {
	char *cls;  /* dotted binary name */
	char *name; /* method name */
	char *desc; /* JVM descriptor */
};

/* Id of (cls, name, desc), adding it when new; -1 when the registry is full
 * or out of memory. `cls` dotted. */
int registry__id(const char *cls, const char *name, const char *desc);

/* Entry `id`, or NULL. Entries are never removed or moved. */
const struct method_entry *registry__get(int id);
int registry__count(void);

/* Records whether class `cls` (internal or dotted, used as given) now
 * carries probes; registry__instrumented tells; registry__classes counts. */
void registry__set_class(const char *cls, int instrumented);
int registry__instrumented(const char *cls);
int registry__classes(void);

#endif
