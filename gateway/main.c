/*-------------------------------------------------------------------------
 *
 * gateway/main.c
 *	  restmon-http: a thin HTTP gateway over restmon's SQL API.  This file
 *	  owns the command line, the signals, start and stop.
 *
 * Only the main thread takes SIGTERM and SIGINT (every other thread is
 * started with them blocked): it waits for one, stops the lanes' workers
 * (each runs what it was given) and the daemon's pool threads, closes the
 * database connections and exits 0.
 * Exit 2 on a bad command line, 1 if it cannot listen.  The limits that
 * keep one client from starving the others (connections per client, idle
 * timeout, triggers per second) are documented in doc/security.md.
 *
 *-------------------------------------------------------------------------
 */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <sys/resource.h>

#include "gateway.h"

static void
usage(FILE *out)
{
	fprintf(out,
			"restmon-http: HTTP gateway over restmon's SQL API\n\n"
			"Usage: restmon-http [options]\n\n"
			"  --dsn=CONNINFO          libpq connection string (default: the PG* environment)\n"
			"  --poll-dsn=CONNINFO     connection string of the poll role, for POST /api/polls\n"
			"                          (default: none, and the route answers 503)\n"
			"  --port=PORT             port to listen on (default 5000)\n"
			"  --bind=ADDRESS          IPv4 address to listen on (default 127.0.0.1)\n"
			"  --threads=N             threads serving connections, each with its database\n"
			"                          connection for status polls; as many workers for\n"
			"                          PostgREST calls and for polls (default: two per CPU)\n"
			"  --slow-connections=N    database connections for triggers, and as many\n"
			"                          for pages of CSVs (default 2)\n"
			"  --max-connections=N     concurrent connections (default 1024)\n"
			"  --max-per-client=N      concurrent connections from one address (default 64)\n"
			"  --timeout=SECONDS       idle connection timeout (default 10)\n"
			"  --trigger-rate=R        report triggers a second per client address,\n"
			"                          beyond the burst: 429 (default 5; 0: no limit)\n"
			"  --trigger-burst=N       triggers a client may make at once (default 20)\n"
			"  --statement-timeout=MS  statement_timeout of the database sessions (default 30000)\n"
			"  --web-root=DIR          the web page's files, served under /web/\n"
			"                          (default %s)\n"
			"  --csv-cache-mb=N        MiB of complete reports' CSVs kept in memory\n"
			"                          (default 64; 0: none, every CSV read in pages)\n"
			"  --help                  this text\n\n"
			"Endpoints: POST /api/trigger_report, GET /api/get_report?report_id=ID,\n"
			"GET /store/STORE_ID/trigger_report/, POST /store/get_report/, GET /api/health,\n"
			"GET /web/ (the web page).\n", static_web_root());
}

/* a worker per database connection of each lane whose calls may wait */
static bool
start_workers(const GatewayOptions *o)
{
	int			n[DB_NLANES] = {0};

	n[LANE_TRIGGER] = o->slow_conns;
	n[LANE_CSV] = o->slow_conns;
	n[LANE_API] = o->threads;
	n[LANE_POLLS] = o->poll_conninfo != NULL ? o->threads : 0;
	return work_start(n);
}

static void
default_options(GatewayOptions *o)
{
	/*
	 * Status polls: one database connection per CPU (the polls are CPU-bound
	 * on both sides; more sessions than CPUs only add scheduling delay to the
	 * slowest).  Triggers and CSV pages: two connections each, in lanes of
	 * their own (db.c).
	 */
	long		ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	memset(o, 0, sizeof(*o));
	o->conninfo = "";
	o->port = 5000;
	o->bind_addr = "127.0.0.1";
	o->threads = ncpu < 1 ? 2 : ncpu > 128 ? 256 : (int) (2 * ncpu);
	o->slow_conns = 2;
	o->max_conn = 1024;
	o->max_per_client = 64;
	o->timeout = 10;
	o->trigger_rate = 5;
	o->trigger_burst = 20;
	o->statement_timeout_ms = 30000;
	o->csv_cache_mb = 64;
}

