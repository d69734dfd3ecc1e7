/* SPDX-License-Identifier: GPL-2.0 */
/*
 * importer_test: the benchmark plumbing, outside the uAPI: the map/unmap
 * cycle timer in debugfs (importer/debugfs.c) and the tracepoints
 * (docs/tracing.rst). These check what is reported (cycles run, results
 * written, state left unchanged, trace fields on the monotonic clock), never
 * how fast anything is: performance is the business of make bench.
 */
#ifndef P2PBUF_IMPORTER_TIMING_TESTS_H
#define P2PBUF_IMPORTER_TIMING_TESTS_H

#include "importer_fixture.h"
#include "importer_vfio_tests.h"

#define CYCLES		8U
#define UNWRITTEN	(~0ULL)
#define CYCLES_PATH	"/sys/kernel/debug/p2pbuf_importer/%s/map_cycles"

/* Write @cmd to the device's map_cycles file; 0 or -errno. */
static int cycles_write(const char *bdf, const char *cmd)
{
	char path[PATH_MAX];
	int fd, ret = 0;

	snprintf(path, sizeof(path), CYCLES_PATH, bdf);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, cmd, strlen(cmd)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/*
 * map_cycles on a udmabuf: every cycle's times are reported and the mapping
 * classified; bad commands are refused; an import of the same buffer is
 * left as it was.
 */
TEST_F(imp, map_cycles_debugfs_reports_every_cycle)
{
	unsigned long long map_ns[CYCLES + 1], unmap_ns[CYCLES + 1];
	unsigned int type = ~0U, segs = 0, i;
	struct p2pbuf_imp_status st;
	char path[PATH_MAX], cmd[32];
	int dmabuf, memfd;
	__u32 h;

	p2pbuf_debugfs_mount();
	snprintf(path, sizeof(path), CYCLES_PATH, self->bdf);
	if (access(path, F_OK))
		p2pbuf_feature_missing(return, "no map_cycles of %s in debugfs", self->bdf);
	dmabuf = imp_udmabuf(BUF_SIZE, &memfd);
	if (dmabuf < 0)
		p2pbuf_feature_missing(return, "no udmabuf to import (%s)", strerror(-dmabuf));
	ASSERT_EQ(0, imp_import(self->fd, dmabuf, 0, &h, NULL));

	memset(map_ns, 0xff, sizeof(map_ns));
	memset(unmap_ns, 0xff, sizeof(unmap_ns));
	ASSERT_EQ(0, imp_map_cycles(self->bdf, dmabuf, CYCLES, map_ns, unmap_ns,
				    &type, &segs));
	EXPECT_MAP_TYPE(P2PBUF_MAP_NOT_P2P, type);
	EXPECT_LE(1U, segs);
	for (i = 0; i < CYCLES; i++) {
		EXPECT_NE(UNWRITTEN, map_ns[i]) TH_LOG("cycle %u", i);
		EXPECT_NE(UNWRITTEN, unmap_ns[i]) TH_LOG("cycle %u", i);
	}
	EXPECT_EQ(UNWRITTEN, map_ns[CYCLES]);

	/* The import is untouched: the benchmark has its own attachment. */
	ASSERT_EQ(0, imp_status(self->fd, h, &st));
	EXPECT_EQ(0U, st.state);
	EXPECT_EQ(0U, st.invalidations);

	EXPECT_EQ(-EINVAL, cycles_write(self->bdf, "x"));
	snprintf(cmd, sizeof(cmd), "%d 0", dmabuf);
	EXPECT_EQ(-EINVAL, cycles_write(self->bdf, cmd));
	snprintf(cmd, sizeof(cmd), "%d 65537", dmabuf);
	EXPECT_EQ(-EINVAL, cycles_write(self->bdf, cmd));
	snprintf(cmd, sizeof(cmd), "%d 1", memfd);
	EXPECT_EQ(-EINVAL, cycles_write(self->bdf, cmd));
	EXPECT_EQ(-EBADF, cycles_write(self->bdf, "999999 1"));

	EXPECT_EQ(0, imp_handle_op(self->fd, P2PBUF_IMP_RELEASE, h));
	close(dmabuf);
	close(memfd);
}

/* MAP and UNMAP appear in the trace with their map type and handle. */
TEST_F(imp, map_and_unmap_traced)
{
	struct p2pbuf_imp_map m;
	int dmabuf, memfd;
	char match[32];
	__u32 h;

	if (imp_trace_event("p2pbuf_imp_map", 1))
		p2pbuf_feature_missing(return, "no p2pbuf_imp tracepoints in tracefs");
	ASSERT_EQ(0, imp_trace_event("p2pbuf_imp_unmap", 1));
	ASSERT_EQ(0, imp_trace_clear());
	dmabuf = imp_udmabuf(BUF_SIZE, &memfd);
	if (dmabuf < 0)
		p2pbuf_feature_missing(return, "no udmabuf to import (%s)", strerror(-dmabuf));
	ASSERT_EQ(0, imp_import(self->fd, dmabuf, 0, &h, NULL));
	ASSERT_EQ(0, imp_map(self->fd, h, &m, NULL, 0));
	ASSERT_EQ(0, imp_handle_op(self->fd, P2PBUF_IMP_UNMAP, h));
	imp_trace_event("p2pbuf_imp_map", 0);
	imp_trace_event("p2pbuf_imp_unmap", 0);

	snprintf(match, sizeof(match), " handle=%u ", h);
	EXPECT_EQ((long long)m.nr_segs,
		  imp_trace_field("p2pbuf_imp_map", match, "segs"));
	EXPECT_EQ(0, imp_trace_field("p2pbuf_imp_map", match, "ret"));
	EXPECT_LE(0, imp_trace_field("p2pbuf_imp_map", match, "map_ns"));
	EXPECT_LE(0, imp_trace_field("p2pbuf_imp_unmap", match, "unmap_ns"));
	EXPECT_EQ(0, imp_handle_op(self->fd, P2PBUF_IMP_RELEASE, h));
	close(dmabuf);
	close(memfd);
}

/*
 * The invalidate tracepoint after vfio-pci revokes: entered on the
 * monotonic clock between the start and the end of the close that caused
 * it, for both imports, mapped or not (the switch and intel topologies
 * cannot map vfio's buffer).
 */
TEST_F_TIMEOUT(vfio, revoke_traced, 120)
{
	long long s1, s2, d1, d2;
	struct p2pbuf_imp_map m;
	__u64 before, after;
	char m1[32], m2[32];
	int dmabuf;
	__u32 h1, h2;

	if (imp_trace_event("p2pbuf_imp_invalidate", 1))
		p2pbuf_feature_missing(return, "no p2pbuf_imp tracepoints in tracefs");
	ASSERT_EQ(0, imp_trace_clear());
	dmabuf = imp_vfio_dmabuf(&self->v, VFIO_REGION, 0, VFIO_LEN);
	ASSERT_LE(0, dmabuf) TH_LOG("VFIO_DEVICE_FEATURE_DMA_BUF: %s",
				    strerror(-dmabuf));
	ASSERT_EQ(0, imp_import(self->imp, dmabuf, 0, &h1, NULL));
	ASSERT_EQ(0, imp_import(self->imp, dmabuf, P2PBUF_IMP_IMPORT_PINNED,
				&h2, NULL));
	imp_map(self->imp, h1, &m, NULL, 0);

	before = imp_now_ns();
	imp_vfio_close(&self->v);
	after = imp_now_ns();
	imp_trace_event("p2pbuf_imp_invalidate", 0);

	snprintf(m1, sizeof(m1), " handle=%u ", h1);
	snprintf(m2, sizeof(m2), " handle=%u ", h2);
	s1 = imp_trace_field("p2pbuf_imp_invalidate", m1, "start_ns");
	s2 = imp_trace_field("p2pbuf_imp_invalidate", m2, "start_ns");
	d1 = imp_trace_field("p2pbuf_imp_invalidate", m1, "ns");
	d2 = imp_trace_field("p2pbuf_imp_invalidate", m2, "ns");
	EXPECT_LE((long long)before, s1);
	EXPECT_GE((long long)after, s1);
	EXPECT_LE((long long)before, s2);
	EXPECT_GE((long long)after, s2);
	/* The callback ended before the close returned. */
	EXPECT_GE((long long)after - s1, d1);
	EXPECT_GE((long long)after - s2, d2);
	EXPECT_EQ(1, imp_trace_field("p2pbuf_imp_invalidate", m2, "pinned"));

	EXPECT_EQ(0, imp_handle_op(self->imp, P2PBUF_IMP_RELEASE, h1));
	EXPECT_EQ(0, imp_handle_op(self->imp, P2PBUF_IMP_RELEASE, h2));
	close(dmabuf);
}

#endif /* P2PBUF_IMPORTER_TIMING_TESTS_H */
