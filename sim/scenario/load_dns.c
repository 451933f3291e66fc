/* load_dns: the "dns" object of a scenario and of a phase.
 *
 *   "dns": {"listen": "127.0.0.1:5353",
 *           "names": {"orders.test": {"a": ["127.0.0.1"], "ttl": 5},
 *                     "gone.test": {"fault": "nxdomain"},
 *                     "slow.test": {"a": ["127.0.0.1"], "delay": "2s"},
 *                     "flaky.test": {"choose": [{"weight": 3, "a": ["127.0.0.1"]},
 *                                               {"weight": 1, "fault": "servfail"}]}}}
 *
 * A phase's "dns" has "names" only: while the phase is current they are
 * answered instead of the top level's names of the same name. */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/xalloc.h"
#include "scenario/dns.h"

static const char *const dns_keys[] = {"listen", "names", NULL};
static const char *const phase_dns_keys[] = {"names", NULL};
static const char *const answer_keys[] = {
	"fault", "delay", "ttl", "a", "aaaa", "srv", "rotate", "flap", "every", "choose", NULL,
};
static const char *const choice_keys[] = {
	"weight", "fault", "delay", "ttl", "a", "aaaa", "srv", "rotate", "flap", "every", NULL,
};
static const char *const srv_keys[] = {"priority", "weight", "port", "target", NULL};
static const char *const fault_names[] = {
	"nxdomain", "servfail", "refused", "timeout", "empty", "truncated", NULL,
};
/* Record types people may try to write: named in the error, not guessed at. */
static const char *const other_types[] = {
	"cname", "mx",	  "txt",  "ns", "ptr",	  "soa", "caa",
	"naptr", "https", "svcb", "ds", "dnskey", "any", NULL,
};

#define DEFAULT_TTL 30

const char *dns_fault_name(enum dns_fault f)
{
	if (f == DNS_FAULT_NONE || (unsigned)f >= DNS_FAULT_COUNT)
		return "none";
	return fault_names[f - 1];
}

