// SPDX-License-Identifier: GPL-2.0
/*
 * fault_test: every allocation of EXPORT, IMPORT, MAP, QUERY, REVOKE, DMA
 * and opening the importer failed in turn, in the style of
 * iommufd_fail_nth.c.
 *
 * For n = 1, 2, ... the test writes n to /proc/self/task/<tid>/fail-nth
 * right before the ioctl, so the n-th allocation the ioctl makes on this
 * task fails, from the slab (failslab) or the page allocator
 * (fail_page_alloc, order 0 and up), with ignore-gfp-wait=N so that
 * GFP_KERNEL allocations are eligible and verbose=0. The sweep ends at the first n the
 * ioctl does not reach: the call then succeeds with fail-nth not consumed.
 * Each call with an injected failure must either fail with -ENOMEM (or the
 * errno the call has without injection) or succeed, and leave nothing
 * behind: no new fd, no dma-buf, no exporter buffer, no attachment, no
 * mapping; state it reports must match what it did. The last test asks
 * kmemleak whether anything allocated through either module leaked.
 *
 * The operations are in fault_test_ops.h, which this file includes.
 *
 * Needs the lab (P2PBUF_PROVIDER_BDF, P2PBUF_INITIATOR_BDF,
 * P2PBUF_EXPECT_MAP), debugfs, CONFIG_FAILSLAB and CONFIG_FAIL_PAGE_ALLOC
 * with CONFIG_FAULT_INJECTION_DEBUG_FS; SKIPs otherwise.
 */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include <linux/p2pbuf_exporter.h>
#include <linux/p2pbuf_importer.h>

#include "p2pbuf_test.h"
#include "exporter_lib.h"

/* The fault-injection settings the sweep needs, restored afterwards. */
static const struct {
	const char *path;
	const char *value;
} fault_settings[] = {
	/* GFP_KERNEL allocations may fail; no report per injected failure. */
	{ "/sys/kernel/debug/failslab/ignore-gfp-wait", "N" },
	{ "/sys/kernel/debug/failslab/verbose", "0" },
	{ "/sys/kernel/debug/fail_page_alloc/ignore-gfp-wait", "N" },
	{ "/sys/kernel/debug/fail_page_alloc/min-order", "0" },
	{ "/sys/kernel/debug/fail_page_alloc/verbose", "0" },
};

#define NR_FAULT_SETTINGS	ARRAY_SIZE(fault_settings)
#define MAX_NTH		1000U
#define NR_SEGS		8
/* DMA: 256 bytes across the end of the first range into the second. */
#define DMA_LEN		256U
#define DMA_OFF		(2 * PAGE - DMA_LEN / 2)
/*
 * Seconds per sweep: a few under TCG+KASAN, but the harness' default of 30
 * is too close on a loaded host. The kmemleak test's two scans take longer.
 */
#define SWEEP_TIMEOUT	120

static const struct p2pbuf_exp_range fault_ranges[] = {
	{ 0, 2 * PAGE }, { 8 * PAGE, PAGE }, { 4 * PAGE, 3 * PAGE },
};

#define NR_RANGES	ARRAY_SIZE(fault_ranges)
#define BAR_MAP_LEN	(16 * PAGE)

