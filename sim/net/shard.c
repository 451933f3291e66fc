#include "net/shard.h"

struct call {
	shard_fn fn;
	struct shard *sh;
	void *arg;
};

static void run_call(void *arg)
{
	struct call *c = arg;
	c->fn(c->sh, c->arg);
}

void shard_call(struct shard *sh, shard_fn fn, void *arg)
{
	if (sh->inbox == NULL) {
		fn(sh, arg);
		return;
	}
	struct call c = {fn, sh, arg};
	inbox_call(sh->inbox, run_call, &c);
}
