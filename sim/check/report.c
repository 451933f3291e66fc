#include "check/report.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "engine/record.h"

const char *report_result(const struct check_probe *p)
{
	if (p->skipped)
		return "skip";
	if (p->want == NULL)
		return "recorded";
	return p->verdict.pass ? "pass" : "fail";
}

struct report_totals report_count(const struct check_probe *list, size_t n)
{
	struct report_totals t = {0};
	for (size_t i = 0; i < n; i++) {
		const char *r = report_result(&list[i]);
		if (strcmp(r, "pass") == 0)
			t.passed++;
		else if (strcmp(r, "fail") == 0)
			t.failed++;
		else if (strcmp(r, "skip") == 0)
			t.skipped++;
		else
			t.recorded++;
	}
	return t;
}

/* "GET /path", for several tries " x20", for a phase's probe " in phase
 * down". */
static void probe_name(const struct check_probe *p, char *buf, size_t len)
{
	const struct probe_request *rq = &p->expect->probe;
	int used = snprintf(buf, len, "%s %s", rq->method, rq->path);
	if (p->expect->repeat > 1 && used > 0 && (size_t)used < len)
		used += snprintf(buf + used, len - (size_t)used, " x%u", p->expect->repeat);
	if (p->phase >= 0 && used > 0 && (size_t)used < len)
		snprintf(buf + used, len - (size_t)used, " in phase %s",
			 p->scenario->phases[p->phase].name);
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

void report_text(FILE *out, const struct check_config *cfg, const struct check_probe *list,
		 size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct check_probe *p = &list[i];
		char name[300];
		probe_name(p, name, sizeof name);
		const char *result = report_result(p);
		fprintf(out, "%-8s %s  %s", strcmp(result, "recorded") == 0 ? "RECORD" : result,
			base_name(p->file), name);
		if (p->skipped)
			fprintf(out, ": skipped, %s\n", p->skipped);
		else if (p->want == NULL)
			fprintf(out, ": got %s\n", p->verdict.got ? p->verdict.got : "?");
		else if (p->verdict.pass)
			fprintf(out, ": %s\n", p->verdict.got);
		else
			fprintf(out, ": %s\n         want %s\n         got  %s\n", p->verdict.why,
				p->verdict.want, p->verdict.got);
	}
	struct report_totals t = report_count(list, n);
	fprintf(out, "%s through %s, %zu probe%s:\n", cfg->gateway, cfg->through, n,
		n == 1 ? "" : "s");
	fprintf(out, "%zu passed, %zu failed", t.passed, t.failed);
	if (t.skipped)
		fprintf(out, ", %zu skipped", t.skipped);
	if (t.recorded)
		fprintf(out, ", %zu recorded", t.recorded);
	fputc('\n', out);
}

static json_t *try_json(const struct try_result *t)
{
	json_t *o = json_pack("{s:i, s:b, s:b, s:I, s:f}", "status", t->answer.status, "complete",
			      t->answer.complete, "capped", t->answer.capped, "body_bytes",
			      (json_int_t)t->answer.body_bytes, "time_ms", t->answer.time_us / 1e3);
	if (t->attempts >= 0)
		json_object_set_new(o, "attempts", json_integer(t->attempts));
	if (t->dns_queries >= 0)
		json_object_set_new(o, "dns_queries", json_integer(t->dns_queries));
	if (t->answer.error)
		json_object_set_new(o, "error", record_text_json(t->answer.error));
	if (t->log)
		json_object_set_new(o, "log", record_text_json(t->log));
	json_t *headers = json_object();
	for (size_t i = 0; i < t->answer.n_headers; i++) {
		/* A gateway's bytes need not be UTF-8: \xNN where they are not. */
		json_t *name = record_text_json(t->answer.headers[i].name);
		json_object_set_new(headers, json_string_value(name),
				    record_text_json(t->answer.headers[i].value));
		json_decref(name);
	}
	json_object_set_new(o, "headers", headers);
	return o;
}

static json_t *probe_json(const struct check_probe *p)
{
	const struct probe_request *rq = &p->expect->probe;
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:i}", "file", p->file, "result",
			      report_result(p), "method", rq->method, "request", rq->path, "repeat",
			      (int)p->expect->repeat);
	json_t *sent = json_object();
	for (size_t i = 0; i < rq->n_headers; i++)
		json_object_set_new(sent, rq->headers[i].name, json_string(rq->headers[i].value));
	json_object_set_new(o, "request_headers", sent);
	json_object_set_new(o, "rule",
			    p->rule < 0 ? json_null()
					: json_string(p->scenario->rules[p->rule].name));
	json_object_set_new(o, "phase",
			    p->phase < 0 ? json_null()
					 : json_string(p->scenario->phases[p->phase].name));
	if (p->skipped)
		json_object_set_new(o, "skipped", json_string(p->skipped));
	if (p->verdict.want)
		json_object_set_new(o, "want", record_text_json(p->verdict.want));
	if (p->verdict.got)
		json_object_set_new(o, "got", record_text_json(p->verdict.got));
	if (p->verdict.why)
		json_object_set_new(o, "why", record_text_json(p->verdict.why));
	json_t *tries = json_array();
	for (size_t i = 0; i < p->n_tries; i++)
		json_array_append_new(tries, try_json(&p->tries[i]));
	json_object_set_new(o, "tries", tries);
	return o;
}

