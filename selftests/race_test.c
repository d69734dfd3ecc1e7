// SPDX-License-Identifier: GPL-2.0
/*
 * race_test: p2pbuf_exporter and p2pbuf_importer under concurrent use.
 *
 * Each test races one pair of operations for P2PBUF_RACE_ITERS lock-step
 * iterations (P2PBUF_RACE_UNBINDS unbind/rebind cycles for the two unbind
 * races) on several threads or forked processes, all racers of an
 * iteration starting together (race_lib.h). Every call must return success
 * or one of the errnos docs/uapi.rst documents for that situation, and the
 * state afterwards must be what the documentation promises (no mapping
 * after a revoke, one invalidation per revoke, no attachment after close or
 * unbind); the lab's splat detector and kmemleak scan cover the rest. The
 * unbind races leave both devices bound as they found them.
 *
 * Needs the lab: P2PBUF_PROVIDER_BDF bound to p2pbuf_exporter with BAR 2 a
 * p2pdma provider of at least 2 MiB, P2PBUF_INITIATOR_BDF bound to
 * p2pbuf_importer, P2PBUF_EXPECT_MAP. Where p2pdma cannot route
 * (NOT_SUPPORTED) the races that need a mapping of the provider SKIP, and
 * the unbind races run with refused imports and udmabuf imports instead.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include <linux/p2pbuf_exporter.h>
#include <linux/p2pbuf_importer.h>

#include "p2pbuf_test.h"
#include "exporter_lib.h"
#include "race_lib.h"

#define BAR		2
#define R_LEN		(64 * 1024ULL)
#define BUF_SIZE	(2 * R_LEN)
/* The BAR as far as race_ranges reach, for the CPU's view of the data. */
#define BAR_MAP_LEN	(2 * 1024 * 1024ULL)
#define EXP_DRV		"p2pbuf_exporter"
#define IMP_DRV		"p2pbuf_importer"
#define NO_ROUTE	"no p2pdma route in this topology (attach fails with -EXDEV), nothing to map"

static const struct p2pbuf_exp_range race_ranges[2] = {
	{ .offset = 0, .length = R_LEN },
	{ .offset = 1024 * 1024, .length = R_LEN },
};

/* State of one race; workers that are processes get their own copy. */
struct race_ctx {
	struct race_log *log;
	char exp_node[128];
	char imp_node[128];
	const char *pbdf;
	const char *ibdf;
	int can_map;
	__u32 expect;
	int exp;		/* exporter file */
	int buf;		/* dma-buf */
	int fbuf;		/* a udmabuf, to import where p2pdma cannot route */
	int imp[2];		/* importer files, one per worker */
	__u32 handle[2];
	int ok[2];		/* the worker's import succeeded */
	int attached_first;	/* imported before the racing close */
	unsigned char *bar;	/* BAR 2 through sysfs, or MAP_FAILED */
	unsigned char dma_data[64];	/* what a DMA read must return */
	unsigned char dma_wdata[64];	/* what the last DMA write wrote */
};

FIXTURE(race) {
	struct race_ctx c;
	struct race_run *run;
	unsigned int iters;
	unsigned int unbinds;
	int dmabufs;		/* p2pbuf dma-bufs before the test */
};

#define RACE_SELF FIXTURE_DATA(race)

