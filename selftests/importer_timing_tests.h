/* SPDX-License-Identifier: GPL-2.0 */
/*
 * importer_test: the benchmark ioctls MAP_CYCLES and TIMING. These check
 * what the ioctls do and report (cycles run, results written, state left
 * unchanged, timestamps on the monotonic clock), never how fast anything
 * is: performance is the business of make bench (docs/bench.rst).
 */
#ifndef P2PBUF_IMPORTER_TIMING_TESTS_H
#define P2PBUF_IMPORTER_TIMING_TESTS_H

#include "importer_fixture.h"
#include "importer_vfio_tests.h"

#define CYCLES		8U
#define UNWRITTEN	(~0ULL)

/*
 * MAP_CYCLES on a udmabuf import: every cycle's times are written, the
 * mapping is classified, and the import is left as it was; a mapped import
 * is refused, and a bad result pointer changes nothing.
 */
TEST_F(imp, map_cycles_reports_every_cycle)
{
	struct p2pbuf_imp_cycle cycles[CYCLES + 1];
	struct p2pbuf_imp_map_cycles arg;
	struct p2pbuf_imp_status st;
	struct p2pbuf_imp_timing t;
	struct p2pbuf_imp_map m;
	int dmabuf, memfd;
	unsigned int i;
	__u32 h;

	dmabuf = imp_udmabuf(BUF_SIZE, &memfd);
	if (dmabuf < 0)
		SKIP(return, "no udmabuf to import (%s)", strerror(-dmabuf));
	ASSERT_EQ(0, imp_import(self->fd, dmabuf, 0, &h, NULL));
	ASSERT_EQ(0, imp_timing(self->fd, h, &t));
	EXPECT_EQ(0U, t.map_ns);
	EXPECT_EQ(0U, t.inval_start_ns);

	memset(cycles, 0xff, sizeof(cycles));
	ASSERT_EQ(0, imp_map_cycles(self->fd, h, CYCLES, cycles, &arg));
	EXPECT_MAP_TYPE(P2PBUF_MAP_NOT_P2P, arg.map_type);
	EXPECT_LE(1U, arg.nr_segs);
	for (i = 0; i < CYCLES; i++) {
		EXPECT_NE(UNWRITTEN, cycles[i].map_ns) TH_LOG("cycle %u", i);
		EXPECT_NE(UNWRITTEN, cycles[i].unmap_ns) TH_LOG("cycle %u", i);
	}
	/* Exactly nr_cycles entries are written. */
	EXPECT_EQ(UNWRITTEN, cycles[CYCLES].map_ns);
	EXPECT_EQ(UNWRITTEN, cycles[CYCLES].unmap_ns);

	/* Unmapped as before; MAP_CYCLES is not a MAP. */
	ASSERT_EQ(0, imp_status(self->fd, h, &st));
	EXPECT_EQ(0U, st.state);
	EXPECT_MAP_TYPE(P2PBUF_MAP_UNKNOWN, st.map_type);
	EXPECT_EQ(0U, st.invalidations);

	/* Without a result array the cycles still run. */
	EXPECT_EQ(0, imp_map_cycles(self->fd, h, CYCLES, NULL, &arg));
	EXPECT_MAP_TYPE(P2PBUF_MAP_NOT_P2P, arg.map_type);
	/* An unwritable result array: -EFAULT, nothing left mapped. */
	EXPECT_EQ(-EFAULT, imp_map_cycles(self->fd, h, 2,
					  (void *)(uintptr_t)8, &arg));
	ASSERT_EQ(0, imp_status(self->fd, h, &st));
	EXPECT_EQ(0U, st.state);

	/* A mapped import is refused; MAP and UNMAP record their times. */
	ASSERT_EQ(0, imp_map(self->fd, h, &m, NULL, 0));
	EXPECT_EQ(-EBUSY, imp_map_cycles(self->fd, h, 1, cycles, &arg));
	ASSERT_EQ(0, imp_status(self->fd, h, &st));
	EXPECT_EQ(P2PBUF_IMP_STATE_MAPPED, st.state);
	EXPECT_EQ(0, imp_handle_op(self->fd, P2PBUF_IMP_UNMAP, h));
	memset(&t, 0xff, sizeof(t));
	ASSERT_EQ(0, imp_timing(self->fd, h, &t));
	EXPECT_NE(UNWRITTEN, t.map_ns);
	EXPECT_NE(UNWRITTEN, t.unmap_ns);
	EXPECT_EQ(0U, t.inval_start_ns);
	EXPECT_EQ(0U, t.inval_ns);

	EXPECT_EQ(0, imp_handle_op(self->fd, P2PBUF_IMP_RELEASE, h));
	EXPECT_EQ(-ENOENT, imp_timing(self->fd, h, &t));
	close(dmabuf);
	close(memfd);
}

/*
 * TIMING after vfio-pci revokes: the invalidation was entered on the
 * monotonic clock between the start and the end of the close that caused
 * it. Both imports are stamped, mapped or not (the switch and intel
 * topologies cannot map vfio's buffer).
 */
TEST_F_TIMEOUT(vfio, timing_of_revoke, 120)
{
	struct p2pbuf_imp_timing t1, t2;
	struct p2pbuf_imp_map m;
	__u64 before, after;
	int dmabuf;
	__u32 h1, h2;

	dmabuf = imp_vfio_dmabuf(&self->v, VFIO_REGION, 0, VFIO_LEN);
	ASSERT_LE(0, dmabuf) TH_LOG("VFIO_DEVICE_FEATURE_DMA_BUF: %s",
				    strerror(-dmabuf));
	ASSERT_EQ(0, imp_import(self->imp, dmabuf, 0, &h1, NULL));
	ASSERT_EQ(0, imp_import(self->imp, dmabuf, P2PBUF_IMP_IMPORT_PINNED,
				&h2, NULL));
	imp_map(self->imp, h1, &m, NULL, 0);
	ASSERT_EQ(0, imp_timing(self->imp, h1, &t1));
	EXPECT_EQ(0U, t1.inval_start_ns);

	before = imp_now_ns();
	imp_vfio_close(&self->v);
	after = imp_now_ns();

	ASSERT_EQ(0, imp_timing(self->imp, h1, &t1));
	ASSERT_EQ(0, imp_timing(self->imp, h2, &t2));
	EXPECT_LE(before, t1.inval_start_ns);
	EXPECT_GE(after, t1.inval_start_ns);
	EXPECT_LE(before, t2.inval_start_ns);
	EXPECT_GE(after, t2.inval_start_ns);
	/* The callback ended before the close returned. */
	EXPECT_GE(after - t1.inval_start_ns, t1.inval_ns);
	EXPECT_GE(after - t2.inval_start_ns, t2.inval_ns);

	EXPECT_EQ(0, imp_handle_op(self->imp, P2PBUF_IMP_RELEASE, h1));
	EXPECT_EQ(0, imp_handle_op(self->imp, P2PBUF_IMP_RELEASE, h2));
	close(dmabuf);
}

#endif /* P2PBUF_IMPORTER_TIMING_TESTS_H */
