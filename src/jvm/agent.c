/* The JVMTI side of the agent: options, capabilities, events, the
 * class-file load hook, retransformation and the commands of the control
 * server. A JVM agent never takes down its JVM: every jvmtiError is checked,
 * a failure is logged and the agent disables itself, and Agent_OnLoad
 * always returns JNI_OK so the JVM starts whatever happened here. */
#include "jvm/agent.h"

#include <errno.h>
#include <jvmti.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "jvm/classfile.h"
#include "jvm/agent_server.h"
#include "jvm/dump.h"
#include "jvm/filter.h"
#include "jvm/gcring.h"
#include "jvm/agent_opts.h"
#include "jvm/registry.h"

#define LOG_MAX 64 /* diagnostic lines over the life of the JVM */

/* The probe class, compiled from Probe.java at build time (probe_class.c). */
extern const unsigned char weft_probe_class[];
extern const unsigned int weft_probe_class_len;

static struct {
	jvmtiEnv *jvmti;
	JavaVM *vm;
	pthread_mutex_t lock;  /* guards filter and profiling */
	struct filter *filter; /* current filter, never NULL once loaded */
	int profiling;	       /* probes wanted in filtered classes (START/STOP) */
	int trace;	       /* individual calls kept in the ring */
	int disabled;	       /* atomic: a failure switched the agent off */
	int live;	       /* atomic: the probe class is defined */
	int dying;	       /* atomic: VMDeath seen */
	int failed_classes;    /* atomic: classes left alone after an error */
	jclass probe;	       /* global ref to weft/Probe */
	jobject probe_module;  /* global ref to its (unnamed) module */
	jmethodID m_snapshot, m_drain, m_reset;
	jfieldID f_trace;
	int listen_fd;
} g = {.lock = PTHREAD_MUTEX_INITIALIZER, .listen_fd = -1};

static int log_lines;

void agent__log(const char *fmt, ...)
{
	if (__atomic_fetch_add(&log_lines, 1, __ATOMIC_RELAXED) >= LOG_MAX)
		return;
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fprintf(stderr, "weft-jvm: %s\n", buf);
}

long long agent__now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int agent__dying(void)
{
	return __atomic_load_n(&g.dying, __ATOMIC_ACQUIRE);
}

static int disabled(void)
{
	return __atomic_load_n(&g.disabled, __ATOMIC_ACQUIRE);
}

/* Frees JVMTI-allocated memory; a failure there is only logged. */
static void dealloc(void *p)
{
	jvmtiError err = (*g.jvmti)->Deallocate(g.jvmti, p);
	if (err != JVMTI_ERROR_NONE)
		agent__log("Deallocate failed (error %d)", (int)err);
}

/* Logs why and switches the agent off; later calls only return. */
static void disable(const char *what, jvmtiError err)
{
	if (__atomic_exchange_n(&g.disabled, 1, __ATOMIC_ACQ_REL))
		return;
	char *name = NULL;
	if (err != JVMTI_ERROR_NONE && g.jvmti &&
	    (*g.jvmti)->GetErrorName(g.jvmti, err, &name) != JVMTI_ERROR_NONE)
		name = NULL;
	if (err != JVMTI_ERROR_NONE)
		agent__log("%s failed: %s (%d); agent disabled, the JVM runs on", what,
			   name ? name : "?", (int)err);
	else
		agent__log("%s; agent disabled, the JVM runs on", what);
	if (name)
		dealloc(name);
}

/* ---- which classes ---- */

/* Classes never instrumented: the JDK's own (the probe uses some of them,
 * so timing them would recurse) and the probe. */
static int excluded(const char *internal)
{
	static const char *const prefixes[] = {"java/", "jdk/", "sun/", "weft/"};
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (!strncmp(internal, prefixes[i], strlen(prefixes[i])))
			return 1;
	return 0;
}

static char *dotted(const char *internal)
{
	char *d = strdup(internal);
	for (char *p = d; p && *p; p++)
		if (*p == '/')
			*p = '.';
	return d;
}

struct select_ctx {
	const char *cls; /* dotted */
	int full;	 /* the registry ran out of ids */
};

static int select_method(void *vctx, const char *cls, const char *name, const char *desc, int *id)
{
	struct select_ctx *c = vctx;
	(void)cls;
	if (!filter__match_method(g.filter, c->cls, name))
		return 0;
	*id = registry__id(c->cls, name, desc);
	if (*id < 0)
		c->full = 1;
	return *id >= 0;
}

