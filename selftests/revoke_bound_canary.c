// SPDX-License-Identifier: GPL-2.0
/*
 * revoke_bound_canary: not a suite, the planted defect that proves the
 * revoke bound. The lab's slow importer (p2pbuf_slowimp) keeps its
 * invalidated mapping for the exporter's revoke_bound_ms plus
 * CANARY_OVER_MS, then its work item lets go by itself; the REVOKE in
 * between waits past the bound. The test passes when the exporter reported
 * "revoke exceeded its bound" while waiting and the revoke completed after
 * the let-go. The run must then fail through lab/summary.py's splat list:
 * lab/detector-selftest.sh runs this program in its third boot and checks
 * that it did.
 */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdint.h>

#include "p2pbuf_test.h"
#include "exporter_lib.h"
#include "revoke_slow_lib.h"

/* How far the hold goes past the bound. */
#define CANARY_OVER_MS	2000

FIXTURE(canary) {
	struct slow_env e;
};

FIXTURE_SETUP(canary)
{
	char why[256];
	int ret = slow_env_open(&self->e, why, sizeof(why));

	if (ret > 0)
		SKIP(return, "%s", why);
	ASSERT_EQ(0, ret) TH_LOG("%s", why);
}

FIXTURE_TEARDOWN(canary)
{
	slow_env_close(&self->e);
}

TEST_F_TIMEOUT(canary, revoke_past_bound, 180)
{
	struct slow_env *e = &self->e;
	struct p2pbuf_slowimp_status st;
	char what[64], line[512];
	const char * const words[] = { what, NULL };
	__u32 hold = e->bound + CANARY_OVER_MS;

	if (!e->routable)
		SKIP(return, "no p2pdma route from %s to %s: no mapping to hold",
		     e->p.pbdf, e->p.ibdf);
	ASSERT_LE(0, slow_export(e, 1)) TH_LOG("EXPORT: %s", strerror(errno));
	ASSERT_EQ(0, slow_import(e->slow, e->buf, e->p.ibdf,
				 P2PBUF_SLOWIMP_HOLD, hold))
		TH_LOG("slow IMPORT: %s", strerror(errno));
	ASSERT_EQ(0, ioctl(e->slow, P2PBUF_SLOWIMP_MAP));

	e->op.kind = SLOW_OP_REVOKE;
	e->op.exp = e->p.exp;
	e->op.buf = e->buf;
	ASSERT_EQ(0, slow_op_start(&e->op));

	snprintf(what, sizeof(what), "revoke exceeded its bound of %ld ms",
		 e->bound);
	ASSERT_EQ(1, slow_kmsg_wait(e->kmsg, words, hold + 10000, line,
				    sizeof(line)))
		TH_LOG("no \"%s\" report", what);
	TH_LOG("planted: %s", line);

	snprintf(what, sizeof(what), "completed after");
	ASSERT_EQ(1, slow_kmsg_wait(e->kmsg, words, CANARY_OVER_MS + 10000,
				    line, sizeof(line)));
	TH_LOG("%s", line);
	slow_op_join(&e->op);
	EXPECT_EQ(1, e->op.ret);
	ASSERT_EQ(0, slow_status(e->slow, &st));
	TH_LOG("REVOKE blocked %lld ms, returned %lld ms after the timed let-go",
	       slow_ms(e->op.t1 - e->op.t0), slow_ms(e->op.t1 - st.unmap_ns));
	EXPECT_LE(hold, slow_ms(e->op.t1 - e->op.t0));
}

TEST_HARNESS_MAIN