/* one option's value into o; false for an option not known */
static bool
set_option(GatewayOptions *o, int ch, char *arg)
{
	switch (ch)
	{
		case 'd':
			o->conninfo = arg;
			break;
		case 'P':
			o->poll_conninfo = arg;
			break;
		case 'p':
			o->port = atoi(arg);
			break;
		case 'b':
			o->bind_addr = arg;
			break;
		case 't':
			o->threads = atoi(arg);
			break;
		case 'l':
			o->slow_conns = atoi(arg);
			break;
		case 'm':
			o->max_conn = atoi(arg);
			break;
		case 'c':
			o->max_per_client = atoi(arg);
			break;
		case 'o':
			o->timeout = atoi(arg);
			break;
		case 'r':
			o->trigger_rate = atof(arg);
			break;
		case 'u':
			o->trigger_burst = atoi(arg);
			break;
		case 's':
			o->statement_timeout_ms = atoi(arg);
			break;
		case 'w':
			o->web_root = arg;
			break;
		case 'C':
			o->csv_cache_mb = atoi(arg);
			break;
		default:
			return false;
	}
	return true;
}

/* whether the options are within their ranges */
static bool
options_valid(const GatewayOptions *o)
{
	return !(o->port <= 0 || o->port > 65535 || o->threads < 1 || o->threads > 256 ||
			 o->slow_conns < 1 || o->slow_conns > 256 ||
			 o->max_conn < 1 || o->max_per_client < 1 || o->timeout < 1 ||
			 o->statement_timeout_ms < 0 || !(o->trigger_rate >= 0) ||
			 o->trigger_burst < 1 || o->csv_cache_mb < 0 ||
			 o->csv_cache_mb > 1024 * 1024);
}

/* the command line into *o; -1 to go on, else the exit code */
static int
parse_options(int argc, char **argv, GatewayOptions *o)
{
	static struct option opts[] = {
		{"dsn", required_argument, NULL, 'd'},
		{"poll-dsn", required_argument, NULL, 'P'},
		{"port", required_argument, NULL, 'p'},
		{"bind", required_argument, NULL, 'b'},
		{"threads", required_argument, NULL, 't'},
		{"slow-connections", required_argument, NULL, 'l'},
		{"max-connections", required_argument, NULL, 'm'},
		{"max-per-client", required_argument, NULL, 'c'},
		{"timeout", required_argument, NULL, 'o'},
		{"trigger-rate", required_argument, NULL, 'r'},
		{"trigger-burst", required_argument, NULL, 'u'},
		{"statement-timeout", required_argument, NULL, 's'},
		{"web-root", required_argument, NULL, 'w'},
		{"csv-cache-mb", required_argument, NULL, 'C'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}
	};
	int			ch;

	default_options(o);
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1)
	{
		if (ch == 'h')
		{
			usage(stdout);
			return 0;
		}
		if (!set_option(o, ch, optarg))
		{
			usage(stderr);
			return 2;
		}
	}
	if (!options_valid(o))
	{
		usage(stderr);
		return 2;
	}
	o->addr.sin_family = AF_INET;
	o->addr.sin_port = htons((uint16_t) o->port);
	if (inet_pton(AF_INET, o->bind_addr, &o->addr.sin_addr) != 1)
	{
		fprintf(stderr, "restmon-http: --bind needs an IPv4 address\n");
		return 2;
	}
	return -1;
}

/* room for --max-connections sockets and the database connections */
static void
raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max)
	{
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int
main(int argc, char **argv)
{
	GatewayOptions opts;
	struct MHD_Daemon *d;
	sigset_t	sigs;
	int			sig;
	int			rc;

	if ((rc = parse_options(argc, argv, &opts)) >= 0)
		return rc;

	raise_fd_limit();
	limits_init(opts.trigger_rate, opts.trigger_burst);
	static_init(opts.web_root);
	csv_cache_init((size_t) opts.csv_cache_mb * 1024 * 1024);
	signal(SIGPIPE, SIG_IGN);
	/* threads inherit this mask: only the main thread takes SIGTERM/SIGINT */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	db_init(opts.conninfo, opts.poll_conninfo, opts.statement_timeout_ms,
			opts.threads, opts.slow_conns);
	if (!start_workers(&opts))
	{
		fprintf(stderr, "restmon-http: cannot start its worker threads\n");
		return 1;
	}

	if ((d = server_start(&opts)) == NULL)
	{
		fprintf(stderr, "restmon-http: cannot listen on %s:%d\n",
				opts.bind_addr, opts.port);
		return 1;
	}
	fprintf(stderr,
			"restmon-http: listening on http://%s:%d/ (database connections:"
			" 1 for health, %d for status polls, %d for triggers, %d for CSV"
			" pages)\n",
			opts.bind_addr, opts.port, opts.threads, opts.slow_conns,
			opts.slow_conns);

	sigwait(&sigs, &sig);
	fprintf(stderr, "restmon-http: %s, stopping\n",
			sig == SIGTERM ? "SIGTERM" : "SIGINT");
	server_stop(d);
	db_shutdown();
	return 0;
}
