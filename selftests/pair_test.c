// SPDX-License-Identifier: GPL-2.0
/*
 * pair_test: p2pbuf_exporter and p2pbuf_importer together. A BAR range of
 * the provider exported by one and imported by the other: the map type seen
 * from both sides against the topology's expectation (P2PBUF_EXPECT_MAP),
 * data moved by the initiator's DMA engine both ways and checked against the
 * BAR read through sysfs resource2, and revocation - by REVOKE and by closing
 * the exporter's file - reaching the importer as an event, an INVALIDATED
 * status and -ENODEV on remap, undone by RESTORE.
 *
 * Needs P2PBUF_PROVIDER_BDF bound to p2pbuf_exporter with a p2pdma-capable
 * BAR 2 of at least 2 MiB, and P2PBUF_INITIATOR_BDF bound to p2pbuf_importer.
 *
 * One program in two files: this file holds the fixture, the helpers and
 * the map and DMA tests, then includes the revoke tests of
 * pair_test_revoke.c in the order they run (kselftest_harness.h supports
 * one translation unit per program).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdbool.h>

#include <linux/dma-buf.h>
#include <linux/p2pbuf_exporter.h>

#include "importer_lib.h"

#define BAR		2
#define MAP_LEN		(2 * 1024 * 1024U)
#define R0_OFF		0U
#define R1_OFF		(1024 * 1024U)
#define R_LEN		(64 * 1024U)
#define EXPORT_SIZE	(2 * R_LEN)

FIXTURE(pair) {
	int exp;
	int imp;
	char pbdf[64];
	char ibdf[64];
	int expect;
	struct p2pbuf_imp_info iinfo;
	unsigned char *bar;
	__u64 bar_start;
	bool unbound;		/* a test unbound the provider */
};

FIXTURE_VARIANT(pair) {
	__u32 import_flags;
};

FIXTURE_VARIANT_ADD(pair, dynamic) {
	.import_flags = 0,
};

FIXTURE_VARIANT_ADD(pair, pinned) {
	.import_flags = P2PBUF_IMP_IMPORT_PINNED,
};

/* CPU address of BAR @bar from sysfs "resource"; 0 on error. */
static __u64 bar_start(const char *bdf, int bar)
{
	char path[PATH_MAX];
	unsigned long long start = 0, end, flags;
	FILE *f;
	int i;

	snprintf(path, sizeof(path), IMP_SYSFS_PCI "/%s/resource", bdf);
	f = fopen(path, "re");
	if (!f)
		return 0;
	for (i = 0; i <= bar; i++)
		if (fscanf(f, "%llx %llx %llx", &start, &end, &flags) != 3)
			start = 0;
	fclose(f);
	return start;
}

