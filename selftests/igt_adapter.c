// SPDX-License-Identifier: GPL-2.0
/*
 * igt_adapter: run a kselftest-harness program under igt_runner.
 *
 * igt_runner runs any executable that speaks igt's plain stdout subtest
 * protocol; libigt is not needed. This one program translates that protocol
 * for every p2pbuf suite, selected by the name it is invoked as:
 *
 *   igt-<suite> --list-subtests         one subtest name per line, exit 0
 *   igt-<suite> --run-subtest NAME      run it (NAME may be a comma-separated
 *                                       list of fnmatch(3) patterns, "!" to
 *                                       exclude, the last match deciding)
 *   igt-<suite>                         run every subtest
 *
 * igt-<suite> is a symlink to this program; the suite binary <suite> sits in
 * the same directory (or in $P2PBUF_IGT_SUITE_DIR). It can also be called as
 * "igt_adapter --suite PATH ...".
 *
 * Subtests are the harness tests, listed with the suite's "-l" and run one
 * by one with "-r fixture:variant:test". Their igt names are
 * "<fixture>-<variant>-<test>", the fixture "global" (plain TEST()) and an
 * empty variant left out. Each run prints "Starting subtest: NAME", passes
 * the suite's KTAP output through, and ends with
 * "Subtest NAME: SUCCESS|FAIL|SKIP (secs)" taken from the KTAP result line;
 * no result line (crash, kill) is a FAIL. Exit status: 0 success, 98 if any
 * subtest failed, 77 if all skipped, 79 when a pattern matches nothing.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fnmatch.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "igt_adapter_proc.h"

#define IGT_EXIT_SUCCESS	0
#define IGT_EXIT_SKIP		77
#define IGT_EXIT_INVALID	79
#define IGT_EXIT_FAILURE	98

/* kselftest_harness.h's test_harness_list_tests() column widths. */
#define COL_FIXTURE	20
#define COL_VARIANT	25

struct subtest {
	char *fixture, *variant, *test;	/* as the harness names them */
	char *name;			/* as igt sees it */
};

static struct subtest *subtests;
static size_t nr_subtests;
static char suite_path[PATH_MAX];

static void die(const char *fmt, const char *arg)
{
	fprintf(stderr, "igt_adapter: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	exit(IGT_EXIT_FAILURE);
}

static char *xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);

	if (!p)
		die("%s", "out of memory");
	return p;
}

/* Return the next token at or after *pos; its start column in *col. */
static char *next_token(const char *line, size_t *pos, size_t *col)
{
	size_t i = *pos, start;

	while (line[i] == ' ' || line[i] == '\t')
		i++;
	if (!line[i] || line[i] == '\n')
		return NULL;
	start = i;
	while (line[i] && line[i] != ' ' && line[i] != '\t' && line[i] != '\n')
		i++;
	*pos = i;
	*col = start;
	return xstrndup(line + start, i - start);
}

/*
 * Parse one row of "-l": "%-20s %-25s %s" of fixture, variant, test, each
 * possibly empty. A field wider than its column shifts the next one by its
 * excess, so the columns are found from the end of the previous field.
 */
static void parse_row(const char *line, char **f, char **v, char **t)
{
	size_t pos = 0, col, vstart, tstart;
	char *tok;

	*f = *v = *t = NULL;
	tok = next_token(line, &pos, &col);
	if (!tok)
		return;
	if (col == 0) {
		*f = tok;
		vstart = pos - col > COL_FIXTURE ? pos + 1 : COL_FIXTURE + 1;
		tok = next_token(line, &pos, &col);
	} else {
		vstart = COL_FIXTURE + 1;
	}
	if (!tok)
		return;
	tstart = vstart + COL_VARIANT + 1;
	if (col < tstart) {
		*v = tok;
		if (pos > tstart - 1)
			tstart = pos + 1;
		tok = next_token(line, &pos, &col);
	}
	*t = tok;
}

struct fixture {
	char *name;
	char **variants, **tests;
	size_t nr_variants, nr_tests;
};

static void push(char ***arr, size_t *n, char *s)
{
	*arr = realloc(*arr, (*n + 1) * sizeof(**arr));
	if (!*arr)
		die("%s", "out of memory");
	(*arr)[(*n)++] = s;
}

