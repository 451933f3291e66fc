/* util: tiny macros shared by every module. */
#ifndef UPSIM_BASE_UTIL_H
#define UPSIM_BASE_UTIL_H

#include <stddef.h>

/* The struct that embeds member, from a pointer to that member. */
#define container_of(ptr, type, member) ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define UPSIM_VERSION "0.1.0"

#endif