/* A class in a named module must read the probe's module to call it. */
static int grant_reads(jobject loader, const char *internal)
{
	const char *slash = strrchr(internal, '/');
	if (!slash || !g.probe_module)
		return 0;
	char *pkg = strndup(internal, (size_t)(slash - internal));
	jobject module = NULL;
	jvmtiError err = pkg ? (*g.jvmti)->GetNamedModule(g.jvmti, loader, pkg, &module)
			     : JVMTI_ERROR_OUT_OF_MEMORY;
	free(pkg);
	if (err == JVMTI_ERROR_NONE && module)
		err = (*g.jvmti)->AddModuleReads(g.jvmti, module, g.probe_module);
	if (err != JVMTI_ERROR_NONE) {
		agent__log("cannot let %s read the probe's module (error %d); left as it is",
			   internal, (int)err);
		return -1;
	}
	return 0;
}

/* Rewrites the class when the filter selects some of its methods. Returns
 * the malloc'd new bytes or NULL to leave the class as it is. */
static uint8_t *instrument(const char *internal, const unsigned char *data, jint len,
			   size_t *out_len)
{
	struct select_ctx sc = {.cls = dotted(internal)};
	uint8_t *out = NULL;
	char err[256] = "";
	int rc = 0;
	if (!sc.cls)
		return NULL;
	pthread_mutex_lock(&g.lock);
	if (g.profiling && filter__may_match_class(g.filter, sc.cls))
		rc = cf_instrument(data, (size_t)len, select_method, &sc, &out, out_len, err,
				   sizeof(err));
	pthread_mutex_unlock(&g.lock);
	if (rc < 0) {
		__atomic_fetch_add(&g.failed_classes, 1, __ATOMIC_RELAXED);
		agent__log("cannot instrument %s: %s; left as it is", sc.cls, err);
	}
	if (sc.full)
		agent__log("more than %d methods instrumented; the rest are not timed",
			   CF_MAX_ID + 1);
	registry__set_class(sc.cls, rc > 0);
	free((char *)sc.cls);
	return rc > 0 ? out : NULL;
}

/* ---- events ---- */

static void JNICALL on_class_file_load(jvmtiEnv *jvmti, JNIEnv *env, jclass redefined,
				       jobject loader, const char *name, jobject pd, jint len,
				       const unsigned char *data, jint *new_len,
				       unsigned char **new_data)
{
	(void)env;
	(void)redefined;
	(void)pd;
	if (!__atomic_load_n(&g.live, __ATOMIC_ACQUIRE) || disabled() || agent__dying() || !name ||
	    !loader || excluded(name))
		return;
	size_t n = 0;
	uint8_t *out = instrument(name, data, len, &n);
	if (!out)
		return;
	unsigned char *mem = NULL;
	if (grant_reads(loader, name) == 0 &&
	    (*jvmti)->Allocate(jvmti, (jlong)n, &mem) == JVMTI_ERROR_NONE) {
		memcpy(mem, out, n);
		*new_len = (jint)n;
		*new_data = mem;
	} else {
		char *d = dotted(name);
		if (d)
			registry__set_class(d, 0);
		free(d);
	}
	free(out);
}

static void JNICALL on_gc_start(jvmtiEnv *jvmti)
{
	(void)jvmti;
	gc_ring__start((uint64_t)agent__now_ns());
}

static void JNICALL on_gc_finish(jvmtiEnv *jvmti)
{
	(void)jvmti;
	gc_ring__finish((uint64_t)agent__now_ns());
}

static jint JNICALL native_tid(JNIEnv *env, jclass cls)
{
	(void)env;
	(void)cls;
	return (jint)syscall(SYS_gettid);
}

/* Defines weft/Probe in the bootstrap loader from the bytes we carry (no
 * file, no jar) and binds its native. */
static int define_probe(JNIEnv *env)
{
	static JNINativeMethod natives[] = {{"tid", "()I", (void *)native_tid}};
	jclass c = (*env)->DefineClass(env, CF_PROBE_CLASS, NULL, (const jbyte *)weft_probe_class,
				       (jsize)weft_probe_class_len);
	if (!c || (*env)->RegisterNatives(env, c, natives, 1) != 0)
		goto fail;
	g.m_snapshot = (*env)->GetStaticMethodID(env, c, "snapshot", "()[J");
	g.m_drain = (*env)->GetStaticMethodID(env, c, "drain", "()[J");
	g.m_reset = (*env)->GetStaticMethodID(env, c, "reset", "()V");
	g.f_trace = (*env)->GetStaticFieldID(env, c, "trace", "Z");
	jobject m = (*env)->GetModule(env, c);
	if (!g.m_snapshot || !g.m_drain || !g.m_reset || !g.f_trace || !m)
		goto fail;
	g.probe = (*env)->NewGlobalRef(env, c);
	g.probe_module = (*env)->NewGlobalRef(env, m);
	if (!g.probe || !g.probe_module)
		goto fail;
	(*env)->SetStaticBooleanField(env, g.probe, g.f_trace, (jboolean)g.trace);
	return 0;
fail:
	if ((*env)->ExceptionCheck(env))
		(*env)->ExceptionClear(env);
	return -1;
}

