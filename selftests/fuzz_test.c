// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_test: a bounded, seeded random driver of both modules' ioctls.
 *
 * P2PBUF_FUZZ_CALLS calls (default FUZZ_CALLS_DEFAULT), chosen by a PRNG
 * seeded from P2PBUF_FUZZ_SEED (default: from the clock; printed either
 * way), over up to two exporter files, two importer files, their dma-bufs
 * (and a udmabuf, another exporter's) and imports: valid calls mixed with
 * invalid ones (random commands near ours, short, long and unreadable
 * arguments, unknown flags, non-zero reserved fields, stale handles and
 * fds, ranges at and past the BAR's edges), closes and reopens, revokes and
 * restores. A model of what every call did predicts each result exactly,
 * from docs/uapi.rst: any other result, a STATUS or QUERY that disagrees
 * with the model, a successful DMA whose data the CPU does not see in the
 * buffer, a lost or extra event, or a leaked fd or dma-buf fails
 * the test with the seed and the call's index. The same seed replays the
 * same calls: P2PBUF_FUZZ_SEED=<seed> P2PBUF_FUZZ_CALLS=<index + 1>.
 *
 * Needs the lab, as race_test; single-threaded, so the kernel's answers
 * are deterministic.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <stdint.h>
#include <time.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <linux/p2pbuf_exporter.h>
#include <linux/p2pbuf_importer.h>

#include "p2pbuf_test.h"
#include "exporter_lib.h"
#include "race_lib.h"
#include "fuzz_model.h"

/* Default of P2PBUF_FUZZ_CALLS, the calls of one run in make check. */
#define FUZZ_CALLS_DEFAULT	3000
/*
 * The harness's limit, fixed at build time: a day, so that a long make fuzz
 * run is bounded by the lab's suite timeout (P2PBUF_SUITE_TIMEOUT) alone.
 */
#define FUZZ_TIMEOUT		86400

FIXTURE(fuzz) {
	struct fuzz f;
	int fds;		/* open fds before the run */
	int dmabufs;		/* p2pbuf dma-bufs before the run */
};

FIXTURE_SETUP(fuzz)
{
	struct fuzz *f = &self->f;
	const char *pbdf = p2pbuf_env("P2PBUF_PROVIDER_BDF");
	const char *ibdf = p2pbuf_env("P2PBUF_INITIATOR_BDF");
	const char *e = p2pbuf_env("P2PBUF_EXPECT_MAP");
	const char *seed = p2pbuf_env("P2PBUF_FUZZ_SEED");
	struct p2pbuf_imp_info ii;
	char path[256];
	int fd;

	fuzz_init(f);
	if (!pbdf || !ibdf || !e)
		SKIP(return, "not in the lab: %s unset",
		     "P2PBUF_PROVIDER_BDF, P2PBUF_INITIATOR_BDF or P2PBUF_EXPECT_MAP");
	node_path(f->exp_node, sizeof(f->exp_node), "p2pbuf-exp-", pbdf);
	node_path(f->imp_node, sizeof(f->imp_node), "p2pbuf-imp-", ibdf);
	snprintf(f->ibdf, sizeof(f->ibdf), "%s", ibdf);
	f->expect = fuzz_map_type(e);
	ASSERT_NE((__u32)P2PBUF_MAP_UNKNOWN, f->expect) TH_LOG("P2PBUF_EXPECT_MAP=%s", e);
	f->can_map = f->expect != P2PBUF_MAP_NOT_SUPPORTED;
	f->seed = seed ? strtoull(seed, NULL, 0) :
		  (unsigned long long)time(NULL) * 2654435761ULL ^ getpid();
	f->rng = f->seed;
	f->calls = race_knob("P2PBUF_FUZZ_CALLS", FUZZ_CALLS_DEFAULT);

	/* Two pages, the second inaccessible: arguments that end at a fault. */
	f->area = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, f->area);
	ASSERT_EQ(0, mprotect(f->area + PAGE, PAGE, PROT_NONE));

	fd = open(f->exp_node, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd) TH_LOG("%s: %s", f->exp_node, strerror(errno));
	ASSERT_EQ(0, exp_info(fd, &f->info));
	close(fd);
	/* The BAR as the CPU sees it: what DMA moved is checked against it. */
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource%d", pbdf,
		 FUZZ_BAR);
	fd = open(path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd) TH_LOG("%s: %s", path, strerror(errno));
	f->bar_len = f->info.bars[FUZZ_BAR].size;
	f->bar = mmap(NULL, f->bar_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	ASSERT_NE(MAP_FAILED, f->bar);
	fd = open(f->imp_node, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd) TH_LOG("%s: %s", f->imp_node, strerror(errno));
	memset(&ii, 0, sizeof(ii));
	ii.argsz = sizeof(ii);
	ASSERT_EQ(0, ioctl(fd, P2PBUF_IMP_INFO, &ii));
	f->dma_max = ii.dma_max;
	close(fd);
	f->foreign_ok = foreign_dmabuf_probe();
	/* Elsewhere the fuzzer goes without foreign dma-bufs. */
	ASSERT_TRUE(f->foreign_ok || !p2pbuf_in_lab())
		TH_LOG("no udmabuf, which the lab guarantees (P2PBUF_LAB=1)");
	self->fds = p2pbuf_count_fds();
	self->dmabufs = p2pbuf_count_dmabufs(EXP_NAME);
}

FIXTURE_TEARDOWN(fuzz)
{
	fuzz_close_all(&self->f);
	if (self->f.area && self->f.area != MAP_FAILED)
		munmap(self->f.area, 2 * PAGE);
	if (self->f.bar != MAP_FAILED)
		munmap(self->f.bar, self->f.bar_len);
}

/* No fd leaked: those open are the model's and those before the run. */
static void fuzz_check_fds(struct fuzz *f, int base)
{
	int now = p2pbuf_count_fds();

	if (base >= 0 && now != base + fuzz_open_fds(f))
		fuzz_fail(f, "%d fds open, the model has %d", now,
			  base + fuzz_open_fds(f));
}

TEST_F_TIMEOUT(fuzz, random_ioctls, FUZZ_TIMEOUT)
{
	struct fuzz *f = &self->f;
	unsigned long i;

	ksft_print_msg("fuzz: seed %llu, %lu calls (replay: P2PBUF_FUZZ_SEED=%llu)\n",
		       f->seed, f->calls, f->seed);
	for (i = 0; i < f->calls && !f->bad; i++) {
		f->call = i;
		fuzz_step(f);
		if (i % 64 == 63)
			fuzz_check_fds(f, self->fds);
	}
	if (!f->bad) {
		f->call = i;
		fuzz_drain_all(f);
		fuzz_close_all(f);
		fuzz_check_fds(f, self->fds);
	}
	ksft_print_msg("fuzz: %lu calls done: %lu ok, %lu expected errors, %lu events read\n",
		       i, f->nr_ok, f->nr_err, f->nr_events);
	if (f->bad)
		fuzz_print_history(f);
	ASSERT_EQ(0UL, f->bad)
		TH_LOG("seed %llu, call %lu: %s (replay: %s=%llu %s=%lu)",
		       f->seed, f->call, f->first, "P2PBUF_FUZZ_SEED", f->seed,
		       "P2PBUF_FUZZ_CALLS", f->call + 1);
	if (self->dmabufs >= 0)
		EXPECT_EQ(self->dmabufs, p2pbuf_count_dmabufs(EXP_NAME));
}

TEST_HARNESS_MAIN
