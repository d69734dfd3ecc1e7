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

/* P2PBUF_EXP_REVOKE or P2PBUF_EXP_RESTORE of one buffer. */
static int exp_revoke(int exp, unsigned long cmd, int dmabuf)
{
	struct p2pbuf_exp_revoke arg = {
		.argsz = sizeof(arg), .fd = dmabuf,
	};

	return imp_errno(ioctl(exp, cmd, &arg));
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

/* One invalidation event for @h, with a count matching STATUS. */
static void expect_one_event(struct __test_metadata *_metadata, int imp,
			     __u32 h)
{
	struct p2pbuf_imp_status st;
	struct p2pbuf_imp_event ev;

	ASSERT_EQ(0, imp_read_event(imp, &ev, 5000));
	EXPECT_EQ((__u64)P2PBUF_IMP_EVENT_INVALIDATED, ev.type);
	EXPECT_EQ(h, ev.handle);
	ASSERT_EQ(0, imp_status(imp, h, &st));
	EXPECT_LE(1U, ev.invalidations);
	EXPECT_GE(st.invalidations, ev.invalidations);
	EXPECT_LE(1U, ev.seq);
}

/* REVOKE unmaps the importer before it returns; RESTORE lets it map again. */
TEST_F_TIMEOUT(pair, revoke_and_restore, 60)
{
	__u32 pinned = variant->import_flags ? P2PBUF_IMP_STATE_PINNED : 0;
	struct p2pbuf_exp_query q;
	struct p2pbuf_imp_status st;
	struct p2pbuf_imp_map m;
	unsigned char buf[16];
	int dmabuf;
	__u32 h;

	if (self->expect == P2PBUF_MAP_NOT_SUPPORTED)
		SKIP(return, NO_ROUTE);
	dmabuf = export_two_ranges(self->exp);
	ASSERT_LE(0, dmabuf);
	ASSERT_EQ(0, imp_import(self->imp, dmabuf, variant->import_flags, &h,
				NULL));
	ASSERT_EQ(0, imp_map(self->imp, h, &m, NULL, 0));
	EXPECT_MAP_TYPE(self->expect, m.map_type);
	ASSERT_EQ(0, imp_drain_events(self->imp));

	ASSERT_EQ(0, exp_revoke(self->exp, P2PBUF_EXP_REVOKE, dmabuf));
	/* Returned: nothing maps the MMIO any more. */
	expect_exporter_view(_metadata, self->exp, self->ibdf, dmabuf, 0, 0);
	ASSERT_EQ(0, exp_query(self->exp, dmabuf, &q, NULL, 0));
	EXPECT_EQ((__u64)P2PBUF_EXP_BUF_REVOKED, q.state);
	expect_one_event(_metadata, self->imp, h);
	ASSERT_EQ(0, imp_status(self->imp, h, &st));
	EXPECT_EQ(P2PBUF_IMP_STATE_INVALIDATED, st.state);
	EXPECT_EQ(0U, st.nr_segs);
	EXPECT_EQ(0U, st.length);

	EXPECT_EQ(-ENODEV, imp_map(self->imp, h, &m, NULL, 0));
	EXPECT_EQ(self->iinfo.engine[0] ? -ENXIO : -EOPNOTSUPP,
		  imp_dma(self->imp, h, P2PBUF_IMP_DMA_FROM_BUF, 0, buf,
			  sizeof(buf)));
	ASSERT_EQ(0, imp_status(self->imp, h, &st));
	EXPECT_EQ(P2PBUF_IMP_STATE_INVALIDATED, st.state);

	ASSERT_EQ(0, exp_revoke(self->exp, P2PBUF_EXP_RESTORE, dmabuf));
	ASSERT_EQ(0, exp_query(self->exp, dmabuf, &q, NULL, 0));
	EXPECT_EQ((__u64)P2PBUF_EXP_BUF_LIVE, q.state);
	ASSERT_EQ(0, imp_map(self->imp, h, &m, NULL, 0));
	EXPECT_MAP_TYPE(self->expect, m.map_type);
	ASSERT_EQ(0, imp_status(self->imp, h, &st));
	EXPECT_EQ(P2PBUF_IMP_STATE_MAPPED | pinned, st.state);
	expect_exporter_view(_metadata, self->exp, self->ibdf, dmabuf, 1, self->expect);
	if (self->iinfo.engine[0]) {
		imp_pattern(buf, sizeof(buf), 9);
		ASSERT_EQ(0, imp_dma(self->imp, h, P2PBUF_IMP_DMA_TO_BUF, 64,
				     buf, sizeof(buf)));
		EXPECT_EQ(0U, bar_diff(self->bar, 64, buf, sizeof(buf)));
	}
	EXPECT_EQ(0, imp_handle_op(self->imp, P2PBUF_IMP_RELEASE, h));
	close(dmabuf);
}

/*
 * Closing the exporter's file revokes what was exported through it; where
 * p2pdma cannot route, an import is refused for the route before the close
 * and for the revoke after it.
 */
TEST_F_TIMEOUT(pair, revoke_by_exporter_close, 60)
{
	struct p2pbuf_imp_status st;
	struct p2pbuf_imp_map m;
	char path[PATH_MAX];
	int exp2, dmabuf;
	__u32 h;

	snprintf(path, sizeof(path), "/dev/p2pbuf-exp-%s", self->pbdf);
	exp2 = open(path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, exp2);
	dmabuf = export_two_ranges(exp2);
	ASSERT_LE(0, dmabuf);
	if (self->expect == P2PBUF_MAP_NOT_SUPPORTED) {
		/* Nothing to invalidate; the refusal turns from route to revoke. */
		EXPECT_EQ(-EXDEV, imp_import(self->imp, dmabuf,
					     variant->import_flags, &h, NULL));
		close(exp2);
		EXPECT_EQ(-ENODEV, imp_import(self->imp, dmabuf,
					      variant->import_flags, &h, NULL));
		EXPECT_EQ(0, imp_drain_events(self->imp));
		close(dmabuf);
		return;
	}
	ASSERT_EQ(0, imp_import(self->imp, dmabuf, variant->import_flags, &h,
				NULL));
	ASSERT_EQ(0, imp_map(self->imp, h, &m, NULL, 0));
	ASSERT_EQ(0, imp_drain_events(self->imp));

	close(exp2);
	expect_one_event(_metadata, self->imp, h);
	ASSERT_EQ(0, imp_status(self->imp, h, &st));
	EXPECT_EQ(P2PBUF_IMP_STATE_INVALIDATED, st.state);
	EXPECT_EQ(-ENODEV, imp_map(self->imp, h, &m, NULL, 0));
	EXPECT_EQ(0, imp_handle_op(self->imp, P2PBUF_IMP_RELEASE, h));
	close(dmabuf);
}

/*
 * A revoked buffer refuses new attachments: the exporter's -ENODEV, checked
 * before the route, so in every topology. After RESTORE the import works,
 * or where p2pdma cannot route is refused for that again (-EXDEV).
 */
TEST_F(pair, import_of_revoked_refused)
{
	int dmabuf, after;
	__u32 h;

	dmabuf = export_two_ranges(self->exp);
	ASSERT_LE(0, dmabuf);
	if (self->expect == P2PBUF_MAP_NOT_SUPPORTED)
		EXPECT_EQ(-EXDEV, imp_import(self->imp, dmabuf,
					     variant->import_flags, &h, NULL));
	ASSERT_EQ(0, exp_revoke(self->exp, P2PBUF_EXP_REVOKE, dmabuf));
	EXPECT_EQ(-ENODEV, imp_import(self->imp, dmabuf, variant->import_flags,
				      &h, NULL));
	ASSERT_EQ(0, exp_revoke(self->exp, P2PBUF_EXP_RESTORE, dmabuf));
	after = imp_import(self->imp, dmabuf, variant->import_flags, &h, NULL);
	if (self->expect == P2PBUF_MAP_NOT_SUPPORTED) {
		EXPECT_EQ(-EXDEV, after);
	} else {
		ASSERT_EQ(0, after);
		EXPECT_EQ(0, imp_handle_op(self->imp, P2PBUF_IMP_RELEASE, h));
	}
	close(dmabuf);
}

/*
 * More invalidations than the event queue holds: the oldest are dropped,
 * the newest kept, and the loss shows as a gap in the sequence numbers.
 */
TEST_F_TIMEOUT(pair, event_queue_overflow, 120)
{
	struct p2pbuf_imp_event ev[80];
	struct p2pbuf_imp_status st;
	int dmabuf, i, n, flags;
	ssize_t got;
	__u32 h;

	if (self->expect == P2PBUF_MAP_NOT_SUPPORTED)
		SKIP(return, NO_ROUTE);
	dmabuf = export_two_ranges(self->exp);
	ASSERT_LE(0, dmabuf);
	ASSERT_EQ(0, imp_import(self->imp, dmabuf, variant->import_flags, &h,
				NULL));
	for (i = 0; i < 70; i++) {
		ASSERT_EQ(0, exp_revoke(self->exp, P2PBUF_EXP_REVOKE, dmabuf));
		ASSERT_EQ(0, exp_revoke(self->exp, P2PBUF_EXP_RESTORE, dmabuf));
	}
	ASSERT_EQ(0, imp_status(self->imp, h, &st));
	/*
	 * p2pbuf_exporter invalidates on REVOKE, and again on RESTORE to say
	 * that a map may succeed (docs/revoke.rst).
	 */
	ASSERT_EQ(140U, st.invalidations);

	flags = fcntl(self->imp, F_GETFL);
	ASSERT_EQ(0, fcntl(self->imp, F_SETFL, flags | O_NONBLOCK));
	got = read(self->imp, ev, sizeof(ev));
	ASSERT_LT(0, got);
	ASSERT_EQ(0U, got % sizeof(ev[0]));
	n = got / sizeof(ev[0]);
	/* The queue holds 64 events (docs/importer.rst). */
	EXPECT_EQ(64, n);
	for (i = 0; i < n; i++) {
		EXPECT_EQ(h, ev[i].handle);
		/* One import in this file: its count is the file's sequence. */
		EXPECT_EQ(st.invalidations - n + 1 + i, ev[i].seq);
		EXPECT_EQ(ev[i].seq, ev[i].invalidations);
	}
	EXPECT_EQ(-1, read(self->imp, ev, sizeof(ev)));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(0, imp_handle_op(self->imp, P2PBUF_IMP_RELEASE, h));
	close(dmabuf);
}

/* One transfer on its own thread, timed. */
struct bg_dma {
	pthread_t thread;
	int imp;
	__u32 handle;
	__u64 offset;
	void *data;
	__u64 length;
	int ret;
	long long start_ms;
	long long end_ms;
};

static void *bg_dma_fn(void *arg)
{
	struct bg_dma *b = arg;

	b->start_ms = imp_now_ms();
	b->ret = imp_dma(b->imp, b->handle, P2PBUF_IMP_DMA_TO_BUF, b->offset,
			 b->data, b->length);
	b->end_ms = imp_now_ms();
	return NULL;
}

/*
 * Unbind the exporter while the initiator's engine writes into the buffer.
 * The revoke takes the buffer's dma_resv lock, which the transfer holds
 * until the engine is done (docs/importer.rst, Invalidation): the transfer
 * completes and its data lands, the unbind returns after it, and then the
 * import is invalidated: one event, -ENXIO for DMA, -ENODEV for MAP. The
 * provider is bound again afterwards and nothing is left of the buffer.
 */
TEST_F_TIMEOUT(pair, exporter_unbind_during_dma, 120)
{
	unsigned char data[4095], zero[R_LEN];
	struct p2pbuf_imp_status st;
	struct p2pbuf_imp_map m;
	struct bg_dma b;
	long long unbind_start, unbind_end;
	int dmabuf, bufs;
	char drv[64];
	__u32 h;

	if (self->expect == P2PBUF_MAP_NOT_SUPPORTED)
		SKIP(return, NO_ROUTE);
	ASSERT_EQ(sizeof(data), self->iinfo.dma_max)
		TH_LOG("the lab's initiator is an edu");
	bufs = p2pbuf_count_dmabufs("p2pbuf_exporter");
	dmabuf = export_two_ranges(self->exp);
	ASSERT_LE(0, dmabuf);
	ASSERT_EQ(0, imp_import(self->imp, dmabuf, variant->import_flags, &h,
				NULL));
	ASSERT_EQ(0, imp_map(self->imp, h, &m, NULL, 0));
	ASSERT_EQ(0, imp_drain_events(self->imp));
	memset(zero, 0, sizeof(zero));
	bar_fill(self->bar, 0, zero, R_LEN);
	bar_fill(self->bar, R_LEN, zero, R_LEN);

	/* Across the two ranges: two pieces, four edu commands, ~400 ms. */
	imp_pattern(data, sizeof(data), 31);
	b = (struct bg_dma){
		.imp = self->imp, .handle = h, .offset = R_LEN - 2000,
		.data = data, .length = sizeof(data),
	};
	ASSERT_EQ(0, pthread_create(&b.thread, NULL, bg_dma_fn, &b));
	usleep(100 * 1000);
	self->unbound = true;
	unbind_start = imp_now_ms();
	ASSERT_EQ(0, p2pbuf_pci_bind(self->pbdf, ""));
	unbind_end = imp_now_ms();
	ASSERT_EQ(0, pthread_join(b.thread, NULL));
	TH_LOG("transfer 0..%lld ms, unbind %lld..%lld ms", b.end_ms - b.start_ms,
	       unbind_start - b.start_ms, unbind_end - b.start_ms);
	ASSERT_LT(b.start_ms, unbind_start);
	EXPECT_EQ(0, b.ret) TH_LOG("transfer: %s", strerror(-b.ret));
	/*
	 * The unbind waits for the unmap, which the importer does once the
	 * engine is done; then both threads wake, in either order. Not
	 * waiting would end the unbind ~300 ms early: 50 ms of slack for
	 * the wake-ups (seen 1-3 ms the wrong way on one vCPU).
	 */
	EXPECT_LE(b.end_ms, unbind_end + 50) TH_LOG("unbind returned first");

	/* Invalidated once, after the transfer. */
	expect_one_event(_metadata, self->imp, h);
	ASSERT_EQ(0, imp_status(self->imp, h, &st));
	EXPECT_EQ(P2PBUF_IMP_STATE_INVALIDATED, st.state);
	EXPECT_EQ(1U, st.invalidations);
	EXPECT_EQ(-ENXIO, imp_dma(self->imp, h, P2PBUF_IMP_DMA_TO_BUF, 0, data,
				  16));
	EXPECT_EQ(-ENODEV, imp_map(self->imp, h, &m, NULL, 0));

	/* Bound again: the data the transfer wrote is in the BAR. */
	ASSERT_EQ(0, p2pbuf_pci_bind(self->pbdf, "p2pbuf_exporter"));
	imp_pci_driver(self->pbdf, drv, sizeof(drv));
	ASSERT_STREQ("p2pbuf_exporter", drv);
	self->unbound = false;
	EXPECT_EQ(0U, bar_diff(self->bar, b.offset, data, sizeof(data)));
	EXPECT_EQ(0U, bar_diff(self->bar, 0, zero, b.offset));
	EXPECT_EQ(0U, bar_diff(self->bar, b.offset + sizeof(data), zero,
			       EXPORT_SIZE - b.offset - sizeof(data)));

	EXPECT_EQ(0, imp_handle_op(self->imp, P2PBUF_IMP_RELEASE, h));
	close(dmabuf);
	EXPECT_EQ(bufs, p2pbuf_count_dmabufs("p2pbuf_exporter"));
}

/* sw_sync's debugfs ABI (drivers/dma-buf/sw_sync.c; not in uapi headers). */
struct sw_sync_create_fence_data {
	__u32 value;
	char name[32];
	__s32 fence;
};

#define SW_SYNC_IOC_CREATE_FENCE	_IOWR('W', 0, struct sw_sync_create_fence_data)
#define SW_SYNC_IOC_INC			_IOW('W', 1, __u32)
#define SW_SYNC_PATH			"/sys/kernel/debug/sync/sw_sync"

/* Add a fence of @timeline at @seqno to @dmabuf's reservation, as a write. */
static int add_write_fence(int timeline, __u32 seqno, int dmabuf)
{
	struct sw_sync_create_fence_data c = { .value = seqno };
	struct dma_buf_import_sync_file imp = { .flags = DMA_BUF_SYNC_WRITE };
	int ret;

	snprintf(c.name, sizeof(c.name), "p2pbuf-%u", seqno);
	if (ioctl(timeline, SW_SYNC_IOC_CREATE_FENCE, &c))
		return -errno;
	imp.fd = c.fence;
	ret = imp_errno(ioctl(dmabuf, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, &imp));
	close(c.fence);
	return ret;
}

/* A REVOKE_ALL on its own thread. */
struct bg_revoke {
	pthread_t thread;
	int exp;
	int count;		/* the ioctl's count, or -errno */
	int done;		/* __atomic */
};

static void *bg_revoke_fn(void *arg)
{
	struct bg_revoke *r = arg;
	struct p2pbuf_exp_revoke rv = {
		.argsz = sizeof(rv), .flags = P2PBUF_EXP_REVOKE_ALL, .fd = -1,
	};

	r->count = ioctl(r->exp, P2PBUF_EXP_REVOKE, &rv) ? -errno : (int)rv.count;
	__atomic_store_n(&r->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

/* Wait up to @ms for an event; its handle, or 0. */
static __u32 next_event(int imp, int ms)
{
	struct p2pbuf_imp_event ev;

	return imp_read_event(imp, &ev, ms) ? 0 : ev.handle;
}

/*
 * A batch revoke stops every buffer before it waits for any, so that the
 * importers finish in parallel (docs/revoke.rst): with an unsignalled fence
 * on each of two buffers, REVOKE_ALL invalidates both imports while it
 * waits, still waits while one fence is pending, and returns once both
 * signalled.
 */
TEST_F_TIMEOUT(pair, batch_revoke_waits_in_parallel, 90)
{
	struct p2pbuf_exp_query q;
	struct bg_revoke r = { 0 };
	struct p2pbuf_imp_map m;
	char path[PATH_MAX];
	int exp2, buf[2], timeline, i, seen[2] = { 0, 0 };
	__u32 h[2], one = 1, ev;

	if (self->expect == P2PBUF_MAP_NOT_SUPPORTED)
		SKIP(return, NO_ROUTE);
	ASSERT_EQ(0, p2pbuf_debugfs_mount());
	timeline = open(SW_SYNC_PATH, O_RDWR | O_CLOEXEC);
	/* CONFIG_SW_SYNC: in the lab's config, not in Debian's. */
	if (timeline < 0 && errno == ENOENT)
		p2pbuf_feature_missing(return, "no %s (CONFIG_SW_SYNC)", SW_SYNC_PATH);
	ASSERT_LE(0, timeline) TH_LOG("%s: %s", SW_SYNC_PATH, strerror(errno));
	snprintf(path, sizeof(path), "/dev/p2pbuf-exp-%s", self->pbdf);
	exp2 = open(path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, exp2);
	for (i = 0; i < 2; i++) {
		buf[i] = export_two_ranges(exp2);
		ASSERT_LE(0, buf[i]);
		ASSERT_EQ(0, imp_import(self->imp, buf[i], variant->import_flags,
					&h[i], NULL));
		ASSERT_EQ(0, imp_map(self->imp, h[i], &m, NULL, 0));
		ASSERT_EQ(0, add_write_fence(timeline, i + 1, buf[i]));
	}
	ASSERT_EQ(0, imp_drain_events(self->imp));

	r.exp = exp2;
	ASSERT_EQ(0, pthread_create(&r.thread, NULL, bg_revoke_fn, &r));
	/* Both invalidated although the first buffer's fence is pending. */
	for (i = 0; i < 2; i++) {
		ev = next_event(self->imp, 5000);
		seen[0] += ev == h[0];
		seen[1] += ev == h[1];
	}
	EXPECT_EQ(1, seen[0]);
	EXPECT_EQ(1, seen[1]) TH_LOG("the second buffer waited for the first's fence");
	EXPECT_FALSE(__atomic_load_n(&r.done, __ATOMIC_SEQ_CST));

	/* One fence signalled: still waiting for the other. */
	ASSERT_EQ(0, ioctl(timeline, SW_SYNC_IOC_INC, &one));
	if (!seen[1]) {
		/* The serial revoke goes on to the second buffer now. */
		ev = next_event(self->imp, 5000);
		seen[1] += ev == h[1];
	}
	usleep(300 * 1000);
	EXPECT_FALSE(__atomic_load_n(&r.done, __ATOMIC_SEQ_CST));
	ASSERT_EQ(0, ioctl(timeline, SW_SYNC_IOC_INC, &one));
	ASSERT_EQ(0, pthread_join(r.thread, NULL));
	EXPECT_EQ(2, r.count);

	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, exp_query(exp2, buf[i], &q, NULL, 0));
		EXPECT_EQ((__u32)P2PBUF_EXP_BUF_REVOKED, q.state);
		EXPECT_EQ(-ENODEV, imp_map(self->imp, h[i], &m, NULL, 0));
		EXPECT_EQ(0, imp_handle_op(self->imp, P2PBUF_IMP_RELEASE, h[i]));
		close(buf[i]);
	}
	EXPECT_EQ(0, imp_drain_events(self->imp));
	close(exp2);
	close(timeline);
}

TEST_HARNESS_MAIN
