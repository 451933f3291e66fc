/* addr: "HOST:PORT" strings to socket addresses and back. */
#ifndef UPSIM_BASE_ADDR_H
#define UPSIM_BASE_ADDR_H

#include <stdbool.h>
#include <sys/socket.h>

/* Longest string addr_format writes, NUL included. */
#define ADDR_STRLEN 64

/* Parse "127.0.0.1:8080", "[::1]:0" or "localhost:0" (numeric port
 * required, 0 = any free port). Returns 0, or -1 with a static reason in
 * *why. Host names are resolved once, here. */
int addr_parse(const char *s, struct sockaddr_storage *out, socklen_t *len, const char **why);

/* Write "HOST:PORT" ("[HOST]:PORT" for IPv6) into buf (ADDR_STRLEN). */
char *addr_format(const struct sockaddr *sa, char *buf);

/* Is the address a loopback one (127.0.0.0/8 or ::1)? */
bool addr_is_loopback(const struct sockaddr *sa);
/* Is it the wildcard address (0.0.0.0 or ::)? */
bool addr_is_any(const struct sockaddr *sa);

#endif
