/* ready: the ready line — one JSON object on stdout (and, atomically, in
 * --ready-file) once every port accepts connections. Harnesses wait for
 * it and read the addresses from it. */
#ifndef UPSIM_CONTROL_READY_H
#define UPSIM_CONTROL_READY_H

#include "control/upstream.h"

/* Print the ready line for fleet (admin: the admin API's address or
 * NULL), writing ready_file first when given. 0, or -1 when the file
 * could not be written (logged). */
int ready_announce(const struct fleet *fleet, const char *admin, const char *ready_file);

#endif
