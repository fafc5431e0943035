/* The capture family of the control language: what the kernel programs
 * capture, switched at run time.
 *
 *   messages on|off                       message-level capture, or lifecycle only
 *   select pid|comm|port|cgroup|netns V   narrow message capture (any match)
 *   select clear                          message capture for everything again
 *   status                                mode, selectors and counters */
#ifndef WEFT_CONTROL_CAPTURE_H
#define WEFT_CONTROL_CAPTURE_H

struct capture;
struct control;

/* Registers the verbs, acting on cap (which outlives c). 0 or -errno. */
int control_capture__add(struct control *c, struct capture *cap);

#endif
