/* The transaction specification of weft profile (the Autoprofiler's input):
 * an XML file naming each transaction, the web interface that drives it and
 * the hosts and processes that serve it.
 *
 *   <services>
 *     <TransInfo>
 *       <Name>Order Status</Name>
 *       <WebInterface>
 *         <url>10.129.112.175</url>        host, or http://host[:port]/
 *         <port>8080</port>                optional
 *         <uriInfoFile>orderstatus.uris</uriInfoFile>
 *       </WebInterface>
 *       <NodesInfo>                        one or more, each one or more nodes
 *         <javaNode>
 *           <Node>10.129.112.175</Node>
 *           <Process>java</Process>
 *           <ComponentInfo>                optional, javaNode only
 *             <Component><Name>a.B</Name><Interface>m</Interface></Component>
 *           </ComponentInfo>
 *         </javaNode>
 *       </NodesInfo>
 *       <NodesInfo>
 *         <nativeNode><Node>db</Node><Process>postmaster</Process></nativeNode>
 *       </NodesInfo>
 *     </TransInfo>
 *   </services>
 *
 * Every file is validated against the DTD built into weft
 * (src/profile/services.dtd), whatever its DOCTYPE says; nothing is fetched
 * from disk or the network and no entity is expanded. Text values are
 * trimmed of surrounding whitespace.
 *
 * url and port: url is a host name or address (an IPv6 address may be
 * bracketed), or a full http://host[:port][/path] URL whose path is ignored.
 * An explicit <port> always wins; without one the URL's port is used, and
 * 80 when the URL names none or url is a bare host. */
#ifndef WEFT_PROFILE_SPEC_H
#define WEFT_PROFILE_SPEC_H

#include <stdbool.h>
#include <stddef.h>

/* Every pointer in these structs is owned by the profile_spec holding it. */
struct profile_component {
	char *name;	 /* class name, e.g. com.sun.ecperf.webbeans.OrderSesBean */
	char *interface; /* method name, e.g. getOrderStatus */
	int line;	 /* line of the Component element */
};

struct profile_node {
	bool java;     /* javaNode (else nativeNode) */
	char *node;    /* the host: a sensor's name, a host name or an address */
	char *process; /* process name as ps shows it (comm) or a basename */
	struct profile_component *components; /* javaNode's ComponentInfo; NULL when none */
	size_t ncomponents;		      /* how many */
	int line;			      /* line of the node element, for error messages */
};

struct profile_trans {
	char *name;		    /* TransInfo's Name, unique in the file */
	char *host;		    /* from url, without brackets */
	char *port;		    /* decimal string, 1..65535 */
	char *uri_file;		    /* uriInfoFile resolved relative to the spec file's
				       directory (kept as written when absolute) */
	struct profile_node *nodes; /* every node of every NodesInfo, in file order */
	size_t nnodes;		    /* how many, >= 1 */
	int line;		    /* line of the TransInfo element */
};

struct profile_spec {
	char *path;		     /* the file as given to profile_spec__load */
	struct profile_trans *trans; /* in file order */
	size_t ntrans;		     /* how many, >= 1 */
};

/* Reads, validates and checks the specification at path into *spec, which
 * the caller frees with profile_spec__free. Returns 0, or -errno with err
 * holding one line "FILE:LINE: what is wrong" ("FILE: No such file or
 * directory" when there is no line to name); *spec is empty then. Besides
 * the DTD: non-empty Name, url, uriInfoFile, Node, Process and Interface, a
 * port in 1..65535, and no two TransInfo with the same Name. */
int profile_spec__load(struct profile_spec *spec, const char *path, char *err, size_t errcap);
/* Frees everything spec holds and empties it; safe on an empty spec. */
void profile_spec__free(struct profile_spec *spec);

#endif