bool dns_name_valid(const char *s)
{
	size_t len = strlen(s);
	if (len > 0 && s[len - 1] == '.')
		len--;
	if (len == 0 || len > DNS_NAME_MAX)
		return false;
	size_t label = 0;
	for (size_t i = 0; i <= len; i++) {
		char c = i < len ? s[i] : '.';
		if (c == '.') {
			if (label == 0 || label > 63 || s[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!isalnum((unsigned char)c) && c != '-' && c != '_')
			return false;
		if (c == '-' && label == 0)
			return false;
		label++;
	}
	return true;
}

/* s in lower case without the final dot: a new string. */
static char *canonical_name(const char *s)
{
	char *n = xstrdup(s);
	size_t len = strlen(n);
	if (len > 0 && n[len - 1] == '.')
		n[len - 1] = '\0';
	for (char *p = n; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return n;
}

/* Numeric "IPv4:PORT" or "[IPv6]:PORT": the server binds it at start. */
static bool listen_valid(const char *s, const char **why)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	*why = "expected \"ADDRESS:PORT\" with a numeric address, e.g. \"127.0.0.1:5353\"";
	if (colon == NULL || colon == s || (size_t)(colon - s) >= sizeof host)
		return false;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	unsigned char buf[16];
	bool ok;
	if (host[0] == '[') {
		size_t hl = strlen(host);
		if (hl < 3 || host[hl - 1] != ']')
			return false;
		host[hl - 1] = '\0';
		ok = inet_pton(AF_INET6, host + 1, buf) == 1;
	} else {
		ok = inet_pton(AF_INET, host, buf) == 1;
	}
	if (!ok)
		return false;
	char *end;
	const char *port = colon + 1;
	unsigned long p = strtoul(port, &end, 10);
	if (!isdigit((unsigned char)port[0]) || *end != '\0' || p > 65535) {
		*why = "the port is a number from 0 to 65535";
		return false;
	}
	return true;
}

/* An address list at key: IPv4 only for a, IPv6 only for aaaa. */
static void load_addrs(struct jcheck *jc, json_t *list, bool v6, struct dns_addr **out, size_t *n)
{
	size_t count = json_array_size(list);
	if (count > DNS_MAX_ADDRS) {
		jcheck_fail(jc, "at most %d addresses", DNS_MAX_ADDRS);
		return;
	}
	*out = xcalloc(count ? count : 1, sizeof **out);
	size_t i;
	json_t *v;
	json_array_foreach(list, i, v)
	{
		size_t im = jcheck_push_index(jc, i);
		struct dns_addr *a = &(*out)[*n];
		const char *s = json_is_string(v) ? json_string_value(v) : NULL;
		if (s == NULL) {
			jcheck_fail(jc, "expected an address string, got %s", jcheck_type_name(v));
		} else if (inet_pton(v6 ? AF_INET6 : AF_INET, s, a->bytes) != 1) {
			unsigned char other[16];
			bool wrong = inet_pton(v6 ? AF_INET : AF_INET6, s, other) == 1;
			jcheck_fail(jc, "\"%s\" is not an %s address%s", s, v6 ? "IPv6" : "IPv4",
				    wrong ? (v6 ? " (an IPv4 one goes in \"a\")"
						: " (an IPv6 one goes in \"aaaa\")")
					  : "");
		} else {
			a->v6 = v6;
			inet_ntop(v6 ? AF_INET6 : AF_INET, a->bytes, a->text, sizeof a->text);
			(*n)++;
		}
		jcheck_pop(jc, im);
	}
}

static void load_addr_key(struct jcheck *jc, json_t *obj, const char *key, bool v6,
			  struct dns_addr **out, size_t *n)
{
	json_t *list = jcheck_array(jc, obj, key);
	if (list == NULL)
		return;
	size_t mark = jcheck_push_key(jc, key);
	load_addrs(jc, list, v6, out, n);
	jcheck_pop(jc, mark);
}

static void load_srv(struct jcheck *jc, json_t *obj, struct dns_answer *a)
{
	json_t *list = jcheck_array(jc, obj, "srv");
	if (list == NULL)
		return;
	size_t mark = jcheck_push_key(jc, "srv");
	size_t count = json_array_size(list);
	if (count > DNS_MAX_ADDRS) {
		jcheck_fail(jc, "at most %d records", DNS_MAX_ADDRS);
		jcheck_pop(jc, mark);
		return;
	}
	a->srv = xcalloc(count ? count : 1, sizeof *a->srv);
	size_t i;
	json_t *v;
	json_array_foreach(list, i, v)
	{
		size_t im = jcheck_push_index(jc, i);
		struct dns_srv *s = &a->srv[a->n_srv];
		if (!json_is_object(v)) {
			jcheck_fail(jc, "expected {\"port\": P, \"target\": NAME}, got %s",
				    jcheck_type_name(v));
			jcheck_pop(jc, im);
			continue;
		}
		jcheck_keys(jc, v, srv_keys);
		long long n;
		if (jcheck_int(jc, v, "priority", 0, 65535, &n) == 1)
			s->priority = (uint16_t)n;
		if (jcheck_int(jc, v, "weight", 0, 65535, &n) == 1)
			s->weight = (uint16_t)n;
		int got_port = jcheck_int(jc, v, "port", 0, 65535, &n);
		if (got_port == 1)
			s->port = (uint16_t)n;
		else if (got_port == 0)
			jcheck_fail(jc, "missing \"port\"");
		char *target = NULL;
		int got_target = jcheck_string(jc, v, "target", &target, NULL);
		if (got_target == 0)
			jcheck_fail(jc, "missing \"target\"");
		else if (got_target == 1 && !dns_name_valid(target))
			jcheck_fail_key(jc, "target", "\"%s\" is not a valid DNS name", target);
		if (got_target == 1 && dns_name_valid(target) && got_port == 1) {
			s->target = canonical_name(target);
			a->n_srv++;
		}
		free(target);
		jcheck_pop(jc, im);
	}
	jcheck_pop(jc, mark);
}

static void load_flap(struct jcheck *jc, json_t *obj, struct dns_answer *a)
{
	json_t *list = jcheck_array(jc, obj, "flap");
	bool has_every = jcheck_duration(jc, obj, "every", &a->every_us) == 1;
	if (list == NULL) {
		if (has_every)
			jcheck_fail_key(jc, "every", "only applies with \"flap\"");
		return;
	}
	size_t mark = jcheck_push_key(jc, "flap");
	size_t count = json_array_size(list);
	if (count < 2 || count > DNS_MAX_FLAP)
		jcheck_fail(jc,
			    "expected 2..%d address sets, e.g. [[\"127.0.0.1\"], "
			    "[\"127.0.0.2\"]]",
			    DNS_MAX_FLAP);
	else {
		a->flap = xcalloc(count, sizeof *a->flap);
		a->n_flap_addrs = xcalloc(count, sizeof *a->n_flap_addrs);
		a->n_flap = count;
		for (size_t i = 0; i < count; i++) {
			size_t im = jcheck_push_index(jc, i);
			json_t *set = json_array_get(list, i);
			if (!json_is_array(set))
				jcheck_fail(jc, "expected a list of IPv4 addresses, got %s",
					    jcheck_type_name(set));
			else
				load_addrs(jc, set, false, &a->flap[i], &a->n_flap_addrs[i]);
			jcheck_pop(jc, im);
		}
	}
	jcheck_pop(jc, mark);
	if (!has_every && json_object_get(obj, "every") == NULL)
		jcheck_fail(jc, "\"flap\" needs \"every\": how long each address set lasts");
	else if (has_every && a->every_us == 0)
		jcheck_fail_key(jc, "every", "must be more than 0");
	if (json_object_get(obj, "a") != NULL)
		jcheck_fail_key(jc, "flap", "\"flap\" replaces \"a\": give one or the other");
}

/* Unknown keys, with a clear word for record types upsim does not serve. */
static void check_keys(struct jcheck *jc, json_t *obj, const char *const allowed[])
{
	const char *key;
	json_t *value;
	json_object_foreach(obj, key, value)
	{
		(void)value;
		bool known = false;
		for (int i = 0; allowed[i] && !known; i++)
			known = strcmp(key, allowed[i]) == 0;
		if (known)
			continue;
		bool type = false;
		for (int i = 0; other_types[i] && !type; i++)
			type = strcasecmp(key, other_types[i]) == 0;
		const char *lower = NULL;
		for (int i = 0; allowed[i] && !lower; i++)
			if (strcasecmp(key, allowed[i]) == 0)
				lower = allowed[i];
		if (type)
			jcheck_fail_key(jc, key,
					"unknown record type: upsim answers \"a\", "
					"\"aaaa\" and \"srv\"");
		else if (lower)
			jcheck_fail_key(jc, key, "unknown key (did you mean \"%s\"?)", lower);
		else if ((lower = jcheck_nearest(key, allowed)) != NULL)
			jcheck_fail_key(jc, key, "unknown key (did you mean \"%s\"?)", lower);
		else
			jcheck_fail_key(jc, key, "unknown key");
	}
}

/* One answer (a name's own, or a choose entry when weighted). */
static void load_answer(struct jcheck *jc, json_t *obj, bool weighted, struct dns_answer *a)
{
	a->weight = 1;
	a->ttl = DEFAULT_TTL;
	check_keys(jc, obj, weighted ? choice_keys : answer_keys);
	long long n;
	if (weighted && jcheck_int(jc, obj, "weight", 0, 1000000, &n) == 1)
		a->weight = (unsigned)n;
	int f;
	json_t *fv = json_object_get(obj, "fault");
	if (json_is_string(fv) && strcmp(json_string_value(fv), "delay") == 0)
		jcheck_fail_key(jc, "fault",
				"delay is not a fault here: write \"delay\": "
				"\"2s\" beside the answer (or the fault) it delays");
	else if (jcheck_enum(jc, obj, "fault", fault_names, NULL, &f) == 1)
		a->fault = (enum dns_fault)f;
	jcheck_duration(jc, obj, "delay", &a->delay_us);
	if (jcheck_int(jc, obj, "ttl", 0, DNS_MAX_TTL, &n) == 1)
		a->ttl = (uint32_t)n;
	load_addr_key(jc, obj, "a", false, &a->a, &a->n_a);
	load_addr_key(jc, obj, "aaaa", true, &a->aaaa, &a->n_aaaa);
	load_srv(jc, obj, a);
	jcheck_bool(jc, obj, "rotate", &a->rotate);
	load_flap(jc, obj, a);
	bool records = json_object_get(obj, "a") || json_object_get(obj, "aaaa")
		       || json_object_get(obj, "srv") || json_object_get(obj, "flap");
	if (a->fault != DNS_FAULT_NONE && a->fault != DNS_FAULT_TRUNCATED && records)
		jcheck_fail_key(jc, "fault",
				"%s answers no records: drop \"a\", \"aaaa\", "
				"\"srv\" and \"flap\", or the fault",
				dns_fault_name(a->fault));
	if (a->fault == DNS_FAULT_TIMEOUT && json_object_get(obj, "delay"))
		jcheck_fail_key(jc, "delay", "timeout never answers: a delay means nothing");
	if (a->rotate && json_object_get(obj, "a") == NULL && json_object_get(obj, "aaaa") == NULL)
		jcheck_fail_key(jc, "rotate", "rotates the \"a\" or \"aaaa\" list: give one");
}

static void load_choose(struct jcheck *jc, json_t *obj, struct dns_name *nm)
{
	json_t *list = jcheck_array(jc, obj, "choose");
	if (list == NULL)
		return;
	size_t mark = jcheck_push_key(jc, "choose");
	size_t n = json_array_size(list);
	if (n == 0 || n > 1000) {
		jcheck_fail(jc, "expected 1..1000 answers");
		jcheck_pop(jc, mark);
		return;
	}
	nm->answers = xcalloc(n, sizeof *nm->answers);
	nm->n_answers = n;
	nm->choose = true;
	for (size_t i = 0; i < n; i++) {
		size_t im = jcheck_push_index(jc, i);
		json_t *v = json_array_get(list, i);
		if (!json_is_object(v))
			jcheck_fail(jc, "expected an answer object, got %s", jcheck_type_name(v));
		else
			load_answer(jc, v, true, &nm->answers[i]);
		nm->total_weight += nm->answers[i].weight;
		jcheck_pop(jc, im);
	}
	if (nm->total_weight == 0)
		jcheck_fail(jc, "the weights add up to 0: nothing can be chosen");
	jcheck_pop(jc, mark);
}

static void load_name(struct jcheck *jc, const char *key, json_t *obj, struct dns_name *nm)
{
	nm->name = canonical_name(key);
	if (!dns_name_valid(key)) {
		jcheck_fail(jc,
			    "\"%s\" is not a valid DNS name (labels of letters, digits, "
			    "'-' and '_', 1..63 characters each, 253 in all)",
			    key);
		return;
	}
	if (!json_is_object(obj)) {
		jcheck_fail(jc, "expected an answer object, got %s", jcheck_type_name(obj));
		return;
	}
	if (json_object_get(obj, "choose") == NULL) {
		nm->answers = xcalloc(1, sizeof *nm->answers);
		nm->n_answers = 1;
		nm->total_weight = 1;
		load_answer(jc, obj, false, &nm->answers[0]);
		return;
	}
	if (json_object_size(obj) != 1) {
		check_keys(jc, obj, answer_keys);
		jcheck_fail(jc, "\"choose\" stands alone: each of its answers carries its "
				"own records and fault");
	}
	load_choose(jc, obj, nm);
}

static void load_names(struct jcheck *jc, json_t *names, size_t *next_index, struct dns_config *c)
{
	size_t n = json_object_size(names);
	if (n > DNS_MAX_NAMES) {
		jcheck_fail(jc, "at most %d names", DNS_MAX_NAMES);
		return;
	}
	c->names = xcalloc(n ? n : 1, sizeof *c->names);
	const char *key;
	json_t *v;
	json_object_foreach(names, key, v)
	{
		size_t mark = jcheck_push_key(jc, key);
		struct dns_name *nm = &c->names[c->n_names++];
		nm->index = (*next_index)++;
		load_name(jc, key, v, nm);
		for (size_t i = 0; i + 1 < c->n_names; i++)
			if (strcmp(c->names[i].name, nm->name) == 0)
				jcheck_fail(jc,
					    "the same name as \"%s\" (names are compared "
					    "without case or final dot)",
					    c->names[i].name);
		jcheck_pop(jc, mark);
	}
}

void dns_load(struct jcheck *jc, json_t *obj, bool in_phase, size_t *next_index,
	      struct dns_config **out)
{
	*out = NULL;
	json_t *d = jcheck_object(jc, obj, "dns");
	if (d == NULL)
		return;
	struct dns_config *c = xcalloc(1, sizeof *c);
	*out = c;
	size_t mark = jcheck_push_key(jc, "dns");
	if (in_phase && json_object_get(d, "listen") != NULL)
		jcheck_fail_key(jc, "listen",
				"a phase's \"dns\" has \"names\" only: the "
				"server listens where the top-level \"dns\" says");
	else
		jcheck_keys(jc, d, in_phase ? phase_dns_keys : dns_keys);
	if (!in_phase) {
		int got = jcheck_string(jc, d, "listen", &c->listen, NULL);
		const char *why;
		if (got == 0)
			jcheck_fail(jc, "missing \"listen\": the address the DNS server "
					"answers on, e.g. \"127.0.0.1:5353\"");
		else if (got == 1 && !listen_valid(c->listen, &why))
			jcheck_fail_key(jc, "listen", "%s", why);
	}
	json_t *names = jcheck_object(jc, d, "names");
	if (names == NULL && json_object_get(d, "names") == NULL)
		jcheck_fail(jc, "missing \"names\": the names it answers for");
	if (names != NULL) {
		size_t nm = jcheck_push_key(jc, "names");
		load_names(jc, names, next_index, c);
		jcheck_pop(jc, nm);
	}
	jcheck_pop(jc, mark);
}

static void free_answer(struct dns_answer *a)
{
	free(a->a);
	free(a->aaaa);
	for (size_t i = 0; i < a->n_srv; i++)
		free(a->srv[i].target);
	free(a->srv);
	for (size_t i = 0; i < a->n_flap; i++)
		free(a->flap[i]);
	free(a->flap);
	free(a->n_flap_addrs);
}

void dns_config_free(struct dns_config *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n_names; i++) {
		for (size_t j = 0; j < c->names[i].n_answers; j++)
			free_answer(&c->names[i].answers[j]);
		free(c->names[i].answers);
		free(c->names[i].name);
	}
	free(c->names);
	free(c->listen);
	free(c);
}

const struct dns_name *dns_config_find(const struct dns_config *c, const char *name)
{
	if (c == NULL)
		return NULL;
	for (size_t i = 0; i < c->n_names; i++)
		if (strcmp(c->names[i].name, name) == 0)
			return &c->names[i];
	return NULL;
}