/* Read a small debugfs value into @buf (newline stripped); 0 or -errno. */
static int read_value(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

#define FAULT_SELF FIXTURE_DATA(fault)

FIXTURE(fault) {
	struct exp_pair p;
	bool routable;		/* the importer can map the provider's memory */
	unsigned char *bar;	/* the first 16 pages of the BAR, or MAP_FAILED */
	unsigned int steps;	/* sweep steps so far: seeds the DMA data */
	int nth;		/* /proc/self/task/<tid>/fail-nth */
	/* fault_settings[] as found, restored by the teardown */
	char saved[NR_FAULT_SETTINGS][16];
	bool configured;
};

FIXTURE_SETUP(fault)
{
	char why[200], path[128];
	size_t i;
	int fd;

	self->nth = -1;
	self->configured = false;
	self->bar = MAP_FAILED;
	if (exp_pair_open(&self->p, why, sizeof(why)))
		SKIP(return, "%s", why);
	self->routable = self->p.expect != P2PBUF_MAP_NOT_SUPPORTED;
	if (p2pbuf_debugfs_mount()) {
		exp_pair_close(&self->p);
		p2pbuf_feature_missing(return, "debugfs cannot be mounted");
	}
	for (i = 0; i < NR_FAULT_SETTINGS; i++) {
		if (read_value(fault_settings[i].path, self->saved[i],
			       sizeof(self->saved[i]))) {
			exp_pair_close(&self->p);
			p2pbuf_feature_missing(return,
					       "no %s (needs CONFIG_FAILSLAB, CONFIG_FAIL_PAGE_ALLOC, CONFIG_FAULT_INJECTION_DEBUG_FS)",
					       fault_settings[i].path);
		}
	}
	/* All saved: from here on the teardown restores them. */
	self->configured = true;
	for (i = 0; i < NR_FAULT_SETTINGS; i++)
		ASSERT_EQ(0, p2pbuf_sysfs_write(fault_settings[i].path,
						fault_settings[i].value))
			TH_LOG("cannot set fault_settings[%zu]", i);

	/* The BAR as the CPU sees it, to check what DMA wrote. */
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource%u",
		 self->p.pbdf, self->p.bar);
	fd = open(path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd) TH_LOG("%s: %s", path, strerror(errno));
	self->bar = mmap(NULL, BAR_MAP_LEN, PROT_READ | PROT_WRITE, MAP_SHARED,
			 fd, 0);
	close(fd);
	ASSERT_NE(MAP_FAILED, self->bar);

	snprintf(path, sizeof(path), "/proc/self/task/%ld/fail-nth",
		 (long)syscall(SYS_gettid));
	self->nth = open(path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->nth) TH_LOG("%s: %s", path, strerror(errno));
}

FIXTURE_TEARDOWN(fault)
{
	size_t i;

	if (self->nth >= 0)
		close(self->nth);
	if (self->bar != MAP_FAILED)
		munmap(self->bar, BAR_MAP_LEN);
	for (i = 0; self->configured && i < NR_FAULT_SETTINGS; i++)
		p2pbuf_sysfs_write(fault_settings[i].path, self->saved[i]);
	exp_pair_close(&self->p);
}

/* Fail the @n-th allocation of this task from now on. */
static int nth_arm(int fd, unsigned int n)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%u", n);

	return pwrite(fd, buf, len, 0) == len ? 0 : -errno;
}

/*
 * Stop injecting. Returns 1 if the armed failure was injected (fail-nth
 * counted down to 0), 0 if the call did not reach it, -errno on error.
 */
static int nth_disarm(int fd)
{
	char buf[16] = "";
	ssize_t n;

	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return n ? -errno : -EIO;
	if (pwrite(fd, "0", 1, 0) != 1)
		return -errno;
	return atoi(buf) == 0;
}

/* What one sweep step works on; the operation's prepare() fills it. */
struct step {
	int buf;		/* dma-buf fd, or -1 */
	int handle;		/* import handle, or -1 */
	int fds;		/* open fds before the call */
	int dmabufs;		/* the core's p2pbuf dma-bufs before the call */
	int expbufs;		/* the exporter's debugfs buffers before the call */
	int ret;		/* the call: 0 or -errno */
	int result;		/* fd or handle the call returned */
	/* QUERY: what it reported */
	struct p2pbuf_exp_query q;
	struct p2pbuf_exp_attach_state att;
	/* DMA: what it writes, and what the BAR held before */
	unsigned char data[DMA_LEN];
	unsigned char before[DMA_LEN];
};