static char *make_name(const char *f, const char *v, const char *t, bool full)
{
	char *s;

	if (!full && !strcmp(f, "global") && !*v)
		s = strdup(t);
	else if (*v)
		asprintf(&s, "%s-%s-%s", f, v, t) < 0 ? (s = NULL) : 0;
	else
		asprintf(&s, "%s-%s", f, t) < 0 ? (s = NULL) : 0;
	if (!s)
		die("%s", "out of memory");
	return s;
}

static void build_names(bool full)
{
	size_t i, j;

	for (i = 0; i < nr_subtests; i++) {
		free(subtests[i].name);
		subtests[i].name = make_name(subtests[i].fixture,
					     subtests[i].variant,
					     subtests[i].test, full);
	}
	if (full)
		return;
	for (i = 0; i < nr_subtests; i++)
		for (j = i + 1; j < nr_subtests; j++)
			if (!strcmp(subtests[i].name, subtests[j].name)) {
				build_names(true);
				return;
			}
}

/* Enumerate the suite's tests with "-l" (printed on stderr). */
static void list_suite(void)
{
	struct fixture *fx = NULL;
	size_t nr_fx = 0, i, j, k, len = 0;
	int pipefd[2], status;
	char *line = NULL;
	FILE *in;
	pid_t pid;

	if (pipe(pipefd))
		die("pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (!pid) {
		dup2(pipefd[1], STDERR_FILENO);
		dup2(pipefd[1], STDOUT_FILENO);
		close(pipefd[0]);
		close(pipefd[1]);
		execl(suite_path, suite_path, "-l", (char *)NULL);
		_exit(127);
	}
	close(pipefd[1]);
	in = fdopen(pipefd[0], "r");
	while (getline(&line, &len, in) > 0) {
		char *f, *v, *t;

		if (line[0] == '#' || line[0] == '-')
			continue;
		parse_row(line, &f, &v, &t);
		if (f) {
			fx = realloc(fx, (nr_fx + 1) * sizeof(*fx));
			if (!fx)
				die("%s", "out of memory");
			memset(&fx[nr_fx], 0, sizeof(*fx));
			fx[nr_fx++].name = f;
		}
		if (!nr_fx)
			continue;
		if (v)
			push(&fx[nr_fx - 1].variants, &fx[nr_fx - 1].nr_variants, v);
		if (t)
			push(&fx[nr_fx - 1].tests, &fx[nr_fx - 1].nr_tests, t);
	}
	fclose(in);
	free(line);
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status) == 127)
		die("cannot list the tests of %s", suite_path);

	/* The harness runs every test of a fixture once per variant. */
	for (i = 0; i < nr_fx; i++) {
		size_t nv = fx[i].nr_variants ? fx[i].nr_variants : 1;

		for (j = 0; j < nv; j++)
			for (k = 0; k < fx[i].nr_tests; k++) {
				subtests = realloc(subtests, (nr_subtests + 1) * sizeof(*subtests));
				if (!subtests)
					die("%s", "out of memory");
				subtests[nr_subtests++] = (struct subtest){
					.fixture = fx[i].name,
					.variant = fx[i].nr_variants ? fx[i].variants[j] : "",
					.test = fx[i].tests[k],
				};
			}
	}
	build_names(false);
}

/*
 * P2PBUF_IGT_SUBTESTS=N offers igt only the first N subtests of the suite:
 * the lab's igt pass proves that every suite speaks igt's protocol and
 * leaves the full runs to its KTAP pass (docs/lab.rst).
 */
