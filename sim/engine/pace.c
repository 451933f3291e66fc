#include "engine/pace.h"

#include <string.h>

/* At most this many writes a second for a byte rate: larger steps keep a
 * high rate cheap, and 10 ms granularity is finer than any gateway timeout. */
#define RATE_STEPS_PER_SECOND 100

static void add_pause(struct pacer *p, size_t at, uint64_t ns)
{
	if (ns == 0 || p->n_pauses == PACE_MAX_PAUSES)
		return;
	/* Keep pauses sorted by offset. */
	int i = p->n_pauses++;
	while (i > 0 && p->pause_at[i - 1] > at) {
		p->pause_at[i] = p->pause_at[i - 1];
		p->pause_ns[i] = p->pause_ns[i - 1];
		i--;
	}
	p->pause_at[i] = at;
	p->pause_ns[i] = ns;
}

void pace_init(struct pacer *p, const struct pace *pace, const struct render *r, uint64_t now_ns)
{
	memset(p, 0, sizeof *p);
	p->len = r->len;
	p->next_ns = now_ns;
	if (pace->drip_bytes) {
		p->chunk = pace->drip_bytes;
		p->step_ns = pace->drip_every_us * 1000;
	} else if (pace->rate) {
		p->chunk = pace->rate / RATE_STEPS_PER_SECOND;
		if (p->chunk == 0)
			p->chunk = 1;
		p->step_ns = p->chunk * 1000000000ULL / pace->rate;
	}
	p->step_left = p->chunk;
	if (r->head_end < r->len)
		add_pause(p, r->head_end, pace->header_delay_us * 1000);
	if (pace->stall_at) {
		size_t at = render_part_start(r, pace->stall_at) + (size_t)pace->stall_offset;
		size_t end = render_part_end(r, pace->stall_at);
		if (end > r->len)
			end = r->len; /* truncated: the stall cannot lie past the cut */
		add_pause(p, at < end ? at : end, pace->stall_for_us * 1000);
	}
}

size_t pace_next(struct pacer *p, uint64_t now_ns, uint64_t *wake_ns)
{
	*wake_ns = 0;
	if (p->pos >= p->len)
		return 0;
	if (p->n_pauses > 0 && p->pause_at[0] == p->pos) {
		/* Take the pause once: it moves the whole timeline later. */
		uint64_t from = now_ns > p->next_ns ? now_ns : p->next_ns;
		p->next_ns = from + p->pause_ns[0];
		p->n_pauses--;
		memmove(p->pause_at, p->pause_at + 1, (size_t)p->n_pauses * sizeof *p->pause_at);
		memmove(p->pause_ns, p->pause_ns + 1, (size_t)p->n_pauses * sizeof *p->pause_ns);
	}
	if (now_ns < p->next_ns) {
		*wake_ns = p->next_ns;
		return 0;
	}
	size_t limit = p->n_pauses > 0 ? p->pause_at[0] : p->len;
	size_t n = limit - p->pos;
	if (p->chunk && n > p->step_left)
		n = (size_t)p->step_left;
	return n;
}

void pace_wrote(struct pacer *p, size_t n, uint64_t now_ns)
{
	(void)now_ns;
	p->pos += n;
	if (p->chunk == 0)
		return;
	/* A step is over when its bytes are all out; the next one is due a
	 * period after this one was due, not after the write ended. */
	p->step_left -= n;
	if (p->step_left == 0) {
		p->step_left = p->chunk;
		p->next_ns += p->step_ns;
	}
}
