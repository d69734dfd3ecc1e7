/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers of race_test (and fuzz_test) that need no test harness: a log of
 * unexpected results shared by threads and forked processes, the check that
 * a call returned success or one of its documented errnos, a lock-step
 * runner that starts the racing threads of one iteration together, and the
 * iteration knobs.
 *
 * Workers must not use the harness's ASSERT/EXPECT (they are not the
 * test's thread or process): they record what they saw with race_check(),
 * and the test asserts afterwards that nothing unexpected was recorded.
 */
#ifndef P2PBUF_RACE_LIB_H
#define P2PBUF_RACE_LIB_H

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

/* Default of P2PBUF_RACE_ITERS: lock-step iterations of each race. */
#define RACE_ITERS_DEFAULT	500
/* Default of P2PBUF_RACE_UNBINDS: unbind/rebind cycles of the unbind races. */
#define RACE_UNBINDS_DEFAULT	12

/*
 * What the workers of one race saw, in memory shared with forked children:
 * operations done, unexpected results and the first of them in words.
 */
struct race_log {
	unsigned long ops;
	unsigned long bad;
	char first[256];
};

static inline struct race_log *race_log_new(void)
{
	void *p = mmap(NULL, sizeof(struct race_log), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static inline void race_log_free(struct race_log *log)
{
	if (log)
		munmap(log, sizeof(*log));
}

/* Record an unexpected result; only the first one is kept in words. */
static inline void race_fail(struct race_log *log, const char *fmt, ...)
{
	va_list ap;

	if (__atomic_fetch_add(&log->bad, 1, __ATOMIC_SEQ_CST))
		return;
	va_start(ap, fmt);
	vsnprintf(log->first, sizeof(log->first), fmt, ap);
	va_end(ap);
}

/* 0 for a call that returned >= 0, else its errno. */
static inline int race_err(long ret)
{
	return ret < 0 ? errno : 0;
}

/* A -1-terminated list of allowed results, 0 meaning success. */
#define RACE_OK(...)	((const int[]){ __VA_ARGS__, -1 })

/*
 * Count one operation @what whose result is @err (0 or an errno) and record
 * it as unexpected unless it is in @allowed. Returns @err.
 */
static inline int race_check(struct race_log *log, const char *what, int err,
			     const int *allowed)
{
	int i;

	__atomic_fetch_add(&log->ops, 1, __ATOMIC_RELAXED);
	for (i = 0; allowed[i] >= 0; i++)
		if (allowed[i] == err)
			return err;
	race_fail(log, "%s: %s (%d), not one of its documented results",
		  what, err ? strerror(err) : "success", err);
	return err;
}

/* An unsigned knob from the environment, @def if unset or invalid. */
static inline unsigned int race_knob(const char *name, unsigned int def)
{
	const char *v = getenv(name);
	char *end;
	unsigned long n;

	if (!v || !*v)
		return def;
	n = strtoul(v, &end, 0);
	return *end || !n || n > 100000000UL ? def : (unsigned int)n;
}

/*
 * Lock-step runner. Every iteration has @phases phases; in each, the
 * caller's @main and every worker run the same phase at the same time, and
 * the next phase starts only when all of them have finished this one. So a
 * race is set up in one phase, happens in the next (all racers start
 * together) and is checked in a third. Workers are threads or, with @fork,
 * processes: then the structure must come from race_run_new() (shared
 * memory) and whatever a worker changes in @ctx stays in its own process.
 * The run stops after the iteration in which @log recorded an unexpected
 * result.
 */
#define RACE_MAX_WORKERS	4

struct race_run {
	void *ctx;
	unsigned int iters;
	unsigned int phases;
	unsigned int nr;
	bool fork;
	struct race_log *log;
	void (*main)(void *ctx, unsigned int phase, unsigned int i);
	void (*work)(void *ctx, unsigned int worker, unsigned int phase,
		     unsigned int i);
	/* set by race_run_go() */
	unsigned int done;
	unsigned long ms;	/* how long the run took (reported only) */
	bool go[2];		/* iteration i runs: go[i % 2], see race_run_go() */
	pthread_barrier_t barrier;
};

static inline struct race_run *race_run_new(void)
{
	void *p = mmap(NULL, sizeof(struct race_run), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	memset(p, 0, sizeof(struct race_run));
	return p;
}

static inline void race_run_free(struct race_run *run)
{
	if (run)
		munmap(run, sizeof(*run));
}

struct race_worker {
	struct race_run *run;
	unsigned int id;
};

static inline void race_worker_loop(struct race_run *run, unsigned int id)
{
	unsigned int i, p;

	for (i = 0;; i++) {
		for (p = 0; p < run->phases; p++) {
			pthread_barrier_wait(&run->barrier);
			if (!p && !__atomic_load_n(&run->go[i % 2], __ATOMIC_SEQ_CST))
				return;
			run->work(run->ctx, id, p, i);
		}
	}
}

static inline void *race_worker_thread(void *arg)
{
	struct race_worker *w = arg;

	race_worker_loop(w->run, w->id);
	return NULL;
}

/*
 * Run @run->iters iterations, fewer after an unexpected result;
 * @run->done says how many ran. A worker that cannot be started aborts the
 * test program (the others would wait for it forever).
 */
static inline void race_run_go(struct race_run *run)
{
	struct race_worker w[RACE_MAX_WORKERS];
	pid_t pid[RACE_MAX_WORKERS];
	pthread_t t[RACE_MAX_WORKERS];
	pthread_barrierattr_t attr;
	struct timespec t0, t1;
	unsigned int i, p, n;

	if (run->nr > RACE_MAX_WORKERS)
		abort();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pthread_barrierattr_init(&attr);
	if (run->fork)
		pthread_barrierattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
	pthread_barrier_init(&run->barrier, &attr, run->nr + 1);
	pthread_barrierattr_destroy(&attr);
	run->done = 0;
	for (n = 0; n < run->nr; n++) {
		w[n].run = run;
		w[n].id = n;
		if (run->fork) {
			pid[n] = fork();
			if (pid[n] < 0)
				abort();
			if (!pid[n]) {
				race_worker_loop(run, n);
				_exit(0);
			}
		} else if (pthread_create(&t[n], NULL, race_worker_thread, &w[n])) {
			abort();
		}
	}
	/*
	 * Whether iteration i runs is published in go[i % 2] before the
	 * barrier that starts it and read by the workers after it. A worker
	 * reads it before it can reach the barrier of iteration i + 1, so the
	 * caller cannot overwrite it (for i + 2) before every worker read it.
	 */
	for (i = 0;; i++) {
		bool go = i < run->iters && !run->log->bad;

		__atomic_store_n(&run->go[i % 2], go, __ATOMIC_SEQ_CST);
		pthread_barrier_wait(&run->barrier);
		if (!go)
			break;
		for (p = 0; p < run->phases; p++) {
			if (p)
				pthread_barrier_wait(&run->barrier);
			if (run->main)
				run->main(run->ctx, p, i);
		}
		run->done = i + 1;
	}
	for (n = 0; n < run->nr; n++) {
		int status;

		if (!run->fork) {
			pthread_join(t[n], NULL);
			continue;
		}
		if (waitpid(pid[n], &status, 0) != pid[n] ||
		    !WIFEXITED(status) || WEXITSTATUS(status))
			race_fail(run->log, "worker process %u ended with status %#x",
				  n, status);
	}
	pthread_barrier_destroy(&run->barrier);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	run->ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
}

/*
 * The lab collects stdout in a file: line-buffer it, so that what a test
 * printed is there even when the suite is killed.
 */
static void __attribute__((constructor)) race_line_buffered(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
}

#endif /* P2PBUF_RACE_LIB_H */
