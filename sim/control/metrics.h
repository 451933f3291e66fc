/* metrics: the Prometheus text exposition (format 0.0.4) of a running
 * upsim — requests, faults by kind, outcomes, connections open, held and
 * suspended, the phase, and a request duration histogram. */
#ifndef UPSIM_CONTROL_METRICS_H
#define UPSIM_CONTROL_METRICS_H

#include "control/upstream.h"

/* The exposition text (free it). Series of one upstream carry an
 * upstream="NAME" label in a fleet. */
char *metrics_text(const struct fleet *fl);

#endif