FIXTURE_SETUP(pair)
{
	const char *p = p2pbuf_env("P2PBUF_PROVIDER_BDF");
	const char *e = p2pbuf_env("P2PBUF_EXPECT_MAP");
	struct p2pbuf_exp_info info = { .argsz = sizeof(info) };
	char path[PATH_MAX];
	int fd, err;

	self->exp = -1;
	self->imp = -1;
	self->bar = MAP_FAILED;
	if (!p || !e)
		SKIP(return, "P2PBUF_PROVIDER_BDF or P2PBUF_EXPECT_MAP not set");
	self->expect = imp_map_type_parse(e);
	ASSERT_LE(0, self->expect) TH_LOG("unknown P2PBUF_EXPECT_MAP %s", e);
	snprintf(self->pbdf, sizeof(self->pbdf), "%s", p);

	snprintf(path, sizeof(path), "/dev/p2pbuf-exp-%s", p);
	self->exp = open(path, O_RDWR | O_CLOEXEC);
	if (self->exp < 0)
		SKIP(return, "no /dev/p2pbuf-exp-%s (%s)", p, strerror(errno));
	self->imp = imp_open(self->ibdf, sizeof(self->ibdf));
	if (self->imp < 0) {
		close(self->exp);
		self->exp = -1;
		SKIP(return, "no importer device (%s)", strerror(-self->imp));
	}
	ASSERT_EQ(0, imp_info(self->imp, &self->iinfo));
	ASSERT_EQ(0, ioctl(self->exp, P2PBUF_EXP_INFO, &info));
	ASSERT_NE(0U, info.bars[BAR].flags & P2PBUF_EXP_BAR_PROVIDER);
	ASSERT_LE(MAP_LEN, info.bars[BAR].size);

	self->bar_start = bar_start(p, BAR);
	ASSERT_NE(0U, self->bar_start);
	snprintf(path, sizeof(path), IMP_SYSFS_PCI "/%s/resource%d", p, BAR);
	fd = open(path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd) TH_LOG("%s: %s", path, strerror(errno));
	self->bar = mmap(NULL, MAP_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	err = errno;
	close(fd);
	/*
	 * EINVAL from a kernel with CONFIG_IO_STRICT_DEVMEM (Debian's): the
	 * BAR the exporter holds is not mmap-able through sysfs unless the
	 * kernel was booted with iomem=relaxed.
	 */
	ASSERT_NE(MAP_FAILED, self->bar)
		TH_LOG("mmap %s: %s%s", path, strerror(err),
		       err == EINVAL ? " (CONFIG_IO_STRICT_DEVMEM without iomem=relaxed?)" : "");
}

FIXTURE_TEARDOWN(pair)
{
	/* Leave the lab as we found it even if the test failed midway. */
	if (self->unbound)
		p2pbuf_pci_bind(self->pbdf, "p2pbuf_exporter");
	if (self->bar != MAP_FAILED)
		munmap(self->bar, MAP_LEN);
	if (self->imp >= 0)
		close(self->imp);
	if (self->exp >= 0)
		close(self->exp);
}

/*
 * Where p2pdma cannot route, the exporter refuses to attach (asserted by
 * map_type_both_sides); the tests that need an attachment do not apply.
 */
#define NO_ROUTE	"no p2pdma route in this topology: attach is refused (-EXDEV)"

/*
 * Export two ranges of BAR 2 through @exp, R_LEN bytes at R0_OFF and R_LEN
 * at R1_OFF; the dma-buf fd or -errno.
 */
static int export_two_ranges(int exp)
{
	struct p2pbuf_exp_range ranges[2] = {
		{ .offset = R0_OFF, .length = R_LEN },
		{ .offset = R1_OFF, .length = R_LEN },
	};
	struct p2pbuf_exp_export arg = {
		.argsz = sizeof(arg), .bar = BAR,
		.open_flags = O_RDWR | O_CLOEXEC, .nr_ranges = 2,
		.ranges = (uintptr_t)ranges,
	};

	if (ioctl(exp, P2PBUF_EXP_EXPORT, &arg))
		return -errno;
	return arg.size == EXPORT_SIZE ? arg.fd : -EIO;
}

/* BAR offset of byte @off of the buffer. */
static size_t bar_off(__u64 off)
{
	return off < R_LEN ? R0_OFF + off : R1_OFF + (off - R_LEN);
}

/*
 * Bytes of [@off, @off + @len) of the buffer that differ from @data, read
 * through the BAR mapping @bar.
 */
static size_t bar_diff(const unsigned char *bar, __u64 off,
		       const unsigned char *data, size_t len)
{
	size_t i, diff = 0;

	for (i = 0; i < len; i++)
		diff += bar[bar_off(off + i)] != data[i];
	return diff;
}

static void bar_fill(unsigned char *bar, __u64 off,
		     const unsigned char *data, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		bar[bar_off(off + i)] = data[i];
}

static int exp_query(int exp, int dmabuf, struct p2pbuf_exp_query *q,
		     struct p2pbuf_exp_attach_state *att, __u32 cap)
{
	memset(q, 0, sizeof(*q));
	q->argsz = sizeof(*q);
	q->fd = dmabuf;
	q->nr_attachments = cap;
	q->attachments = (uintptr_t)att;
	return imp_errno(ioctl(exp, P2PBUF_EXP_QUERY, q));
}

/* The exporter sees exactly our attachment, with @nr_mappings mappings. */
static void expect_exporter_view(struct __test_metadata *_metadata, int exp,
				 const char *ibdf, int dmabuf,
				 __u32 nr_mappings, __u32 map_type)
{
	struct p2pbuf_exp_attach_state att[4];
	struct p2pbuf_exp_query q;

	memset(att, 0, sizeof(att));
	ASSERT_EQ(0, exp_query(exp, dmabuf, &q, att, 4));
	ASSERT_EQ(1U, q.nr_attachments);
	EXPECT_STREQ(ibdf, att[0].importer);
	EXPECT_EQ(nr_mappings, att[0].nr_mappings);
	if (nr_mappings)
		EXPECT_EQ(map_type, att[0].map_type) {
			TH_LOG("exporter's map type %s, want %s",
			       imp_map_type_name(att[0].map_type),
			       imp_map_type_name(map_type));
		}
}

/* The map type and the segments seen from both sides. */
TEST_F(pair, map_type_both_sides)
{
	struct p2pbuf_imp_seg segs[8];
	struct p2pbuf_imp_status st;
	struct p2pbuf_imp_map m;
	int dmabuf, ret;
	__u64 size;
	__u32 h;

	dmabuf = export_two_ranges(self->exp);
	ASSERT_LE(0, dmabuf);
	ret = imp_import(self->imp, dmabuf, variant->import_flags, &h, &size);
	if (self->expect == P2PBUF_MAP_NOT_SUPPORTED) {
		struct p2pbuf_exp_query q;

		/*
		 * p2pbuf_exporter checks the route at attach and refuses with
		 * -EXDEV (docs/exporter.rst); the importer passes it through
		 * and keeps nothing.
		 */
		EXPECT_EQ(-EXDEV, ret);
		ASSERT_EQ(0, exp_query(self->exp, dmabuf, &q, NULL, 0));
		EXPECT_EQ(0U, q.nr_attachments);
		EXPECT_EQ(-ENOENT, imp_status(self->imp, 1, &st));
		if (imp_attach_count(dmabuf, self->ibdf) != -ENOENT)
			EXPECT_EQ(0, imp_attach_count(dmabuf, self->ibdf));
		close(dmabuf);
		return;
	}
	ASSERT_EQ(0, ret);
	EXPECT_EQ(EXPORT_SIZE, size);
	expect_exporter_view(_metadata, self->exp, self->ibdf, dmabuf, 0, 0);

	memset(segs, 0, sizeof(segs));
	ret = imp_map(self->imp, h, &m, segs, 8);
	if (ret == -EADDRINUSE && self->expect == P2PBUF_MAP_HOST_BRIDGE_IOVA)
		TH_LOG("7.2.13 dma_buf_phys_vec_to_sgt() links all ranges at IOVA 0");
	ASSERT_EQ(0, ret);
	EXPECT_MAP_TYPE(self->expect, m.map_type);
	EXPECT_EQ(EXPORT_SIZE, m.length);
	expect_exporter_view(_metadata, self->exp, self->ibdf, dmabuf, 1, self->expect);

	if (self->expect == P2PBUF_MAP_HOST_BRIDGE_IOVA) {
		/*
		 * IOVAs, never the BAR's addresses: p2pbuf_exporter links
		 * both ranges into one IOVA window (exporter/sgt.c), so the
		 * importer sees one segment of the whole buffer. (Two would
		 * mean no window: the lab's domain has IOVA space to spare,
		 * so that is a fault here, not a fallback.)
		 */
		ASSERT_EQ(1U, m.nr_segs);
		EXPECT_EQ(EXPORT_SIZE, segs[0].len);
		EXPECT_EQ(0U, segs[0].addr % 4096);
		EXPECT_NE(self->bar_start + R0_OFF, segs[0].addr);
		EXPECT_NE(self->bar_start + R1_OFF, segs[0].addr + R_LEN);
	} else {
		/* Bus address = CPU physical address on x86: the BAR itself. */
		ASSERT_EQ(2U, m.nr_segs);
		EXPECT_EQ(self->bar_start + R0_OFF, segs[0].addr);
		EXPECT_EQ(R_LEN, segs[0].len);
		EXPECT_EQ(self->bar_start + R1_OFF, segs[1].addr);
		EXPECT_EQ(R_LEN, segs[1].len);
	}
	ASSERT_EQ(0, imp_handle_op(self->imp, P2PBUF_IMP_UNMAP, h));
	expect_exporter_view(_metadata, self->exp, self->ibdf, dmabuf, 0, 0);
	EXPECT_EQ(0, imp_handle_op(self->imp, P2PBUF_IMP_RELEASE, h));
	close(dmabuf);
}

/* The initiator's engine writes and reads the provider's BAR, across ranges. */
TEST_F_TIMEOUT(pair, dma_both_ways, 120)
{
	unsigned char in[300], out[300], big[4095], zero[R_LEN];
	struct p2pbuf_imp_map m;
	__u64 off = R_LEN - 100;
	int dmabuf;
	__u32 h;

	if (self->expect == P2PBUF_MAP_NOT_SUPPORTED)
		SKIP(return, NO_ROUTE);
	if (!self->iinfo.engine[0])
		SKIP(return, "initiator %s has no DMA engine", self->ibdf);
	dmabuf = export_two_ranges(self->exp);
	ASSERT_LE(0, dmabuf);
	ASSERT_EQ(0, imp_import(self->imp, dmabuf, variant->import_flags, &h,
				NULL));
	ASSERT_EQ(0, imp_map(self->imp, h, &m, NULL, 0));
	EXPECT_LE(1U, m.nr_segs);

	memset(zero, 0, sizeof(zero));
	bar_fill(self->bar, 0, zero, R_LEN);
	bar_fill(self->bar, R_LEN, zero, R_LEN);

	/* 100 bytes at the end of range 0, 200 at the start of range 1. */
	imp_pattern(in, sizeof(in), 5);
	ASSERT_EQ(0, imp_dma(self->imp, h, P2PBUF_IMP_DMA_TO_BUF, off, in,
			     sizeof(in)));
	EXPECT_EQ(0U, bar_diff(self->bar, off, in, sizeof(in)));
	EXPECT_EQ(0U, bar_diff(self->bar, off - 1, zero, 1));
	EXPECT_EQ(0U, bar_diff(self->bar, off + sizeof(in), zero, 1));

	imp_pattern(in, sizeof(in), 6);
	bar_fill(self->bar, off, in, sizeof(in));
	memset(out, 0, sizeof(out));
	ASSERT_EQ(0, imp_dma(self->imp, h, P2PBUF_IMP_DMA_FROM_BUF, off, out,
			     sizeof(out)));
	EXPECT_EQ(0, memcmp(in, out, sizeof(out)));

	/* The largest transfer, inside range 1. */
	imp_pattern(big, sizeof(big), 8);
	ASSERT_EQ(0, imp_dma(self->imp, h, P2PBUF_IMP_DMA_TO_BUF, R_LEN + 4096,
			     big, sizeof(big)));
	EXPECT_EQ(0U, bar_diff(self->bar, R_LEN + 4096, big, sizeof(big)));

	EXPECT_EQ(0, imp_handle_op(self->imp, P2PBUF_IMP_RELEASE, h));
	close(dmabuf);
}

#include "pair_test_revoke.c"

TEST_HARNESS_MAIN