json_t *report_json(const struct check_config *cfg, const struct check_probe *list, size_t n)
{
	struct report_totals t = report_count(list, n);
	json_t *probes = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(probes, probe_json(&list[i]));
	return json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:o}", "gateway", cfg->gateway, "through",
			 cfg->through, "passed", (json_int_t)t.passed, "failed",
			 (json_int_t)t.failed, "skipped", (json_int_t)t.skipped, "recorded",
			 (json_int_t)t.recorded, "probes", probes);
}

/* The length of the valid UTF-8 sequence at s, or 0. */
static size_t utf8_length(const unsigned char *s)
{
	size_t n = s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

/* s with XML's five special characters escaped, control characters (not
 * allowed in XML 1.0) as '?', and bytes that are not UTF-8 (a gateway's
 * need not be) as \xNN, so the file stays well-formed. */
static void xml_text(FILE *f, const char *s)
{
	for (const unsigned char *c = (const unsigned char *)s; c && *c; c++) {
		size_t n = *c >= 0x80 ? utf8_length(c) : 1;
		if (n > 1) {
			fwrite(c, 1, n, f);
			c += n - 1;
			continue;
		}
		switch (*c) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&apos;", f); break;
		default:
			if (n == 0)
				fprintf(f, "\\x%02x", *c);
			else
				fputc(*c < 0x20 && *c != '\n' && *c != '\t' ? '?' : *c, f);
		}
	}
}

static double probe_seconds(const struct check_probe *p)
{
	double s = 0;
	for (size_t i = 0; i < p->n_tries; i++)
		s += p->tries[i].answer.time_us / 1e6;
	return s;
}

/* "scenarios/resets.json" -> "scenarios.resets": JUnit reporters read a
 * classname's dots as packages, so a file's ".json" would split it. */
static char *class_name(const char *file)
{
	char *s = xstrdup(file);
	size_t n = strlen(s);
	if (n > 5 && strcmp(s + n - 5, ".json") == 0)
		s[n - 5] = '\0';
	for (char *c = s; *c; c++)
		if (*c == '/' || *c == '.')
			*c = *c == '/' ? '.' : '_';
	return s;
}

static void junit_case(FILE *f, const struct check_config *cfg, const struct check_probe *p)
{
	char name[300];
	probe_name(p, name, sizeof name);
	fputs("    <testcase classname=\"", f);
	char *cls = class_name(p->file);
	xml_text(f, cls);
	free(cls);
	fputs("\" name=\"", f);
	xml_text(f, cfg->gateway);
	fputc(' ', f);
	xml_text(f, name);
	fprintf(f, "\" time=\"%.3f\">\n", probe_seconds(p));
	const char *result = report_result(p);
	if (strcmp(result, "skip") == 0) {
		fputs("      <skipped message=\"", f);
		xml_text(f, p->skipped);
		fputs("\"/>\n", f);
	} else if (strcmp(result, "fail") == 0) {
		fputs("      <failure message=\"", f);
		xml_text(f, p->verdict.why);
		fputs("\" type=\"mismatch\">want: ", f);
		xml_text(f, p->verdict.want);
		fputs("\ngot: ", f);
		xml_text(f, p->verdict.got);
		fputs("</failure>\n", f);
	}
	if (p->verdict.got) {
		fputs("      <system-out>", f);
		xml_text(f, p->verdict.got);
		fputs("</system-out>\n", f);
	}
	fputs("    </testcase>\n", f);
}

int report_junit(const char *path, const struct check_config *cfg, const struct check_probe *list,
		 size_t n)
{
	FILE *f = fopen(path, "w");
	if (f == NULL)
		return -1;
	struct report_totals all = report_count(list, n);
	fprintf(f,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<testsuites name=\"upsim check\" tests=\"%zu\" failures=\"%zu\" "
		"skipped=\"%zu\">\n",
		n, all.failed, all.skipped);
	/* One suite per file, in the order files first appear. */
	for (size_t i = 0; i < n; i++) {
		bool first = true;
		for (size_t j = 0; j < i; j++)
			first &= strcmp(list[j].file, list[i].file) != 0;
		if (!first)
			continue;
		size_t tests = 0, failures = 0, skipped = 0;
		double seconds = 0;
		for (size_t j = i; j < n; j++) {
			if (strcmp(list[j].file, list[i].file) != 0)
				continue;
			tests++;
			failures += strcmp(report_result(&list[j]), "fail") == 0;
			skipped += list[j].skipped != NULL;
			seconds += probe_seconds(&list[j]);
		}
		fputs("  <testsuite name=\"", f);
		xml_text(f, list[i].file);
		fprintf(f,
			"\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"%zu\" "
			"time=\"%.3f\">\n",
			tests, failures, skipped, seconds);
		for (size_t j = i; j < n; j++)
			if (strcmp(list[j].file, list[i].file) == 0)
				junit_case(f, cfg, &list[j]);
		fputs("  </testsuite>\n", f);
	}
	fputs("</testsuites>\n", f);
	int rc = ferror(f) ? -1 : 0;
	int saved = errno;
	if (fclose(f) != 0)
		rc = -1;
	else
		errno = saved;
	return rc;
}
