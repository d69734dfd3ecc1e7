/* SPDX-License-Identifier: GPL-2.0 */
/*
 * importer_test, "imp" fixture: importing and mapping page-backed dma-bufs
 * (udmabuf, system dma-heap, pinned), the segment array, raw addresses and
 * CAP_SYS_ADMIN, and data moved by the device's DMA engine.
 */
#ifndef P2PBUF_IMPORTER_MAP_TESTS_H
#define P2PBUF_IMPORTER_MAP_TESTS_H

#include "importer_fixture.h"

/* Import, map (NOT_P2P), check segments and state, unmap, release. */
static void import_map_page_backed(struct __test_metadata *_metadata,
				   int fd, const char *bdf, int dmabuf,
				   __u32 flags)
{
	struct p2pbuf_imp_seg segs[MAX_SEGS];
	struct p2pbuf_imp_status st;
	struct p2pbuf_imp_map m;
	__u64 size, sum = 0;
	__u32 h, i;
	int ret;

	ASSERT_EQ(0, imp_import(fd, dmabuf, flags, &h, &size));
	EXPECT_NE(0U, h);
	EXPECT_EQ(BUF_SIZE, size);
	ASSERT_EQ(0, imp_status(fd, h, &st));
	EXPECT_EQ(flags ? P2PBUF_IMP_STATE_PINNED : 0, st.state);
	EXPECT_MAP_TYPE(P2PBUF_MAP_UNKNOWN, st.map_type);

	memset(segs, 0, sizeof(segs));
	ASSERT_EQ(0, imp_map(fd, h, &m, segs, MAX_SEGS));
	EXPECT_MAP_TYPE(P2PBUF_MAP_NOT_P2P, m.map_type);
	EXPECT_EQ(BUF_SIZE, m.length);
	ASSERT_LE(1U, m.nr_segs);
	ASSERT_GE(MAX_SEGS, m.nr_segs);
	for (i = 0; i < m.nr_segs; i++) {
		if (has_cap_sys_admin())
			EXPECT_NE(0U, segs[i].addr);
		EXPECT_NE(0U, segs[i].len);
		sum += segs[i].len;
	}
	EXPECT_EQ(m.length, sum);

	ASSERT_EQ(0, imp_status(fd, h, &st));
	EXPECT_EQ(P2PBUF_IMP_STATE_MAPPED | (flags ? P2PBUF_IMP_STATE_PINNED : 0),
		  st.state);
	EXPECT_EQ(m.nr_segs, st.nr_segs);
	EXPECT_EQ(m.length, st.length);
	EXPECT_MAP_TYPE(P2PBUF_MAP_NOT_P2P, st.map_type);
	ret = imp_attach_count(dmabuf, bdf);
	if (ret != -ENOENT)
		EXPECT_EQ(1, ret);

	EXPECT_EQ(-EBUSY, imp_map(fd, h, &m, NULL, 0));
	EXPECT_EQ(0, imp_handle_op(fd, P2PBUF_IMP_UNMAP, h));
	EXPECT_EQ(-ENXIO, imp_handle_op(fd, P2PBUF_IMP_UNMAP, h));
	ASSERT_EQ(0, imp_status(fd, h, &st));
	EXPECT_EQ(flags ? P2PBUF_IMP_STATE_PINNED : 0, st.state);
	EXPECT_EQ(0U, st.nr_segs);
	EXPECT_EQ(0U, st.length);
	EXPECT_MAP_TYPE(P2PBUF_MAP_NOT_P2P, st.map_type);

	/* Map again, and let RELEASE unmap it. */
	ASSERT_EQ(0, imp_map(fd, h, &m, NULL, 0));
	EXPECT_EQ(0, imp_handle_op(fd, P2PBUF_IMP_RELEASE, h));
	EXPECT_EQ(-ENOENT, imp_status(fd, h, &st));
	ret = imp_attach_count(dmabuf, bdf);
	if (ret != -ENOENT)
		EXPECT_EQ(0, ret);
}

TEST_F(imp, udmabuf_import_map)
{
	int dmabuf, memfd;

	dmabuf = imp_udmabuf(BUF_SIZE, &memfd);
	if (dmabuf < 0)
		p2pbuf_feature_missing(return, "no udmabuf (%s)", strerror(-dmabuf));
	import_map_page_backed(_metadata, self->fd, self->bdf, dmabuf, 0);
	close(dmabuf);
	close(memfd);
}