static int retransform(JNIEnv *env, int *failed);

static void JNICALL on_vm_init(jvmtiEnv *jvmti, JNIEnv *env, jthread thread)
{
	(void)jvmti;
	(void)thread;
	if (disabled())
		return;
	if (define_probe(env)) {
		disable("defining the probe class", JVMTI_ERROR_NONE);
		return;
	}
	__atomic_store_n(&g.live, 1, __ATOMIC_RELEASE);
	int failed = 0;
	if (!filter__empty(g.filter) && retransform(env, &failed) < 0)
		return;
	if (g.listen_fd >= 0 && control__start(g.vm, g.listen_fd))
		disable("starting the control thread", JVMTI_ERROR_NONE);
}

static void JNICALL on_vm_death(jvmtiEnv *jvmti, JNIEnv *env)
{
	(void)jvmti;
	(void)env;
	__atomic_store_n(&g.dying, 1, __ATOMIC_RELEASE);
}

/* ---- retransformation ---- */

/* Does loaded class `c` need new bytecode: it carries probes now, or the
 * filter may select some of its methods? Sets *name (dotted, malloc'd). */
static int wants_retransform(JNIEnv *env, jclass c, char **name)
{
	jboolean mod = JNI_FALSE;
	char *sig = NULL;
	int want = 0;
	*name = NULL;
	if ((*g.jvmti)->IsModifiableClass(g.jvmti, c, &mod) != JVMTI_ERROR_NONE || !mod ||
	    (*g.jvmti)->GetClassSignature(g.jvmti, c, &sig, NULL) != JVMTI_ERROR_NONE)
		return 0;
	size_t n = strlen(sig);
	if (sig[0] == 'L' && n > 2 && sig[n - 1] == ';') {
		sig[n - 1] = 0;
		jobject loader = NULL;
		if (!excluded(sig + 1) &&
		    (*g.jvmti)->GetClassLoader(g.jvmti, c, &loader) == JVMTI_ERROR_NONE && loader &&
		    (*name = dotted(sig + 1))) {
			pthread_mutex_lock(&g.lock);
			want = registry__instrumented(*name) ||
			       (g.profiling && filter__may_match_class(g.filter, *name));
			pthread_mutex_unlock(&g.lock);
		}
		if (loader)
			(*env)->DeleteLocalRef(env, loader);
	}
	dealloc(sig);
	return want;
}

/* Gives every loaded class that needs it the bytecode the current filter
 * and START/STOP state call for; the hook does the rewriting. One class at a
 * time, so one that fails is left as it was and the others go on. Returns
 * the number retransformed, or -1 after disabling the agent. */
static int retransform(JNIEnv *env, int *failed)
{
	jint n = 0;
	jclass *classes = NULL;
	jvmtiError err = (*g.jvmti)->GetLoadedClasses(g.jvmti, &n, &classes);
	int done = 0;
	*failed = 0;
	if (err != JVMTI_ERROR_NONE) {
		disable("GetLoadedClasses", err);
		return -1;
	}
	/* Every class came back as a local reference; say so (checked JNI). */
	if ((*env)->EnsureLocalCapacity(env, n + 16) != 0)
		(*env)->ExceptionClear(env);
	for (jint i = 0; i < n; i++) {
		char *name = NULL;
		if (wants_retransform(env, classes[i], &name)) {
			err = (*g.jvmti)->RetransformClasses(g.jvmti, 1, &classes[i]);
			if (err == JVMTI_ERROR_NONE)
				done++;
			else {
				(*failed)++;
				agent__log("cannot retransform %s (error %d); left as it was", name,
					   (int)err);
			}
		}
		free(name);
		(*env)->DeleteLocalRef(env, classes[i]);
	}
	dealloc(classes);
	return done;
}

/* ---- commands ---- */

static int not_ready(struct sbuf *out)
{
	if (disabled())
		sbuf__printf(out, "ERR agent disabled");
	else if (!__atomic_load_n(&g.live, __ATOMIC_ACQUIRE))
		sbuf__printf(out, "ERR JVM not started yet");
	else
		return 0;
	return 1;
}

