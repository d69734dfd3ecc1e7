// SPDX-License-Identifier: GPL-2.0
/*
 * leak_test: the leak budget. P2PBUF_LEAK_CYCLES cycles (default 10000) of
 *
 *   EXPORT (two ranges) -> IMPORT -> MAP -> REVOKE (the importer's
 *   invalidate_mappings unmaps) -> read the event -> RELEASE -> close
 *
 * and, every other cycle, the explicit way:
 *
 *   EXPORT -> IMPORT -> MAP -> UNMAP -> RELEASE -> REVOKE -> close
 *
 * shared between LEAK_WORKERS processes with exporter and importer files of
 * their own (the guest has two CPUs). Then every count is back where it was
 * (fds, dma-bufs, the exporter's buffers) and kmemleak reports no object
 * allocated through either module. Where p2pbuf cannot route between the
 * devices (NOT_SUPPORTED) a cycle is EXPORT -> IMPORT (refused, -EXDEV) ->
 * REVOKE -> close. The time per cycle is logged, not judged.
 *
 * Needs the lab (P2PBUF_PROVIDER_BDF, P2PBUF_INITIATOR_BDF,
 * P2PBUF_EXPECT_MAP) and, for the verdict on leaks, kmemleak in debugfs.
 */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>

#include <linux/p2pbuf_exporter.h>
#include <linux/p2pbuf_importer.h>

#include "p2pbuf_test.h"
#include "exporter_lib.h"

#define DEFAULT_CYCLES	10000
#define NR_SEGS		4U
#define LEAK_WORKERS	2

static const struct p2pbuf_exp_range leak_ranges[] = {
	{ 0, 2 * PAGE }, { 8 * PAGE, PAGE },
};

#define NR_RANGES	ARRAY_SIZE(leak_ranges)

FIXTURE(leak) {
	struct exp_pair p;
	long cycles;
};

FIXTURE_SETUP(leak)
{
	const char *env = p2pbuf_env("P2PBUF_LEAK_CYCLES");
	char why[200], *end;

	if (exp_pair_open(&self->p, why, sizeof(why)))
		SKIP(return, "%s", why);
	ASSERT_NE((__u32)P2PBUF_MAP_UNKNOWN, self->p.expect)
		TH_LOG("P2PBUF_EXPECT_MAP unset or unknown");
	self->cycles = DEFAULT_CYCLES;
	if (env) {
		self->cycles = strtol(env, &end, 10);
		ASSERT_TRUE(!*end && self->cycles > 0)
			TH_LOG("P2PBUF_LEAK_CYCLES=%s is not a positive number", env);
	}
}

FIXTURE_TEARDOWN(leak)
{
	exp_pair_close(&self->p);
}

/* UNMAP, RELEASE, then REVOKE with no importer left: 0 or the failed step. */
static int cycle_explicit(const struct exp_pair *p, int buf, int h)
{
	if (imp_handle_op(p->imp, P2PBUF_IMP_UNMAP, h))
		return 8;
	if (imp_handle_op(p->imp, P2PBUF_IMP_RELEASE, h))
		return 9;
	if (exp_revoke(p->exp, P2PBUF_EXP_REVOKE, 0, buf) != 1)
		return 10;
	return 0;
}