/* One operation under test. */
struct sweep_op {
	const char *name;
	/* Setup done before arming; false to SKIP. */
	bool (*prepare)(struct __test_metadata *_metadata, FAULT_SELF *self,
			struct step *s);
	/* The call itself, nothing else: 0 or -errno, s->result. */
	void (*call)(FAULT_SELF *self, struct step *s);
	/* Check what the call left (s->ret says how it ended) and clean up. */
	void (*check)(struct __test_metadata *_metadata, FAULT_SELF *self,
		      struct step *s);
	/* The call's result without injection: 0 or -errno. */
	int (*expect)(FAULT_SELF *self);
};

static int expect_zero(FAULT_SELF *self)
{
	return 0;
}

static int expect_import(FAULT_SELF *self)
{
	/* The exporter refuses attachments it cannot route (maptype.c). */
	return self->p.expect == P2PBUF_MAP_NOT_SUPPORTED ? -EXDEV : 0;
}

static bool need_route(struct __test_metadata *_metadata, FAULT_SELF *self)
{
	if (self->p.expect == P2PBUF_MAP_NOT_SUPPORTED)
		SKIP(return false,
		     "p2pdma cannot route provider to initiator: no import to map or transfer");
	ASSERT_NE((__u32)P2PBUF_MAP_UNKNOWN, self->p.expect)
		TH_LOG("P2PBUF_EXPECT_MAP unset or unknown");
	return true;
}

static int export_buf(FAULT_SELF *self)
{
	return exp_export(self->p.exp, self->p.bar, fault_ranges, NR_RANGES,
			  O_RDWR | O_CLOEXEC, NULL);
}

/* Attachments and mappings of @buf as the exporter reports them. */
static void exp_state(struct __test_metadata *_metadata, FAULT_SELF *self,
		      int buf, __u32 *attachments, __u32 *mappings, __u32 *state)
{
	struct p2pbuf_exp_attach_state st = { 0 };
	struct p2pbuf_exp_query q;

	ASSERT_EQ(0, exp_query(self->p.exp, buf, &st, 1, &q))
		TH_LOG("QUERY: %s", strerror(errno));
	*attachments = q.nr_attachments;
	*mappings = q.nr_attachments ? st.nr_mappings : 0;
	*state = q.state;
}

/* The counts taken before the call are back. */
static void counts_unchanged(struct __test_metadata *_metadata,
			     FAULT_SELF *self, const struct step *s)
{
	EXPECT_EQ(s->fds, p2pbuf_count_fds());
	EXPECT_EQ(s->dmabufs, p2pbuf_count_dmabufs(EXP_NAME));
	EXPECT_EQ(s->expbufs, exp_debugfs_bufs(self->p.pbdf, NULL));
}

static void take_counts(FAULT_SELF *self, struct step *s)
{
	s->fds = p2pbuf_count_fds();
	s->dmabufs = p2pbuf_count_dmabufs(EXP_NAME);
	s->expbufs = exp_debugfs_bufs(self->p.pbdf, NULL);
}

#include "fault_test_ops.h"

/*
 * Sweep @op: fail its 1st, 2nd, ... allocation until it makes no more.
 * Returns the number of failure points injected.
 */
