/* Names and small helpers for struct weft_event, shared by every part. */
#ifndef WEFT_EVENT_UTIL_H
#define WEFT_EVENT_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "bpf/sensor_event.h"

#define WEFT_ADDR_STRLEN 46 /* INET6_ADDRSTRLEN */

const char *weft_event_type_name(uint8_t type);
const char *weft_role_name(uint8_t role);
/* A connection older than the sensor has no known side: the side whose
 * port is in the ephemeral range is the client. */
uint8_t weft_role_infer(const struct weft_event *e);
/* Writes the textual address (inet_ntop) of a 16-byte field into out. */
void weft_addr_str(uint16_t family, const uint8_t addr[16], char out[WEFT_ADDR_STRLEN]);
/* "ok", "refused", "timeout", "unreachable" or "error" for a connect's err. */
const char *weft_connect_result(int32_t err);

#endif