/* Cycle @i; returns 0 or the number of the step that failed. */
static int cycle(const struct exp_pair *p, long i)
{
	struct p2pbuf_imp_seg segs[NR_SEGS];
	struct p2pbuf_imp_map m = {
		.argsz = sizeof(m), .max_segs = NR_SEGS,
		.segs = (uintptr_t)segs,
	};
	struct p2pbuf_imp_event ev;
	int buf, h, step = 0;

	buf = exp_export(p->exp, p->bar, leak_ranges, NR_RANGES,
			 O_RDWR | O_CLOEXEC, NULL);
	if (buf < 0)
		return 1;
	if (p->expect == P2PBUF_MAP_NOT_SUPPORTED) {
		if (imp_import(p->imp, buf, 0) != -1 || errno != EXDEV)
			step = 2;
		else if (exp_revoke(p->exp, P2PBUF_EXP_REVOKE, 0, buf) != 1)
			step = 3;
		close(buf);
		return step;
	}

	h = imp_import(p->imp, buf, 0);
	if (h < 0) {
		close(buf);
		return 2;
	}
	m.handle = h;
	if (ioctl(p->imp, P2PBUF_IMP_MAP, &m) || m.map_type != p->expect ||
	    m.length != 3 * PAGE)
		step = 4;
	else if (i & 1)
		step = cycle_explicit(p, buf, h);
	else if (exp_revoke(p->exp, P2PBUF_EXP_REVOKE, 0, buf) != 1)
		step = 5;
	else if (read(p->imp, &ev, sizeof(ev)) != sizeof(ev) ||
		 ev.handle != (__u32)h)
		step = 6;
	if (!(i & 1) && imp_handle_op(p->imp, P2PBUF_IMP_RELEASE, h) && !step)
		step = 7;
	close(buf);
	return step;
}

/* A worker: its own files, @n cycles; returns 0 or the failed step. */
static int worker(const struct exp_pair *parent, long n)
{
	struct exp_pair p = *parent;
	long i;
	int step;

	p.exp = open(p.exp_node, O_RDWR | O_CLOEXEC);
	p.imp = open(p.imp_node, O_RDWR | O_CLOEXEC);
	if (p.exp < 0 || p.imp < 0)
		return 100;
	for (i = 0; i < n; i++) {
		step = cycle(&p, i);
		if (step) {
			fprintf(stderr, "# leak process %d: cycle %ld, step %d: %s\n",
				getpid(), i, step, strerror(errno));
			return step;
		}
	}
	exp_pair_close(&p);
	return 0;
}

TEST_F_TIMEOUT(leak, cycles_then_kmemleak, 580)
{
	int fds = p2pbuf_count_fds();
	int dmabufs = p2pbuf_count_dmabufs(EXP_NAME);
	int expbufs = exp_debugfs_bufs(self->p.pbdf, NULL);
	struct timespec t0, t1;
	int leaks, total = 0, status;
	pid_t pids[LEAK_WORKERS];
	double secs;
	long i;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < LEAK_WORKERS; i++) {
		/* The first worker takes the remainder. */
		long n = self->cycles / LEAK_WORKERS +
			 (i ? 0 : self->cycles % LEAK_WORKERS);

		pids[i] = fork();
		ASSERT_LE(0, pids[i]);
		if (!pids[i])
			_exit(worker(&self->p, n));
	}
	for (i = 0; i < LEAK_WORKERS; i++) {
		ASSERT_EQ(pids[i], waitpid(pids[i], &status, 0));
		ASSERT_TRUE(WIFEXITED(status));
		EXPECT_EQ(0, WEXITSTATUS(status))
			TH_LOG("worker %ld failed at step %d", i,
			       WEXITSTATUS(status));
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	TH_LOG("%ld cycles (%s, %d processes) in %.1f s, %.2f ms per cycle",
	       self->cycles, p2pbuf_env("P2PBUF_EXPECT_MAP"), LEAK_WORKERS,
	       secs, secs * 1000 / self->cycles);

	EXPECT_EQ(fds, p2pbuf_count_fds());
	EXPECT_EQ(dmabufs, p2pbuf_count_dmabufs(EXP_NAME));
	EXPECT_EQ(expbufs, exp_debugfs_bufs(self->p.pbdf, NULL));

	if (access("/sys/kernel/debug/kmemleak", W_OK))
		p2pbuf_feature_missing(return, "kmemleak not available: no verdict on leaks");
	ASSERT_EQ(0, p2pbuf_kmemleak_settle());
	leaks = p2pbuf_kmemleak_ours(&total);
	ASSERT_LE(0, leaks);
	TH_LOG("kmemleak: %d suspected leaks through p2pbuf, %d in all", leaks,
	       total);
	EXPECT_EQ(0, leaks);
}

TEST_HARNESS_MAIN
