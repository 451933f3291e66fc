#include "scenario/fleet.h"

#include <jansson.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "scenario/jcheck.h"

void upstream_spec_clear(struct upstream_spec *s)
{
	free(s->name);
	free(s->listen);
	free(s->scenario);
	memset(s, 0, sizeof *s);
}

static bool valid_name(const char *s, size_t n)
{
	if (n == 0 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.",
			    s[i]))
			return false;
	return true;
}

int fleet_parse_spec(const char *arg, struct upstream_spec *out, const char **why)
{
	const char *eq1 = strchr(arg, '=');
	const char *eq2 = eq1 ? strchr(eq1 + 1, '=') : NULL;
	if (eq1 == NULL || eq2 == NULL || eq2 == eq1 + 1 || eq2[1] == '\0') {
		*why = "expected NAME=ADDR:PORT=SCENARIO.json";
		return -1;
	}
	if (!valid_name(arg, (size_t)(eq1 - arg))) {
		*why = "a name is 1..64 letters, digits, '-', '_' or '.'";
		return -1;
	}
	out->name = xmemdup(arg, (size_t)(eq1 - arg));
	out->listen = xmemdup(eq1 + 1, (size_t)(eq2 - eq1 - 1));
	out->scenario = xstrdup(eq2 + 1);
	return 0;
}

/* A scenario path relative to the fleet file's folder. */
static char *beside(const char *fleet_path, const char *path)
{
	if (path[0] == '/')
		return xstrdup(path);
	char *copy = xstrdup(fleet_path);
	char *out = xasprintf("%s/%s", dirname(copy), path);
	free(copy);
	return out;
}

static void load_member(struct jcheck *jc, json_t *m, const char *path, struct upstream_spec *s)
{
	static const char *const keys[] = {"name", "listen", "scenario", NULL};
	if (!json_is_object(m)) {
		jcheck_fail(jc, "expected an upstream object, got %s", jcheck_type_name(m));
		return;
	}
	jcheck_keys(jc, m, keys);
	char *scenario = NULL;
	if (jcheck_string(jc, m, "name", &s->name, NULL) != 1
	    || !valid_name(s->name, strlen(s->name)))
		jcheck_fail_key(jc, "name",
				"expected a name of 1..64 letters, digits, "
				"'-', '_' or '.'");
	if (jcheck_string(jc, m, "listen", &s->listen, NULL) != 1)
		jcheck_fail_key(jc, "listen", "expected \"ADDR:PORT\"");
	if (jcheck_string(jc, m, "scenario", &scenario, NULL) == 1)
		s->scenario = beside(path, scenario);
	else
		jcheck_fail_key(jc, "scenario", "expected the path of a scenario file");
	free(scenario);
}

int fleet_load_file(const char *path, struct upstream_spec *specs, size_t *n, struct upsim_err *err)
{
	json_error_t je;
	json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (root == NULL) {
		err_addf(err, "%s:%d:%d: %s", path, je.line, je.column, je.text);
		return -1;
	}
	struct jcheck jc;
	jcheck_init(&jc, path, err);
	size_t before = err_count(err);
	static const char *const keys[] = {"upsim", "upstreams", "$schema", NULL};
	if (!json_is_object(root))
		jcheck_fail(&jc, "a fleet file is a JSON object, got %s", jcheck_type_name(root));
	jcheck_keys(&jc, root, keys);
	jcheck_schema_ref(&jc, root);
	json_t *version = json_object_get(root, "upsim");
	if (json_is_object(root) && (!json_is_integer(version) || json_integer_value(version) != 1))
		jcheck_fail(&jc, "expected \"upsim\": 1 (the format version)");
	json_t *list = jcheck_array(&jc, root, "upstreams");
	if (list && (json_array_size(list) == 0 || *n + json_array_size(list) > FLEET_MAX))
		jcheck_fail_key(&jc, "upstreams", "expected 1..%d upstreams", FLEET_MAX);
	else if (list == NULL && json_is_object(root))
		jcheck_fail(&jc, "missing \"upstreams\"");
	size_t i;
	json_t *m;
	size_t mark = jcheck_push_key(&jc, "upstreams");
	json_array_foreach(list, i, m)
	{
		if (*n >= FLEET_MAX)
			break;
		size_t im = jcheck_push_index(&jc, i);
		load_member(&jc, m, path, &specs[(*n)++]);
		jcheck_pop(&jc, im);
	}
	jcheck_pop(&jc, mark);
	json_decref(root);
	return err_count(err) == before ? 0 : -1;
}
