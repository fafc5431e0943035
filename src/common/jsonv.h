/* Reading values out of parsed JSON documents without a check at every
 * step: a missing member, or a null, reads as NULL, 0, "" or false. */
#ifndef WEFT_JSONV_H
#define WEFT_JSONV_H

#include <stdint.h>

#include <json-c/json.h>

json_object *jv_member(json_object *o, const char *key);
const char *jv_str(json_object *o, const char *key);
int64_t jv_int(json_object *o, const char *key);
double jv_num(json_object *o, const char *key);
int jv_bool(json_object *o, const char *key);

#endif