static void reply_retransform(JNIEnv *env, struct sbuf *out, const char *what)
{
	int failed = 0, n = retransform(env, &failed);
	if (n < 0) {
		sbuf__printf(out, "ERR retransformation failed; agent disabled");
		return;
	}
	pthread_mutex_lock(&g.lock);
	sbuf__printf(out, "OK %s profiling=%s filter=%s retransformed=%d failed=%d classes=%d",
		     what, g.profiling ? "on" : "off", filter__spec(g.filter), n, failed,
		     registry__classes());
	pthread_mutex_unlock(&g.lock);
}

void agent__cmd_filter(JNIEnv *env, const char *spec, struct sbuf *out)
{
	char err[256];
	if (not_ready(out))
		return;
	struct filter *f = filter__parse(spec, err, sizeof(err));
	if (!f) {
		sbuf__printf(out, "ERR %s", err);
		return;
	}
	pthread_mutex_lock(&g.lock);
	struct filter *old = g.filter;
	g.filter = f;
	pthread_mutex_unlock(&g.lock);
	filter__free(old);
	reply_retransform(env, out, "filter");
}

static void set_profiling(JNIEnv *env, int on, struct sbuf *out)
{
	if (not_ready(out))
		return;
	pthread_mutex_lock(&g.lock);
	g.profiling = on;
	pthread_mutex_unlock(&g.lock);
	reply_retransform(env, out, on ? "started" : "stopped");
}

void agent__cmd_start(JNIEnv *env, struct sbuf *out)
{
	set_profiling(env, 1, out);
}
void agent__cmd_stop(JNIEnv *env, struct sbuf *out)
{
	set_profiling(env, 0, out);
}

void agent__cmd_status(JNIEnv *env, struct sbuf *out)
{
	(void)env;
	struct timespec rt;
	struct gc_stats gs;
	clock_gettime(CLOCK_REALTIME, &rt);
	gc_ring__snapshot(NULL, 0, &gs);
	pthread_mutex_lock(&g.lock);
	sbuf__printf(out, "{\"agent\":\"%s\",\"profiling\":%s,\"trace\":%s,\"filter\":",
		     disabled() ? "disabled" : "enabled", g.profiling ? "true" : "false",
		     g.trace ? "true" : "false");
	sbuf__json_str(out, filter__spec(g.filter));
	pthread_mutex_unlock(&g.lock);
	sbuf__printf(out,
		     ",\"methods\":%d,\"classes\":%d,\"failed_classes\":%d,\"gc_count\":%llu,"
		     "\"monotonic_ns\":%lld,\"realtime_ns\":%lld,\"pid\":%d}",
		     registry__count(), registry__classes(),
		     __atomic_load_n(&g.failed_classes, __ATOMIC_RELAXED),
		     (unsigned long long)gs.count, agent__now_ns(),
		     (long long)rt.tv_sec * 1000000000LL + rt.tv_nsec, (int)getpid());
}

/* Calls a static ()[J method of the probe; malloc'd copy or NULL. */
static jlong *probe_longs(JNIEnv *env, jmethodID m, jsize *n)
{
	jlongArray a = (*env)->CallStaticObjectMethod(env, g.probe, m);
	jlong *v = NULL;
	if ((*env)->ExceptionCheck(env) || !a) {
		(*env)->ExceptionClear(env);
		return NULL;
	}
	*n = (*env)->GetArrayLength(env, a);
	v = malloc(((size_t)*n + 1) * sizeof(*v));
	if (v)
		(*env)->GetLongArrayRegion(env, a, 0, *n, v);
	(*env)->DeleteLocalRef(env, a);
	return v;
}

void agent__cmd_dump(JNIEnv *env, struct sbuf *out)
{
	jsize n = 0;
	if (not_ready(out))
		return;
	jlong *v = probe_longs(env, g.m_snapshot, &n);
	if (!v) {
		sbuf__printf(out, "ERR cannot read the probe's figures");
		return;
	}
	sbuf__printf(out, "{\"monotonic_ns\":%lld,", agent__now_ns());
	if (dump__probe_json((const int64_t *)v, (size_t)n, out)) {
		sbuf__free(out);
		sbuf__printf(out, "ERR malformed probe snapshot");
	} else {
		sbuf__printf(out, ",\"gc\":");
		dump__gc_json(out);
		sbuf__printf(out, "}");
	}
	free(v);
}

