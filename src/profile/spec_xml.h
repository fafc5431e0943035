/* Reading a transaction specification with libxml2: the file is parsed with
 * no network access, no DTD loading and no entity substitution, then
 * validated against the DTD built into weft (src/profile/services.dtd).
 * libxml2's messages are collected rather than printed; the one reported
 * becomes "FILE:LINE: message". */
#ifndef WEFT_PROFILE_SPEC_XML_H
#define WEFT_PROFILE_SPEC_XML_H

#include <stddef.h>

#include <libxml/tree.h>

/* Parses and validates the file at path. Returns 0 with *doc set (the caller
 * frees it with xmlFreeDoc; its root is a valid <services>), or -errno with
 * *doc NULL and err holding one line: -ENOENT and the like when the file
 * cannot be read, -EINVAL when it is not well-formed or not valid, -ENOMEM. */
int profile_spec_xml_read(const char *path, xmlDoc **doc, char *err, size_t errcap);

#endif
