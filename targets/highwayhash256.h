/* highwayhash256.h -- HighwayHash-256 (portable C), as MinIO's
 * Elasticsearch target uses it for namespace document ids. */
#ifndef LUAGATE_HIGHWAYHASH256_H
#define LUAGATE_HIGHWAYHASH256_H

#include <stddef.h>
#include <stdint.h>

/* out = the 32-byte digest, in the byte order Go's highwayhash.Sum256 gives. */
void highwayhash256(const uint8_t key[32], const void *data, size_t len, uint8_t out[32]);

/* MinIO's document id of a namespace key: base64url (with padding) of the
 * HighwayHash-256 of key under MinIO's fixed hash key.  out gets 44 chars + NUL. */
void hh_es_doc_id(const char *key, size_t len, char out[45]);

#endif
