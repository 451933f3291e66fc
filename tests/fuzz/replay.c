/* replay: a main for a fuzz target without libFuzzer.
 *
 * Feeds every file named on the command line, and every file in every
 * directory named (not recursively, dot files skipped, in name order), to
 * LLVMFuzzerTestOneInput, after LLVMFuzzerInitialize if the target has
 * one. Built with the plain compiler, so `make check` keeps each target
 * compiling and replays its corpus and regressions; under FLAVOR=asan the
 * replay runs under ASan and UBSan. A finding aborts, as under libFuzzer.
 * Each input is in a buffer of exactly its size, so reading past it is
 * caught. Exit: 0, or 1 when a path cannot be read. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Weak: a target without it links, and the pointer is then NULL. */
__attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv);

static const char *progname = "replay";

/* The whole file in a new buffer of exactly its size (NULL for 0 bytes
 * is fine: the target sees size 0). Returns 0, or -1 with a message. */
static int slurp(const char *path, uint8_t **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	*out = NULL;
	*len = 0;
	if (f == NULL || fstat(fileno(f), &st) != 0) {
		fprintf(stderr, "%s: %s: %s\n", progname, path, strerror(errno));
		if (f)
			fclose(f);
		return -1;
	}
	size_t n = (size_t)st.st_size;
	uint8_t *buf = n ? malloc(n) : NULL;
	if (n && (buf == NULL || fread(buf, 1, n, f) != n)) {
		fprintf(stderr, "%s: %s: short read\n", progname, path);
		free(buf);
		fclose(f);
		return -1;
	}
	fclose(f);
	*out = buf;
	*len = n;
	return 0;
}

static int run_file(const char *path)
{
	uint8_t *data;
	size_t len;
	if (slurp(path, &data, &len) != 0)
		return -1;
	if (getenv("REPLAY_VERBOSE"))
		fprintf(stderr, "%s: %s (%zu bytes)\n", progname, path, len);
	LLVMFuzzerTestOneInput(data, len);
	free(data);
	return 0;
}

static int skip_entry(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

/* Returns the number of inputs run, or -1. */
static long run_path(const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		fprintf(stderr, "%s: %s: %s\n", progname, path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return run_file(path) == 0 ? 1 : -1;
	struct dirent **names;
	int n = scandir(path, &names, skip_entry, alphasort);
	if (n < 0) {
		fprintf(stderr, "%s: %s: %s\n", progname, path, strerror(errno));
		return -1;
	}
	long count = 0;
	for (int i = 0; i < n; i++) {
		size_t len = strlen(path) + strlen(names[i]->d_name) + 2;
		char *file = malloc(len);
		if (file == NULL) {
			perror(progname);
			exit(1);
		}
		snprintf(file, len, "%s/%s", path, names[i]->d_name);
		if (stat(file, &st) == 0 && S_ISREG(st.st_mode)) {
			if (run_file(file) != 0)
				count = -1;
			else if (count >= 0)
				count++;
		}
		free(file);
		free(names[i]);
	}
	free(names);
	return count;
}

int main(int argc, char **argv)
{
	if (argc > 0) {
		const char *slash = strrchr(argv[0], '/');
		progname = slash ? slash + 1 : argv[0];
	}
	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", progname);
		return 2;
	}
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	int status = 0;
	for (int i = 1; i < argc; i++) {
		long n = run_path(argv[i]);
		if (n < 0)
			status = 1;
		else
			printf("%s: %ld input%s from %s\n", progname, n, n == 1 ? "" : "s",
			       argv[i]);
		fflush(stdout); /* in order with a later finding's stderr */
	}
	return status;
}
