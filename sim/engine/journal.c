#include "engine/journal.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/xalloc.h"

/* With --threads every loop adds records: one lock guards the whole
 * journal, sinks included, so ids, the tally and the files agree. */
struct journal {
	pthread_mutex_t lock;
	struct record *ring;
	size_t capacity, head, n; /* oldest at head */
	uint64_t next_id;
	uint64_t next_conn;
	uint64_t cleared_upto; /* ids up to this were cleared on purpose */
	struct tally tally;
	FILE *file;   /* --journal */
	FILE *access; /* --access-log */
	bool access_json;
};

struct journal *journal_new(size_t capacity)
{
	struct journal *j = xcalloc(1, sizeof *j);
	j->capacity = capacity ? capacity : 1;
	j->ring = xcalloc(j->capacity, sizeof *j->ring);
	j->next_id = 1;
	j->next_conn = 1;
	pthread_mutex_init(&j->lock, NULL);
	return j;
}

static void forget_all(struct journal *j)
{
	for (size_t i = 0; i < j->n; i++)
		record_clear(&j->ring[(j->head + i) % j->capacity]);
	j->head = j->n = 0;
}

static void close_sink(FILE *f)
{
	if (f != NULL && f != stderr)
		fclose(f);
	else if (f != NULL)
		fflush(f);
}

void journal_free(struct journal *j)
{
	if (j == NULL)
		return;
	forget_all(j);
	close_sink(j->file);
	close_sink(j->access);
	free(j->ring);
	pthread_mutex_destroy(&j->lock);
	free(j);
}

/* Readers take a const journal; the lock is not part of its value. */
static void lock(const struct journal *j)
{
	pthread_mutex_lock((pthread_mutex_t *)&j->lock);
}

static void unlock(const struct journal *j)
{
	pthread_mutex_unlock((pthread_mutex_t *)&j->lock);
}

static FILE *open_sink(const char *path)
{
	if (strcmp(path, "-") == 0)
		return stderr;
	FILE *f = fopen(path, "ae");
	if (f != NULL)
		setvbuf(f, NULL, _IOLBF, 0);
	return f;
}

int journal_open_file(struct journal *j, const char *path)
{
	close_sink(j->file);
	j->file = open_sink(path);
	return j->file ? 0 : -1;
}

int journal_open_access_log(struct journal *j, const char *path, bool json)
{
	close_sink(j->access);
	j->access = open_sink(path);
	j->access_json = json;
	return j->access ? 0 : -1;
}

static void write_json_line(FILE *f, const struct record *r)
{
	json_t *o = record_json(r);
	json_dumpf(o, f, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
	fputc('\n', f);
	json_decref(o);
}

/* "TIME conn=N GET /path status=502 fault=reset outcome=rst ...": one
 * greppable line per request. Paths are printed as JSON strings so a
 * request line can never forge a second log line. */
static void write_access_text(FILE *f, const struct record *r)
{
	char when[40];
	record_format_time(r->time_us, when, sizeof when);
	json_t *p = r->path ? record_text_json(r->path) : NULL;
	char *path = p ? json_dumps(p, JSON_ENCODE_ANY) : NULL;
	fprintf(f,
		"%s conn=%llu req=%u %s %s status=%d fault=%s outcome=%s rule=%s "
		"ms=%.1f bytes=%llu",
		when, (unsigned long long)r->conn, r->conn_request, r->method ? r->method : "-",
		path ? path : "-", r->status, r->fault ? r->fault : "none",
		outcome_name(r->outcome), r->rule ? r->rule : "defaults",
		(double)r->duration_us / 1000.0, (unsigned long long)r->bytes);
	if (r->request_id != NULL)
		fprintf(f, " attempt=%u", r->attempt);
	fputc('\n', f);
	free(path);
	json_decref(p);
}

static void write_sinks(struct journal *j, const struct record *r)
{
	if (j->file != NULL)
		write_json_line(j->file, r);
	if (j->access != NULL && r->kind == RECORD_REQUEST) {
		if (j->access_json)
			write_json_line(j->access, r);
		else
			write_access_text(j->access, r);
	}
}

uint64_t journal_add(struct journal *j, struct record *r, enum fault_kind fault_kind)
{
	lock(j);
	r->id = j->next_id++;
	if (r->time_us == 0)
		r->time_us = clock_wall_us();
	tally_add(&j->tally, r, fault_kind);
	write_sinks(j, r);
	if (j->n == j->capacity) {
		record_clear(&j->ring[j->head]);
		j->head = (j->head + 1) % j->capacity;
		j->n--;
	}
	j->ring[(j->head + j->n++) % j->capacity] = *r;
	uint64_t id = r->id;
	unlock(j);
	memset(r, 0, sizeof *r);
	return id;
}

uint64_t journal_next_conn(struct journal *j)
{
	lock(j);
	uint64_t id = j->next_conn++;
	unlock(j);
	return id;
}

void journal_clear(struct journal *j)
{
	lock(j);
	forget_all(j);
	j->cleared_upto = j->next_id - 1;
	memset(&j->tally, 0, sizeof j->tally);
	unlock(j);
}

json_t *journal_query(const struct journal *j, uint64_t since, size_t limit)
{
	json_t *records = json_array();
	lock(j);
	uint64_t oldest = j->n ? j->ring[j->head].id : j->next_id;
	/* Ids between since and the oldest kept record fell out of the ring,
	 * except those a reset cleared on purpose. */
	uint64_t floor = since > j->cleared_upto ? since : j->cleared_upto;
	uint64_t missed = oldest - 1 > floor ? oldest - 1 - floor : 0;
	uint64_t next = since > oldest - 1 ? since : oldest - 1;
	size_t first = since >= oldest ? (size_t)(since - oldest + 1) : 0;
	for (size_t i = first; i < j->n && json_array_size(records) < limit; i++) {
		const struct record *r = &j->ring[(j->head + i) % j->capacity];
		json_array_append_new(records, record_json(r));
		next = r->id;
	}
	unlock(j);
	return json_pack("{s:o, s:I, s:I}", "records", records, "next", (json_int_t)next, "missed",
			 (json_int_t)missed);
}

struct tally journal_tally(const struct journal *j)
{
	lock(j);
	struct tally t = j->tally;
	unlock(j);
	return t;
}

uint64_t journal_last_id(const struct journal *j)
{
	lock(j);
	uint64_t id = j->next_id - 1;
	unlock(j);
	return id;
}