static int open_node(const char *node)
{
	int fd = open(node, O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

static int new_buf(int exp)
{
	return exp_export(exp, BAR, race_ranges, 2, O_RDWR | O_CLOEXEC, NULL);
}

static const char *driver_of(const char *bdf, char *name, size_t len)
{
	char path[256], target[256];
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", bdf);
	n = readlink(path, target, sizeof(target) - 1);
	target[n < 0 ? 0 : n] = '\0';
	snprintf(name, len, "%s", n < 0 ? "" : basename(target));
	return name;
}

/* Bind @bdf to @drv unless it is; 0 or -errno. */
static int ensure_bound(const char *bdf, const char *drv)
{
	char cur[64];

	if (!strcmp(driver_of(bdf, cur, sizeof(cur)), drv))
		return 0;
	return p2pbuf_pci_bind(bdf, drv);
}

FIXTURE_SETUP(race)
{
	struct race_ctx *c = &self->c;
	const char *e = p2pbuf_env("P2PBUF_EXPECT_MAP");

	memset(c, 0, sizeof(*c));
	c->bar = MAP_FAILED;
	c->exp = -1;
	c->buf = -1;
	c->fbuf = -1;
	c->imp[0] = -1;
	c->imp[1] = -1;
	self->run = NULL;
	c->pbdf = p2pbuf_env("P2PBUF_PROVIDER_BDF");
	c->ibdf = p2pbuf_env("P2PBUF_INITIATOR_BDF");
	if (!c->pbdf || !c->ibdf || !e)
		SKIP(return, "not in the lab: %s unset",
		     "P2PBUF_PROVIDER_BDF, P2PBUF_INITIATOR_BDF or P2PBUF_EXPECT_MAP");
	c->can_map = strcmp(e, "NOT_SUPPORTED") != 0;
	node_path(c->exp_node, sizeof(c->exp_node), "p2pbuf-exp-", c->pbdf);
	node_path(c->imp_node, sizeof(c->imp_node), "p2pbuf-imp-", c->ibdf);
	self->iters = race_knob("P2PBUF_RACE_ITERS", RACE_ITERS_DEFAULT);
	self->unbinds = race_knob("P2PBUF_RACE_UNBINDS", RACE_UNBINDS_DEFAULT);
	c->log = race_log_new();
	self->run = race_run_new();
	ASSERT_NE(NULL, c->log);
	ASSERT_NE(NULL, self->run);
	self->run->ctx = c;
	self->run->log = c->log;
	self->dmabufs = p2pbuf_count_dmabufs(EXP_NAME);
	c->exp = open_node(c->exp_node);
	ASSERT_LE(0, c->exp) TH_LOG("%s: %s", c->exp_node, strerror(-c->exp));
	c->imp[0] = open_node(c->imp_node);
	ASSERT_LE(0, c->imp[0]) TH_LOG("%s: %s", c->imp_node, strerror(-c->imp[0]));
}

FIXTURE_TEARDOWN(race)
{
	struct race_ctx *c = &self->c;

	if (c->pbdf && c->ibdf) {
		/* Leave the lab as we found it, whatever happened. */
		EXPECT_EQ(0, ensure_bound(c->pbdf, EXP_DRV));
		EXPECT_EQ(0, ensure_bound(c->ibdf, IMP_DRV));
	}
	if (c->buf >= 0)
		close(c->buf);
	if (c->fbuf >= 0)
		close(c->fbuf);
	if (c->imp[0] >= 0)
		close(c->imp[0]);
	if (c->imp[1] >= 0)
		close(c->imp[1]);
	if (c->exp >= 0)
		close(c->exp);
	if (c->bar != MAP_FAILED)
		munmap(c->bar, BAR_MAP_LEN);
	race_run_free(self->run);
	race_log_free(c->log);
}

/* The run's result: iterations, operations, and nothing unexpected. */
static void race_report(struct __test_metadata *_metadata, RACE_SELF *self,
			const char *what)
{
	struct race_run *run = self->run;
	struct race_log *log = self->c.log;
	int now;

	ksft_print_msg("%s: %u of %u iterations, %lu checked calls, %lu unexpected, %lu ms\n",
		       what, run->done, run->iters, log->ops, log->bad, run->ms);
	EXPECT_EQ(0UL, log->bad) TH_LOG("first: %s", log->first);
	EXPECT_EQ(run->iters, run->done);
	if (self->dmabufs >= 0) {
		now = p2pbuf_count_dmabufs(EXP_NAME);
		/* The fixture's own buffer, if any, is still open. */
		EXPECT_EQ(self->dmabufs + (self->c.buf >= 0), now);
	}
}

/* STATUS of one import is self-consistent; returns its state or -errno. */
static int check_status(struct race_ctx *c, int imp, __u32 handle, bool pinned,
			struct p2pbuf_imp_status *st)
{
	const __u32 known = P2PBUF_IMP_STATE_MAPPED |
			    P2PBUF_IMP_STATE_INVALIDATED |
			    P2PBUF_IMP_STATE_PINNED;
	bool mapped;

	if (race_check(c->log, "STATUS", race_err(imp_status(imp, handle, st)),
		       RACE_OK(0)))
		return -1;
	mapped = st->state & P2PBUF_IMP_STATE_MAPPED;
	if ((st->state & ~known) ||
	    (!pinned && (st->state & P2PBUF_IMP_STATE_PINNED)) ||
	    (mapped && (!st->nr_segs || st->length != BUF_SIZE)) ||
	    (!mapped && (st->nr_segs || st->length)))
		race_fail(c->log, "STATUS inconsistent: state %#x, %u segments, length %llu",
			  st->state, st->nr_segs, (unsigned long long)st->length);
	return st->state;
}

/* Read every queued event of @imp; the count, *@last the last seq. */
static int drain_events(int imp, __u32 handle, __u64 *last, int *foreign)
{
	struct p2pbuf_imp_event ev;
	int n = 0;

	*foreign = 0;
	for (;;) {
		struct pollfd pfd = { .fd = imp, .events = POLLIN };

		if (poll(&pfd, 1, 0) != 1 || !(pfd.revents & POLLIN))
			return n;
		if (read(imp, &ev, sizeof(ev)) != sizeof(ev))
			return n;
		*last = ev.seq;
		*foreign += ev.handle != handle;
		n++;
	}
}

#include "race_test_map.c"
#include "race_test_unbind.c"
#include "race_test_attach.c"

TEST_HARNESS_MAIN
