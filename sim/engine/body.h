/* body: the bytes of a generated body (body_size), the same whether
 * libmicrohttpd streams it or the raw path renders it. Pure. */
#ifndef UPSIM_ENGINE_BODY_H
#define UPSIM_ENGINE_BODY_H

#include <stddef.h>
#include <stdint.h>

/* Generated bodies repeat this 64-byte line, cut at the end. */
#define BODY_PATTERN "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ\n"
/* Largest chunk a chunked body is sent in. */
#define BODY_MAX_CHUNK 4096

/* Fill buf with n bytes of the generated body starting at offset. */
void body_pattern(uint64_t offset, char *buf, size_t n);

#endif
