/* oci: a client for the OCI distribution protocol over libcurl — references as tart
 * takes them (host[:port]/repo[:tag|@sha256:HEX]), manifests (an index followed to its
 * darwin/arm64 entry), blobs (HEAD, GET into memory, monolithic upload), and the
 * registries' auth: anonymous, Bearer tokens asked of the realm a 401's WWW-Authenticate
 * names, Basic, with credentials from ocicreds. TLS is verified (CURL_CA_BUNDLE names
 * extra roots); plain HTTP only when the caller allows it. Safe to use from several
 * threads. Never prints; fail(): 64 a reference that does not parse, 65 a registry
 * whose bytes do not match their digest, 66 no such manifest, 69 refused (4xx), 75 the
 * network or a 5xx, 77 credentials missing or refused. */
#ifndef CLAW_OCI_H
#define CLAW_OCI_H

#include "util.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OCI_DIGEST_MAX 72 /* "sha256:" + 64 hex + NUL */

struct oci_ref {
	char host[256];               /* host or host:port */
	char repo[256];
	char tag[129];                /* "" when the reference is a digest */
	char digest[OCI_DIGEST_MAX];  /* "" when it is a tag */
};

/* EX_USAGE with the reason when s is not a reference; no tag or digest means ":latest". */
int oci_ref_parse(const char *s, struct oci_ref *out);
/* "host/repo:tag" or "host/repo@sha256:..." (a new string). */
char *oci_ref_string(const struct oci_ref *r);
/* localhost, *.localhost, 127.0.0.0/8 or ::1, with or without a port. */
bool oci_host_loopback(const char *host);
/* May the client speak plain HTTP to host? --insecure alone (arg "") allows a loopback host;
 * --insecure=HOST allows that host only. EX_USAGE saying why not. */
int oci_insecure_check(const char *arg, const char *host);
/* "sha256:" and 64 lowercase hex digits: safe in a URL and a file name. */
bool oci_digest_ok(const char *digest);

struct oci; /* a client for one repository; opaque */

/* plain_http: speak http:// to the registry (the caller has decided it may). */
struct oci *oci_open(const struct oci_ref *ref, bool plain_http);
void oci_close(struct oci *c);

/* The manifest ref names (a tag or a digest), following an index to its darwin/arm64
 * manifest; its bytes checked against the digest asked for and the one the registry
 * states. *out is the manifest, digest its digest. */
int oci_manifest_get(struct oci *c, const char *reference, json_t **out, char digest[OCI_DIGEST_MAX]);
/* Put a manifest (OCI image manifest) under tag. */
int oci_manifest_put(struct oci *c, const char *tag, const char *text, size_t len);

/* Does the repository hold the blob? */
int oci_blob_exists(struct oci *c, const char *digest, bool *yes);
/* A small blob into memory (at most max bytes), checked against its digest. */
int oci_blob_get(struct oci *c, const char *digest, size_t max, struct buf *out);
/* Upload a blob held in memory: POST, then one PUT with its digest. */
int oci_blob_put(struct oci *c, const char *digest, const void *data, size_t len);
/* The blob's URL, for a download someone else makes (a new string). */
char *oci_blob_url(const struct oci *c, const char *digest);
/* Make a libcurl handle (a CURL *) someone else made speak to the registry as this
 * client does: its TLS roots and its current authorization (a token asked again when it
 * has expired). For transfer.c's connections. */
void oci_prepare_handle(void *curl, void *client);

#endif