TEST_F(imp, dma_heap_import_map)
{
	int dmabuf = imp_heap_buf(BUF_SIZE);

	if (dmabuf < 0)
		p2pbuf_feature_missing(return, "no system dma-heap (%s)", strerror(-dmabuf));
	import_map_page_backed(_metadata, self->fd, self->bdf, dmabuf, 0);
	close(dmabuf);
}

TEST_F(imp, pinned_import_map)
{
	int dmabuf, memfd;

	dmabuf = imp_udmabuf(BUF_SIZE, &memfd);
	if (dmabuf < 0)
		p2pbuf_feature_missing(return, "no udmabuf (%s)", strerror(-dmabuf));
	import_map_page_backed(_metadata, self->fd, self->bdf, dmabuf,
			       P2PBUF_IMP_IMPORT_PINNED);
	close(dmabuf);
	close(memfd);
}

/* max_segs bounds what is written; nr_segs is always the full count. */
TEST_F(imp, map_segs_capacity)
{
	struct p2pbuf_imp_seg segs[2];
	struct p2pbuf_imp_map m;
	int dmabuf, memfd;
	__u32 h;

	dmabuf = imp_udmabuf(BUF_SIZE, &memfd);
	if (dmabuf < 0)
		p2pbuf_feature_missing(return, "no udmabuf (%s)", strerror(-dmabuf));
	ASSERT_EQ(0, imp_import(self->fd, dmabuf, 0, &h, NULL));
	ASSERT_EQ(0, imp_map(self->fd, h, &m, NULL, 0));
	EXPECT_LE(1U, m.nr_segs);
	EXPECT_EQ(BUF_SIZE, m.length);
	ASSERT_EQ(0, imp_handle_op(self->fd, P2PBUF_IMP_UNMAP, h));

	memset(segs, 0xa5, sizeof(segs));
	ASSERT_EQ(0, imp_map(self->fd, h, &m, segs, 1));
	EXPECT_NE(0U, segs[0].len);
	EXPECT_NE(0xa5a5a5a5a5a5a5a5ull, segs[0].len);
	if (m.nr_segs == 1)
		EXPECT_EQ(BUF_SIZE, segs[0].len);
	EXPECT_EQ(0xa5a5a5a5a5a5a5a5ull, segs[1].addr);
	EXPECT_EQ(0xa5a5a5a5a5a5a5a5ull, segs[1].len);
	ASSERT_EQ(0, imp_handle_op(self->fd, P2PBUF_IMP_UNMAP, h));

	/* A segment array that faults: -EFAULT, and nothing stays mapped. */
	EXPECT_EQ(-EFAULT, imp_map(self->fd, h, &m,
				   (struct p2pbuf_imp_seg *)8, MAX_SEGS));
	EXPECT_EQ(-ENXIO, imp_handle_op(self->fd, P2PBUF_IMP_UNMAP, h));
	EXPECT_EQ(0, imp_handle_op(self->fd, P2PBUF_IMP_RELEASE, h));
	close(dmabuf);
	close(memfd);
}

/*
 * The segments come back with address 0 when the file was opened without
 * CAP_SYS_ADMIN; what counts is the opener's capability (file->f_cred), so
 * a file opened with it and used by a process without it still gets them.
 */
TEST_F(imp, raw_addresses_need_cap_sys_admin)
{
	struct p2pbuf_imp_seg segs[MAX_SEGS];
	struct p2pbuf_imp_map m;
	int dmabuf, memfd, status;
	__u32 h, i;
	pid_t pid;

	dmabuf = imp_udmabuf(BUF_SIZE, &memfd);
	if (dmabuf < 0)
		p2pbuf_feature_missing(return, "no udmabuf (%s)", strerror(-dmabuf));
	ASSERT_EQ(0, imp_import(self->fd, dmabuf, 0, &h, NULL));

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		char bdf[64];
		int fd;

		if (drop_cap_sys_admin())
			_exit(10);
		/* The fixture's file: opened with the capability. */
		if (imp_map(self->fd, h, &m, segs, MAX_SEGS))
			_exit(11);
		if (has_cap_sys_admin() || (m.nr_segs && !segs[0].addr))
			_exit(14);
		if (imp_handle_op(self->fd, P2PBUF_IMP_UNMAP, h))
			_exit(13);
		/* A file of its own, opened without. */
		fd = imp_open(bdf, sizeof(bdf));
		if (fd < 0 || imp_import(fd, dmabuf, 0, &h, NULL) ||
		    imp_map(fd, h, &m, segs, MAX_SEGS))
			_exit(15);
		for (i = 0; i < m.nr_segs && i < MAX_SEGS; i++)
			if (segs[i].addr || !segs[i].len)
				_exit(12);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));

	ASSERT_EQ(0, imp_map(self->fd, h, &m, segs, MAX_SEGS));
	if (has_cap_sys_admin())
		EXPECT_NE(0U, segs[0].addr);
	EXPECT_EQ(0, imp_handle_op(self->fd, P2PBUF_IMP_RELEASE, h));
	close(dmabuf);
	close(memfd);
}