static unsigned int sweep(struct __test_metadata *_metadata, FAULT_SELF *self,
			  const struct sweep_op *op)
{
	unsigned int n, points = 0, enomem = 0, absorbed = 0, plain = 0;
	int want = op->expect(self);

	for (n = 1; n < MAX_NTH; n++) {
		struct step s = { .buf = -1, .handle = -1, .result = -1 };
		int injected;

		if (!op->prepare(_metadata, self, &s))
			return 0;
		take_counts(self, &s);
		ASSERT_EQ(0, nth_arm(self->nth, n));
		op->call(self, &s);
		injected = nth_disarm(self->nth);
		ASSERT_LE(0, injected) TH_LOG("fail-nth: %s", strerror(-injected));

		if (!injected) {
			/* Past the last allocation: the plain call. */
			EXPECT_EQ(want, s.ret) TH_LOG("%s without injection: %s",
						      op->name, strerror(-s.ret));
			op->check(_metadata, self, &s);
			break;
		}
		points++;
		if (s.ret == -ENOMEM)
			enomem++;
		else if (s.ret == want)
			absorbed++;	/* a fallback took over, or the plain errno */
		else
			plain++;
		EXPECT_TRUE(s.ret == -ENOMEM || s.ret == want)
			TH_LOG("%s, allocation %u failed: %s", op->name, n,
			       strerror(-s.ret));
		op->check(_metadata, self, &s);
		if (_metadata->exit_code)
			TH_LOG("%s: first failure with allocation %u", op->name, n);
		ASSERT_EQ(0, _metadata->exit_code);
	}
	ASSERT_GT(MAX_NTH, n) TH_LOG("%s: no end after %u allocations", op->name, n);
	TH_LOG("%s: %u injected allocation failures: %u -ENOMEM, %u absorbed, %u other",
	       op->name, points, enomem, absorbed, plain);
	return points;
}

/* Export allocates its buffer, the dma-buf and its file: every one fails. */
TEST_F_TIMEOUT(fault, export_nth, SWEEP_TIMEOUT)
{
	EXPECT_LT(0U, sweep(_metadata, self, &op_export));
}

TEST_F_TIMEOUT(fault, import_nth, SWEEP_TIMEOUT)
{
	EXPECT_LT(0U, sweep(_metadata, self, &op_import));
}

TEST_F_TIMEOUT(fault, import_pinned_nth, SWEEP_TIMEOUT)
{
	EXPECT_LT(0U, sweep(_metadata, self, &op_import_pinned));
}

TEST_F_TIMEOUT(fault, map_nth, SWEEP_TIMEOUT)
{
	if (!need_route(_metadata, self))
		return;
	EXPECT_LT(0U, sweep(_metadata, self, &op_map));
}

/*
 * QUERY allocates the array of attachment states. Where p2pdma cannot route
 * the buffer has no attachment, and QUERY allocates nothing: the sweep
 * proves that and checks the plain result.
 */
TEST_F_TIMEOUT(fault, query_nth, SWEEP_TIMEOUT)
{
	unsigned int points = sweep(_metadata, self, &op_query);

	EXPECT_EQ(self->routable, points > 0)
		TH_LOG("%u failure points, p2pdma %s", points,
		       self->routable ? "routes" : "does not route");
}

/*
 * REVOKE allocates nothing today; the sweep proves it and keeps it so, of a
 * mapped buffer or, where p2pdma cannot route, of one without attachments.
 */
TEST_F_TIMEOUT(fault, revoke_nth, SWEEP_TIMEOUT)
{
	sweep(_metadata, self, &op_revoke);
}

TEST_F_TIMEOUT(fault, dma_nth, SWEEP_TIMEOUT)
{
	if (!need_route(_metadata, self))
		return;
	EXPECT_LT(0U, sweep(_metadata, self, &op_dma));
}

/* The importer allocates per open file. */
TEST_F_TIMEOUT(fault, open_importer_nth, SWEEP_TIMEOUT)
{
	EXPECT_LT(0U, sweep(_metadata, self, &op_open));
}

/* Runs last: whatever the sweeps leaked is old enough to be reported. */
TEST_F_TIMEOUT(fault, kmemleak_after_sweeps, 180)
{
	int leaks, total = 0;

	if (access("/sys/kernel/debug/kmemleak", W_OK))
		p2pbuf_feature_missing(return, "kmemleak not available");
	ASSERT_EQ(0, p2pbuf_kmemleak_settle());
	leaks = p2pbuf_kmemleak_ours(&total);
	ASSERT_LE(0, leaks);
	TH_LOG("kmemleak: %d suspected leaks through p2pbuf, %d in all", leaks,
	       total);
	EXPECT_EQ(0, leaks);
}

TEST_HARNESS_MAIN
