/* cli: the command line, parsed into options. No side effects. */
#ifndef UPSIM_CLI_H
#define UPSIM_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum cli_command {
	CLI_HELP = 1,
	CLI_VERSION,
	CLI_RUN,
	CLI_VALIDATE,
	CLI_FAULTS,
	CLI_CTL,
	CLI_CHECK,
	CLI_RECORD,
	CLI_SCHEMA,
};

enum log_format_opt {
	CLI_LOG_TEXT = 0,
	CLI_LOG_JSON,
};

/* Ten minutes: long past any gateway's read timeout. */
#define CLI_DEFAULT_HANG_CAP_US (600ULL * 1000000)

/* --connection-memory bounds (the default is the server's). */
#define CLI_MIN_CONNECTION_MEMORY (4 * 1024)
#define CLI_MAX_CONNECTION_MEMORY (1024 * 1024)

struct exchange_capture;

struct cli {
	enum cli_command command;
	const char *listen;		/* run: ADDR:PORT */
	const char *ready_file;		/* run: NULL for none */
	unsigned max_connections;	/* run */
	unsigned threads;		/* run: event loops (--threads) */
	size_t connection_memory;	/* run: bytes of MHD pool per connection */
	uint64_t hang_cap_us;		/* run */
	const char *admin;		/* run: ADDR:PORT of the admin API; NULL: none */
	const char *admin_token;	/* run: NULL: none (from the environment too) */
	const char *journal_file;	/* run: NULL: none */
	unsigned journal_size;		/* run: records kept for the admin API */
	const char *request_id_header;	/* run */
	const char *access_log;		/* run: NULL: none; "-": stderr */
	enum log_format_opt log_format; /* run */
	uint64_t duration_us;		/* run: 0: until stopped */
	uint64_t drill_ttl_us;		/* run: 0: no expiry */
	const char *upstreams[64];	/* run: --upstream NAME=ADDR:PORT=FILE */
	int n_upstreams;
	const char *fleet_file; /* run: --fleet FILE; NULL: none */
	const char *forward_to; /* run, validate: --forward-to URL in place of
				   every scenario's "upstream"; NULL: none */
	bool has_start_at;	/* run: --start-at given */
	int64_t start_at_us;	/* run: Unix µs the timeline counts from */
	bool tls_auto;		/* run: --tls auto */
	const char *tls_cert;	/* run: --tls-cert FILE; NULL: none */
	const char *tls_key;	/* run: --tls-key FILE */
	const char *tls_ca_out; /* run: --tls-ca-out FILE; NULL: none */
	const char *tls_name;	/* run: --tls-name NAME; NULL: the listen host */
	bool verbose;
	bool fleet_schema;			/* schema: --fleet */
	bool quiet;				/* run: no ready line (upsim check) */
	const char *backup_listen;		/* run: a healthy backup there (upsim check) */
	const char *dns_listen;			/* run: serve the first scenario's DNS here,
				      instead of its dns.listen, with or
				      without one (upsim check) */
	const char *scenario_text;		/* run: serve this scenario, labelled
				      files[0], instead of reading files[0];
				      SIGHUP reloads nothing (upsim record) */
	const struct exchange_capture *capture; /* run: each real answer
						   (upsim record); NULL */
	char **files;				/* run: one scenario; validate: many;
					   ctl: the arguments after "ctl" */
	int n_files;				/* borrowed from argv */
};

/* The text `upsim --help` prints. */
extern const char cli_usage[];

/* Parse argv into out (strings borrowed from argv). Returns 0, or -1 with
 * a one-line reason in errbuf (a usage error: exit 2). */
int cli_parse(int argc, char **argv, struct cli *out, char *errbuf, size_t errlen);

#endif