void agent__cmd_calls(JNIEnv *env, struct sbuf *out)
{
	jsize n = 0;
	if (not_ready(out))
		return;
	jlong *v = probe_longs(env, g.m_drain, &n);
	if (!v || dump__calls_json((const int64_t *)v, (size_t)n, out))
		sbuf__printf(out, "ERR cannot read the call ring");
	free(v);
}

void agent__cmd_gc(struct sbuf *out)
{
	dump__gc_json(out);
}

void agent__cmd_trace(JNIEnv *env, int on, struct sbuf *out)
{
	if (not_ready(out))
		return;
	g.trace = on;
	(*env)->SetStaticBooleanField(env, g.probe, g.f_trace, (jboolean)on);
	sbuf__printf(out, "OK trace=%s", on ? "on" : "off");
}

void agent__cmd_reset(JNIEnv *env, struct sbuf *out)
{
	if (not_ready(out))
		return;
	(*env)->CallStaticVoidMethod(env, g.probe, g.m_reset);
	if ((*env)->ExceptionCheck(env)) {
		(*env)->ExceptionClear(env);
		sbuf__printf(out, "ERR reset failed");
		return;
	}
	sbuf__printf(out, "OK reset");
}

/* ---- load ---- */

static int setup_jvmti(void)
{
	jvmtiCapabilities caps = {0};
	jvmtiEventCallbacks cb = {0};
	jvmtiError err;
	static const jvmtiEvent events[] = {
	    JVMTI_EVENT_VM_INIT, JVMTI_EVENT_VM_DEATH, JVMTI_EVENT_CLASS_FILE_LOAD_HOOK,
	    JVMTI_EVENT_GARBAGE_COLLECTION_START, JVMTI_EVENT_GARBAGE_COLLECTION_FINISH};

	caps.can_retransform_classes = 1;
	caps.can_generate_garbage_collection_events = 1;
	if ((err = (*g.jvmti)->AddCapabilities(g.jvmti, &caps)) != JVMTI_ERROR_NONE) {
		disable("AddCapabilities", err);
		return -1;
	}
	cb.VMInit = on_vm_init;
	cb.VMDeath = on_vm_death;
	cb.ClassFileLoadHook = on_class_file_load;
	cb.GarbageCollectionStart = on_gc_start;
	cb.GarbageCollectionFinish = on_gc_finish;
	if ((err = (*g.jvmti)->SetEventCallbacks(g.jvmti, &cb, sizeof(cb))) != JVMTI_ERROR_NONE) {
		disable("SetEventCallbacks", err);
		return -1;
	}
	for (size_t i = 0; i < sizeof(events) / sizeof(events[0]); i++) {
		err = (*g.jvmti)->SetEventNotificationMode(g.jvmti, JVMTI_ENABLE, events[i], NULL);
		if (err != JVMTI_ERROR_NONE) {
			disable("SetEventNotificationMode", err);
			return -1;
		}
	}
	return 0;
}

JNIEXPORT jint JNICALL Agent_OnLoad(JavaVM *vm, char *options, void *reserved)
{
	struct jvm_opts o;
	char err[256];
	(void)reserved;
	g.vm = vm;
	if (jvm_opts__parse(options, &o, err, sizeof(err))) {
		disable(err, JVMTI_ERROR_NONE);
		return JNI_OK;
	}
	g.trace = o.trace;
	g.filter = filter__parse(o.filter ? o.filter : "", err, sizeof(err));
	g.profiling = o.filter != NULL;
	free(o.filter);
	if (!g.filter) {
		disable(err, JVMTI_ERROR_NONE);
		return JNI_OK;
	}
	if ((*vm)->GetEnv(vm, (void **)&g.jvmti, JVMTI_VERSION_11) != JNI_OK) {
		g.jvmti = NULL;
		disable("no JVMTI 11 environment", JVMTI_ERROR_NONE);
		return JNI_OK;
	}
	if (o.port && (g.listen_fd = control__listen(o.port)) < 0) {
		char why[300];
		snprintf(why, sizeof(why), "cannot listen on 127.0.0.1:%d: %s", o.port,
			 strerror(errno));
		disable(why, JVMTI_ERROR_NONE);
		return JNI_OK;
	}
	setup_jvmti();
	return JNI_OK;
}

JNIEXPORT void JNICALL Agent_OnUnload(JavaVM *vm)
{
	(void)vm;
	/* The control thread may still be blocked in the JVM; it sees dying and
	 * leaves. Memory is left to the process exit: freeing it under a thread
	 * that may still read it would be worse. */
	__atomic_store_n(&g.dying, 1, __ATOMIC_RELEASE);
}
