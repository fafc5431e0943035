/* The agent's state and the commands the control server runs on it. Every
 * command runs on the control thread with that thread's JNIEnv and writes
 * exactly one reply line, without the newline, into `out`. */
#ifndef WEFT_JVM_AGENT_H
#define WEFT_JVM_AGENT_H

#include <jni.h>

#include "jvm/sbuf.h"

void agent__cmd_filter(JNIEnv *env, const char *spec, struct sbuf *out);
void agent__cmd_start(JNIEnv *env, struct sbuf *out);
void agent__cmd_stop(JNIEnv *env, struct sbuf *out);
void agent__cmd_status(JNIEnv *env, struct sbuf *out);
void agent__cmd_dump(JNIEnv *env, struct sbuf *out);
void agent__cmd_calls(JNIEnv *env, struct sbuf *out);
void agent__cmd_gc(struct sbuf *out);
void agent__cmd_trace(JNIEnv *env, int on, struct sbuf *out);
void agent__cmd_reset(JNIEnv *env, struct sbuf *out);

/* Nonzero once the JVM is going away: the control thread must stop using it. */
int agent__dying(void);

/* A diagnostic line on stderr, "weft-jvm: ..."; at most a bounded number
 * over the life of the JVM so a repeating fault cannot flood the log. */
void agent__log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* CLOCK_MONOTONIC in ns: the clock of System.nanoTime() on Linux. */
long long agent__now_ns(void);

#endif
