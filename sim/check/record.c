#include "check/record.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"

/* The status most tries gave, and how many gave it. */
static int common_status(const struct check_probe *p, size_t *count)
{
	int best = 0;
	*count = 0;
	for (size_t i = 0; i < p->n_tries; i++) {
		size_t k = 0;
		for (size_t j = 0; j < p->n_tries; j++)
			k += p->tries[j].answer.status == p->tries[i].answer.status;
		if (k > *count) {
			*count = k;
			best = p->tries[i].answer.status;
		}
	}
	return best;
}

/* The attempts every try saw, or -1 when they differ or are unknown. */
static long common_attempts(const struct check_probe *p)
{
	long a = p->n_tries ? p->tries[0].attempts : -1;
	for (size_t i = 1; i < p->n_tries; i++)
		if (p->tries[i].attempts != a)
			return -1;
	return a;
}

/* Set obj (the gateway's entry) to what p observed. */
static void observe(json_t *obj, const struct check_probe *p)
{
	size_t count;
	int status = common_status(p, &count);
	json_object_set_new(obj, "status", json_integer(status));
	json_object_del(obj, "at_least");
	json_object_del(obj, "at_most");
	if (count < p->n_tries) /* a race: pin that it happens at all */
		json_object_set_new(obj, "at_least", json_integer(1));
	long attempts = common_attempts(p);
	if (json_object_get(obj, "retried") != NULL && attempts >= 0)
		json_object_set_new(obj, "retried", json_boolean(attempts > 1));
	else if (attempts >= 0)
		json_object_set_new(obj, "attempts", json_integer(attempts));
	else
		json_object_del(obj, "attempts");
}

/* The expect block of p in root (borrowed), or NULL. */
static json_t *block_of(json_t *root, const struct check_probe *p)
{
	json_t *parent = root;
	if (p->rule >= 0)
		parent = json_array_get(json_object_get(root, "rules"), (size_t)p->rule);
	else if (p->phase >= 0)
		parent = json_array_get(json_object_get(root, "phases"), (size_t)p->phase);
	return json_object_get(parent, "expect");
}

static int write_atomically(json_t *root, const char *path, struct upsim_err *err)
{
	char *tmp = xasprintf("%s.upsim-record", path);
	int rc = json_dump_file(root, tmp, JSON_INDENT(2));
	FILE *f = rc == 0 ? fopen(tmp, "a") : NULL;
	if (f != NULL) {
		fputc('\n', f);
		rc = fclose(f);
	}
	if (rc != 0 || rename(tmp, path) != 0) {
		err_addf(err, "%s: cannot write: %s", path, strerror(errno));
		remove(tmp);
		rc = -1;
	}
	free(tmp);
	return rc;
}

static int record_file(const struct check_config *cfg, const struct check_probe *list, size_t n,
		       const char *file, struct upsim_err *err)
{
	json_error_t je;
	json_t *root = json_load_file(file, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
	if (root == NULL) {
		err_addf(err, "%s: cannot read it again: %s", file, je.text);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		const struct check_probe *p = &list[i];
		if (strcmp(p->file, file) != 0 || p->skipped || p->n_tries == 0)
			continue;
		json_t *block = block_of(root, p);
		json_t *entry = json_object_get(block, cfg->gateway);
		if (entry == NULL) {
			entry = json_object();
			json_object_set_new(block, cfg->gateway, entry);
		}
		observe(entry, p);
	}
	int rc = write_atomically(root, file, err);
	json_decref(root);
	return rc;
}

int record_write(const struct check_config *cfg, const struct check_probe *list, size_t n,
		 struct upsim_err *err)
{
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		bool first = true;
		for (size_t j = 0; j < i; j++)
			first &= strcmp(list[j].file, list[i].file) != 0;
		if (first && record_file(cfg, list, n, list[i].file, err) != 0)
			rc = -1;
	}
	return rc;
}
