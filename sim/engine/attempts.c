#include "engine/attempts.h"

#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>

#include "base/xalloc.h"

/* jansson's object is the hash table; a ring of the ids in first-seen
 * order says which to forget when full. */
struct attempts {
	pthread_mutex_t lock; /* --threads: every loop counts here */
	json_t *seen;	      /* id -> count */
	char **order;	      /* ring of ids, oldest at head */
	size_t capacity, head, n;
};

struct attempts *attempts_new(size_t capacity)
{
	struct attempts *a = xcalloc(1, sizeof *a);
	a->seen = json_object();
	a->capacity = capacity ? capacity : 1;
	a->order = xcalloc(a->capacity, sizeof *a->order);
	pthread_mutex_init(&a->lock, NULL);
	return a;
}

static void clear_locked(struct attempts *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->order[(a->head + i) % a->capacity]);
	a->head = a->n = 0;
	json_object_clear(a->seen);
}

void attempts_clear(struct attempts *a)
{
	pthread_mutex_lock(&a->lock);
	clear_locked(a);
	pthread_mutex_unlock(&a->lock);
}

void attempts_free(struct attempts *a)
{
	if (a == NULL)
		return;
	clear_locked(a);
	json_decref(a->seen);
	free(a->order);
	pthread_mutex_destroy(&a->lock);
	free(a);
}

static void forget_oldest(struct attempts *a)
{
	char *id = a->order[a->head];
	json_object_del(a->seen, id);
	free(id);
	a->head = (a->head + 1) % a->capacity;
	a->n--;
}

static unsigned count_locked(struct attempts *a, const char *id)
{
	json_t *v = json_object_get(a->seen, id);
	if (v != NULL) {
		json_int_t n = json_integer_value(v) + 1;
		json_integer_set(v, n);
		return (unsigned)n;
	}
	if (a->n == a->capacity)
		forget_oldest(a);
	a->order[(a->head + a->n++) % a->capacity] = xstrdup(id);
	json_object_set_new_nocheck(a->seen, id, json_integer(1));
	return 1;
}

unsigned attempts_count(struct attempts *a, const char *id)
{
	pthread_mutex_lock(&a->lock);
	unsigned n = count_locked(a, id);
	pthread_mutex_unlock(&a->lock);
	return n;
}