static void limit_subtests(void)
{
	const char *env = getenv("P2PBUF_IGT_SUBTESTS");
	char *end;
	unsigned long n;

	if (!env || !*env)
		return;
	errno = 0;
	n = strtoul(env, &end, 10);
	if (errno || *end || !n)
		die("P2PBUF_IGT_SUBTESTS=%s is not a positive number", env);
	if (n < nr_subtests)
		nr_subtests = n;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

enum verdict { V_SUCCESS, V_FAIL, V_SKIP };
static const char * const verdict_name[] = { "SUCCESS", "FAIL", "SKIP" };

/* Pass one line of the suite's output through; a KTAP result sets *v. */
static void take_line(const char *line, size_t len, bool *seen, enum verdict *v)
{
	fwrite(line, 1, len, stdout);
	fputc('\n', stdout);
	/* Line-buffered: a failed write shows in ferror(), not in fflush(). */
	if (fflush(stdout) || ferror(stdout))
		adapter_write_failed();
	if (len >= 3 && !strncmp(line, "ok ", 3)) {
		*seen = true;
		*v = memmem(line, len, " # SKIP", 7) ? V_SKIP : V_SUCCESS;
	} else if (len >= 7 && !strncmp(line, "not ok ", 7)) {
		*seen = true;
		*v = V_FAIL;
	}
}

/*
 * Read the suite's stdout (fd) line by line until the suite (pidfd) has
 * exited and its output is drained, or a stop signal arrives: the only
 * place where those are unblocked is adapter_ppoll(). A test process the suite
 * left behind may hold fd open: the exit, not the EOF, ends the wait.
 */
static void follow_suite(int fd, int pidfd, bool *seen, enum verdict *v)
{
	struct pollfd pfd[2] = { { .fd = fd, .events = POLLIN },
				 { .fd = pidfd, .events = POLLIN } };
	char buf[4096], *nl;
	size_t have = 0;
	ssize_t n;
	bool exited = false;

	while (!adapter_stop_signal()) {
		if (adapter_ppoll(pfd, 2) < 0) {
			if (errno == EINTR)
				continue;
			die("ppoll: %s", strerror(errno));
		}
		if (pfd[1].revents) {
			/* Exited: take what is left without waiting for more. */
			exited = true;
			fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
		}
		if (pfd[0].revents || exited) {
			n = read(fd, buf + have, sizeof(buf) - have);
			if (n <= 0)
				pfd[0].fd = -1;
			else
				have += n;
			while ((nl = memchr(buf, '\n', have))) {
				take_line(buf, nl - buf, seen, v);
				have -= nl + 1 - buf;
				memmove(buf, nl + 1, have);
			}
			if (have == sizeof(buf) || (have && pfd[0].fd < 0)) {
				take_line(buf, have, seen, v);
				have = 0;
			}
		}
		if (exited && pfd[0].fd < 0)
			break;
	}
}

/*
 * Run one harness test. Its output is passed through to stdout (igt keeps
 * it in out.txt); the KTAP result line "ok N ..." / "not ok N ..." (with
 * "# SKIP" for a skip) is the verdict.
 */
static enum verdict run_one(const struct subtest *st)
{
	enum verdict v = V_FAIL;
	bool seen = false;
	int pipefd[2], pidfd, status;
	double t0;
	char *sel;
	pid_t pid;

	if (asprintf(&sel, "%s:%s%s%s", st->fixture, st->variant,
		     *st->variant ? ":" : "", st->test) < 0)
		die("%s", "out of memory");
	printf("Starting subtest: %s\n", st->name);
	if (fflush(stdout) || ferror(stdout))
		adapter_write_failed();
	t0 = now();
	if (pipe(pipefd))
		die("pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (!pid) {
		/* Do not outlive the adapter when igt_runner kills it. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		adapter_unblock_in_child();
		dup2(pipefd[1], STDOUT_FILENO);
		close(pipefd[0]);
		close(pipefd[1]);
		execl(suite_path, suite_path, "-r", sel, (char *)NULL);
		fprintf(stderr, "igt_adapter: exec %s: %s\n", suite_path, strerror(errno));
		_exit(127);
	}
	close(pipefd[1]);
	pidfd = syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0)
		die("pidfd_open: %s", strerror(errno));
	follow_suite(pipefd[0], pidfd, &seen, &v);
	close(pipefd[0]);
	close(pidfd);
	if (adapter_stop_signal())
		kill(pid, SIGKILL);
	if (waitpid(pid, &status, 0) < 0)
		die("waitpid: %s", strerror(errno));
	adapter_reap_orphans();
	if (adapter_stop_signal()) {
		printf("# igt_adapter: %s stopped by signal %d\n", sel, adapter_stop_signal());
		adapter_die_of_stop_signal();
	}
	if (!seen) {
		v = V_FAIL;
		if (WIFSIGNALED(status))
			printf("# igt_adapter: %s killed by signal %d\n", sel, WTERMSIG(status));
		else
			printf("# igt_adapter: %s exited %d without a KTAP result\n",
			       sel, WEXITSTATUS(status));
	} else if (v == V_SUCCESS && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
		printf("# igt_adapter: %s passed but exited with status %#x\n", sel, status);
		v = V_FAIL;
	}
	printf("Subtest %s: %s (%.3fs)\n", st->name, verdict_name[v], now() - t0);
	fflush(stdout);
	free(sel);
	return v;
}

/*
 * libigt's --run-subtest rule: a comma-separated list of fnmatch(3)
 * patterns, a leading '!' excludes, and the last pattern that matches the
 * name decides (igt_runner writes "*,!NAME..." to resume a libigt binary
 * after a timeout: runner/executor.c, prune_subtest(); igt 2.5 does not
 * resume this adapter, which does not report over the runner's comms
 * channel, and lab/igt-results.py reports the subtests left without a
 * result).
 */
static bool matches(const char *patterns, const char *name)
{
	char *copy = xstrndup(patterns, strlen(patterns)), *save, *p;
	bool run = false;

	for (p = strtok_r(copy, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
		bool exclude = *p == '!';

		if (!fnmatch(p + exclude, name, 0))
			run = !exclude;
	}
	free(copy);
	return run;
}

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
		"Usage: %s [--list-subtests | --run-subtest NAME[,NAME...] | --help]\n"
		"       igt_adapter --suite PATH [same options]\n"
		"Runs the kselftest-harness suite %s with igt's subtest protocol.\n",
		prog, suite_path[0] ? suite_path : "(none)");
}

int main(int argc, char **argv)
{
	const char *prog = basename(xstrndup(argv[0], strlen(argv[0])));
	const char *run = NULL, *dir;
	bool list = false, any_fail = false, any_pass = false;
	pid_t parent = getppid();
	size_t i, ran = 0;
	int a;

	/*
	 * igt_runner runs us in a process group of our own, so a lab timeout
	 * that kills igt_runner does not reach us: stop with it (SIGTERM, a
	 * stop signal) instead of running on beside whatever comes next.
	 */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) || getppid() != parent)
		return IGT_EXIT_FAILURE;
	/* waitpid() needs it, whatever the caller ignored. */
	signal(SIGCHLD, SIG_DFL);
	if (prctl(PR_SET_CHILD_SUBREAPER, 1))
		die("PR_SET_CHILD_SUBREAPER: %s", strerror(errno));
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 2 && !strcmp(argv[1], "--suite")) {
		snprintf(suite_path, sizeof(suite_path), "%s", argv[2]);
		argv += 2;
		argc -= 2;
	} else if (!strncmp(prog, "igt-", 4) && prog[4]) {
		char self[PATH_MAX];

		dir = getenv("P2PBUF_IGT_SUITE_DIR");
		if (!dir || !*dir) {
			/* The directory igt_runner ran us from. */
			snprintf(self, sizeof(self), "%s", argv[0]);
			dir = strchr(self, '/') ? dirname(self) : ".";
		}
		snprintf(suite_path, sizeof(suite_path), "%s/%s", dir, prog + 4);
	}
	for (a = 1; a < argc; a++) {
		if (!strcmp(argv[a], "--list-subtests")) {
			list = true;
		} else if (!strcmp(argv[a], "--run-subtest") && a + 1 < argc) {
			run = argv[++a];
		} else if (!strncmp(argv[a], "--run-subtest=", 14)) {
			run = argv[a] + 14;
		} else if (!strcmp(argv[a], "--help") || !strcmp(argv[a], "-h")) {
			usage(stdout, prog);
			return 0;
		} else if (!strcmp(argv[a], "--debug") || !strncmp(argv[a], "--debug=", 8)) {
			/* igt_runner may pass it; nothing to change. */
		} else {
			usage(stderr, prog);
			return IGT_EXIT_INVALID;
		}
	}
	if (!suite_path[0]) {
		usage(stderr, prog);
		return IGT_EXIT_INVALID;
	}
	if (access(suite_path, X_OK))
		die("suite %s is not executable", suite_path);

	list_suite();
	limit_subtests();
	if (list) {
		for (i = 0; i < nr_subtests; i++)
			printf("%s\n", subtests[i].name);
		return 0;
	}
	adapter_catch_stop_signals();
	for (i = 0; i < nr_subtests; i++) {
		enum verdict v;

		if (run && !matches(run, subtests[i].name))
			continue;
		if (adapter_stop_signal())
			adapter_die_of_stop_signal();
		ran++;
		v = run_one(&subtests[i]);
		any_fail |= v == V_FAIL;
		any_pass |= v == V_SUCCESS;
	}
	if (adapter_stop_signal())
		adapter_die_of_stop_signal();
	if (!ran) {
		fprintf(stderr, "igt_adapter: no subtest matches '%s'\n", run ? run : "*");
		return IGT_EXIT_INVALID;
	}
	if (any_fail)
		return IGT_EXIT_FAILURE;
	return any_pass ? IGT_EXIT_SUCCESS : IGT_EXIT_SKIP;
}