/* The device's engine moves data into and out of a udmabuf, across pages. */
TEST_F_TIMEOUT(imp, dma_udmabuf_both_ways, 120)
{
	unsigned char in[300], out[300], *cpu;
	struct p2pbuf_imp_map m;
	int dmabuf, memfd;
	__u64 off = 4096 - 100;
	__u32 h;

	if (!self->has_engine)
		SKIP(return, "%s has no DMA engine backend", self->bdf);
	dmabuf = imp_udmabuf(BUF_SIZE, &memfd);
	if (dmabuf < 0)
		p2pbuf_feature_missing(return, "no udmabuf (%s)", strerror(-dmabuf));
	cpu = mmap(NULL, BUF_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	ASSERT_NE(MAP_FAILED, cpu);
	memset(cpu, 0, BUF_SIZE);
	ASSERT_EQ(0, imp_import(self->fd, dmabuf, 0, &h, NULL));

	imp_pattern(in, sizeof(in), 1);
	EXPECT_EQ(-ENXIO, imp_dma(self->fd, h, P2PBUF_IMP_DMA_TO_BUF, off,
				  in, sizeof(in)));
	ASSERT_EQ(0, imp_map(self->fd, h, &m, NULL, 0));

	/* Range checks. */
	EXPECT_EQ(-EINVAL, imp_dma(self->fd, h, P2PBUF_IMP_DMA_TO_BUF, 0, in, 0));
	EXPECT_EQ(-EINVAL, imp_dma(self->fd, h, P2PBUF_IMP_DMA_TO_BUF, 0, in,
				   self->info.dma_max + 1));
	EXPECT_EQ(-EINVAL, imp_dma(self->fd, h, P2PBUF_IMP_DMA_TO_BUF,
				   BUF_SIZE - 10, in, 11));
	EXPECT_EQ(-EINVAL, imp_dma(self->fd, h, P2PBUF_IMP_DMA_TO_BUF,
				   ~0ull - 5, in, 10));
	EXPECT_EQ(-EFAULT, imp_dma(self->fd, h, P2PBUF_IMP_DMA_TO_BUF, 0,
				   (void *)8, 10));

	/* Device writes; the CPU sees it through the memfd. */
	ASSERT_EQ(0, imp_dma(self->fd, h, P2PBUF_IMP_DMA_TO_BUF, off, in,
			     sizeof(in)));
	EXPECT_EQ(0, memcmp(cpu + off, in, sizeof(in)));
	EXPECT_EQ(0, cpu[off - 1]);
	EXPECT_EQ(0, cpu[off + sizeof(in)]);

	/* The CPU writes; the device reads it back. */
	imp_pattern(cpu + off, sizeof(out), 2);
	memset(out, 0, sizeof(out));
	ASSERT_EQ(0, imp_dma(self->fd, h, P2PBUF_IMP_DMA_FROM_BUF, off, out,
			     sizeof(out)));
	EXPECT_EQ(0, memcmp(cpu + off, out, sizeof(out)));

	/* The last bytes of the buffer. */
	ASSERT_EQ(0, imp_dma(self->fd, h, P2PBUF_IMP_DMA_TO_BUF, BUF_SIZE - 10,
			     in, 10));
	EXPECT_EQ(0, memcmp(cpu + BUF_SIZE - 10, in, 10));

	ASSERT_EQ(0, imp_handle_op(self->fd, P2PBUF_IMP_UNMAP, h));
	EXPECT_EQ(-ENXIO, imp_dma(self->fd, h, P2PBUF_IMP_DMA_FROM_BUF, off,
				  out, sizeof(out)));
	EXPECT_EQ(0, imp_handle_op(self->fd, P2PBUF_IMP_RELEASE, h));
	munmap(cpu, BUF_SIZE);
	close(dmabuf);
	close(memfd);
}

#endif /* P2PBUF_IMPORTER_MAP_TESTS_H */
