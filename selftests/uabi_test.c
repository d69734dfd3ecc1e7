// SPDX-License-Identifier: GPL-2.0
/*
 * uabi_test: user pointers of both modules' ioctls, and the same ABI from
 * a 32-bit process.
 *
 * - Every ioctl's argument pointer: NULL, unmapped, or ending inside an
 *   unmapped page right after argsz, is -EFAULT.
 * - Arguments in read-only memory: the results cannot be copied out, the
 *   call is -EFAULT and what it created is undone (EXPORT: no fd, no
 *   dma-buf; IMPORT: no attachment; MAP: no mapping). REVOKE and RESTORE
 *   are the exception the uAPI documents: the state change stands.
 * - Nested pointers (EXPORT ranges, QUERY attachments, MAP segs, DMA data,
 *   the read() buffer): NULL, unmapped, read-only where written,
 *   non-canonical, or with bit 32 set in a 32-bit process: -EFAULT,
 *   nothing left behind.
 * - A round trip through every ioctl with the results checked field by
 *   field.
 *
 * Built twice: uabi_test, and uabi_test_32 with gcc -m32, which runs the
 * same tests through the compat ioctl path (compat_ptr_ioctl). The uAPI
 * structures are compat-clean: fixed-width fields, 64-bit fields
 * __aligned_u64 and pointers carried in them, so the sizes asserted below
 * hold for both.
 *
 * Needs the lab (P2PBUF_PROVIDER_BDF, P2PBUF_INITIATOR_BDF,
 * P2PBUF_EXPECT_MAP).
 */
#define _GNU_SOURCE
#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <linux/p2pbuf_exporter.h>
#include <linux/p2pbuf_importer.h>

#include "p2pbuf_test.h"
#include "exporter_lib.h"

/* The layout is the same for i386 and x86_64 callers. */
static_assert(sizeof(struct p2pbuf_exp_info) == 112, "exp_info");
static_assert(sizeof(struct p2pbuf_exp_export) == 48, "exp_export");
static_assert(sizeof(struct p2pbuf_exp_revoke) == 24, "exp_revoke");
static_assert(sizeof(struct p2pbuf_exp_attach_state) == 80, "attach_state");
static_assert(sizeof(struct p2pbuf_exp_query) == 64, "exp_query");
/* Its first version (minimal argsz) ended at reserved. */
static_assert(offsetof(struct p2pbuf_exp_query, revoke_reasons) == 56, "exp_query v1");
static_assert(sizeof(struct p2pbuf_imp_info) == 56, "imp_info");
static_assert(sizeof(struct p2pbuf_imp_import) == 32, "imp_import");
static_assert(sizeof(struct p2pbuf_imp_handle) == 16, "imp_handle");
static_assert(sizeof(struct p2pbuf_imp_map) == 48, "imp_map");
static_assert(sizeof(struct p2pbuf_imp_status) == 48, "imp_status");
static_assert(sizeof(struct p2pbuf_imp_dma) == 40, "imp_dma");
static_assert(sizeof(struct p2pbuf_imp_event) == 24, "imp_event");

#define NR_SEGS		4U
#define UNMAPPED_HIGH	0xdead000000001000ULL	/* non-canonical on x86-64 */

static const struct p2pbuf_exp_range uabi_ranges[] = {
	{ 0, 2 * PAGE }, { 8 * PAGE, PAGE },
};

#define NR_RANGES	ARRAY_SIZE(uabi_ranges)

#define UABI_SELF FIXTURE_DATA(uabi)

FIXTURE(uabi) {
	struct exp_pair p;
	bool routable;
	char *page;		/* a writable page, followed by @hole */
	char *hole;		/* an unmapped page */
	int buf;		/* a dma-buf of the provider */
};

FIXTURE_SETUP(uabi)
{
	char why[200];

	self->buf = -1;
	self->page = MAP_FAILED;
	if (exp_pair_open(&self->p, why, sizeof(why)))
		SKIP(return, "%s", why);
	ASSERT_NE((__u32)P2PBUF_MAP_UNKNOWN, self->p.expect)
		TH_LOG("P2PBUF_EXPECT_MAP unset or unknown");
	self->routable = self->p.expect != P2PBUF_MAP_NOT_SUPPORTED;
	self->page = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(self->page != MAP_FAILED);
	self->hole = self->page + PAGE;
	ASSERT_EQ(0, munmap(self->hole, PAGE));
	self->buf = exp_export(self->p.exp, self->p.bar, uabi_ranges, NR_RANGES,
			       O_RDWR | O_CLOEXEC, NULL);
	ASSERT_LE(0, self->buf) TH_LOG("EXPORT: %s", strerror(errno));
}

FIXTURE_TEARDOWN(uabi)
{
	if (self->page != MAP_FAILED)
		munmap(self->page, PAGE);
	if (self->buf >= 0)
		close(self->buf);
	exp_pair_close(&self->p);
}

struct uabi_cmd {
	const char *name;
	bool importer;		/* an ioctl of the importer's file */
	unsigned long cmd;
	size_t size;
};

static const struct uabi_cmd uabi_cmds[] = {
	{ "EXP_INFO", false, P2PBUF_EXP_INFO, sizeof(struct p2pbuf_exp_info) },
	{ "EXP_EXPORT", false, P2PBUF_EXP_EXPORT, sizeof(struct p2pbuf_exp_export) },
	{ "EXP_REVOKE", false, P2PBUF_EXP_REVOKE, sizeof(struct p2pbuf_exp_revoke) },
	{ "EXP_RESTORE", false, P2PBUF_EXP_RESTORE, sizeof(struct p2pbuf_exp_revoke) },
	{ "EXP_QUERY", false, P2PBUF_EXP_QUERY, sizeof(struct p2pbuf_exp_query) },
	{ "IMP_INFO", true, P2PBUF_IMP_INFO, sizeof(struct p2pbuf_imp_info) },
	{ "IMP_IMPORT", true, P2PBUF_IMP_IMPORT, sizeof(struct p2pbuf_imp_import) },
	{ "IMP_RELEASE", true, P2PBUF_IMP_RELEASE, sizeof(struct p2pbuf_imp_handle) },
	{ "IMP_MAP", true, P2PBUF_IMP_MAP, sizeof(struct p2pbuf_imp_map) },
	{ "IMP_UNMAP", true, P2PBUF_IMP_UNMAP, sizeof(struct p2pbuf_imp_handle) },
	{ "IMP_STATUS", true, P2PBUF_IMP_STATUS, sizeof(struct p2pbuf_imp_status) },
	{ "IMP_DMA", true, P2PBUF_IMP_DMA, sizeof(struct p2pbuf_imp_dma) },
};

/* ioctl() that must fail with EFAULT; logs @what on a mismatch. */
static void efault(struct __test_metadata *_metadata, int fd,
		   unsigned long cmd, void *arg, const char *what)
{
	int ret;

	errno = 0;
	ret = ioctl(fd, cmd, arg);
	EXPECT_EQ(-1, ret) TH_LOG("%s succeeded", what);
	EXPECT_EQ(EFAULT, errno) TH_LOG("%s: %s", what, strerror(errno));
}

/* State of the buffer and its importers, to compare before and after. */
struct uabi_counts {
	int fds, dmabufs, expbufs;
	__u32 attachments, mappings, revokes;
};

static void take_counts(struct __test_metadata *_metadata, UABI_SELF *self,
			struct uabi_counts *c)
{
	struct p2pbuf_exp_attach_state st = { 0 };
	struct p2pbuf_exp_query q;

	c->fds = p2pbuf_count_fds();
	c->dmabufs = p2pbuf_count_dmabufs(EXP_NAME);
	c->expbufs = exp_debugfs_bufs(self->p.pbdf, NULL);
	ASSERT_EQ(0, exp_query(self->p.exp, self->buf, &st, 1, &q));
	c->attachments = q.nr_attachments;
	c->mappings = q.nr_attachments ? st.nr_mappings : 0;
	c->revokes = q.revokes;
}

static void counts_unchanged(struct __test_metadata *_metadata,
			     UABI_SELF *self, const struct uabi_counts *before,
			     const char *what)
{
	struct uabi_counts now;

	take_counts(_metadata, self, &now);
	EXPECT_TRUE(before->fds == now.fds && before->dmabufs == now.dmabufs &&
		    before->expbufs == now.expbufs)
		TH_LOG("%s changed: fds %d->%d dma-bufs %d->%d buffers %d->%d",
		       what, before->fds, now.fds, before->dmabufs, now.dmabufs,
		       before->expbufs, now.expbufs);
	EXPECT_EQ(before->attachments, now.attachments) TH_LOG("%s", what);
	EXPECT_EQ(before->mappings, now.mappings) TH_LOG("%s", what);
	EXPECT_EQ(before->revokes, now.revokes) TH_LOG("%s", what);
}

/* NULL, unmapped, and cut short by an unmapped page after argsz. */
TEST_F(uabi, arg_pointer_efault)
{
	struct uabi_counts before;
	char what[96];
	size_t i;

	take_counts(_metadata, self, &before);
	for (i = 0; i < ARRAY_SIZE(uabi_cmds); i++) {
		const struct uabi_cmd *c = &uabi_cmds[i];
		int fd = c->importer ? self->p.imp : self->p.exp;
		__u32 *argsz = (__u32 *)(self->hole - sizeof(__u32));

		snprintf(what, sizeof(what), "%s NULL", c->name);
		efault(_metadata, fd, c->cmd, NULL, what);
		snprintf(what, sizeof(what), "%s unmapped", c->name);
		efault(_metadata, fd, c->cmd, self->hole, what);
		/* argsz is readable, the rest of the structure is not. */
		*argsz = c->size;
		snprintf(what, sizeof(what), "%s cut short", c->name);
		efault(_metadata, fd, c->cmd, argsz, what);
	}
	counts_unchanged(_metadata, self, &before, "a faulting argument");
}

/* A valid argument of @c in @a; false if @c has no output to copy. */
static bool fill_valid(UABI_SELF *self, const struct uabi_cmd *c, void *a,
		       __u32 handle)
{
	memset(a, 0, c->size);
	*(__u32 *)a = c->size;
	switch (c->cmd) {
	case P2PBUF_EXP_EXPORT: {
		struct p2pbuf_exp_export *e = a;

		e->nr_ranges = NR_RANGES;
		e->bar = self->p.bar;
		e->open_flags = O_RDWR | O_CLOEXEC;
		e->ranges = (uintptr_t)uabi_ranges;
		return true;
	}
	case P2PBUF_EXP_REVOKE:
	case P2PBUF_EXP_RESTORE:
		((struct p2pbuf_exp_revoke *)a)->fd = self->buf;
		return true;
	case P2PBUF_EXP_QUERY:
		((struct p2pbuf_exp_query *)a)->fd = self->buf;
		return true;
	case P2PBUF_IMP_IMPORT:
		((struct p2pbuf_imp_import *)a)->fd = self->buf;
		return self->routable;	/* else refused before any copy-out */
	case P2PBUF_IMP_MAP:
		if (!handle)
			return false;
		((struct p2pbuf_imp_map *)a)->handle = handle;
		return true;
	case P2PBUF_IMP_STATUS:
		((struct p2pbuf_imp_status *)a)->handle = handle;
		return handle;
	case P2PBUF_EXP_INFO:
	case P2PBUF_IMP_INFO:
		return true;
	}
	/* RELEASE, UNMAP, DMA: nothing is copied out. */
	return false;
}

/*
 * Valid arguments in a read-only page: the kernel reads them, does the work,
 * cannot write the result, and undoes the work. REVOKE and RESTORE keep
 * their effect (see <linux/p2pbuf_exporter.h>).
 */
TEST_F(uabi, readonly_arg_undone)
{
	struct p2pbuf_imp_status st;
	struct uabi_counts before;
	char what[96];
	__u32 handle = 0;
	size_t i;
	int h;

	if (self->routable) {
		/* A second, unmapped import for MAP and STATUS. */
		h = imp_import(self->p.imp, self->buf, 0);
		ASSERT_LE(0, h);
		handle = h;
	}
	for (i = 0; i < ARRAY_SIZE(uabi_cmds); i++) {
		const struct uabi_cmd *c = &uabi_cmds[i];
		int fd = c->importer ? self->p.imp : self->p.exp;

		ASSERT_EQ(0, mprotect(self->page, PAGE, PROT_READ | PROT_WRITE));
		if (!fill_valid(self, c, self->page, handle))
			continue;
		ASSERT_EQ(0, mprotect(self->page, PAGE, PROT_READ));
		take_counts(_metadata, self, &before);
		snprintf(what, sizeof(what), "%s read-only", c->name);
		efault(_metadata, fd, c->cmd, self->page, what);
		if (c->cmd == P2PBUF_EXP_REVOKE) {
			before.revokes++;
			before.mappings = 0;
		}
		counts_unchanged(_metadata, self, &before, what);
	}
	if (handle) {
		ASSERT_EQ(0, imp_status(self->p.imp, handle, &st));
		EXPECT_EQ(0U, st.state & P2PBUF_IMP_STATE_MAPPED);
		EXPECT_EQ(0, imp_handle_op(self->p.imp, P2PBUF_IMP_RELEASE, handle));
	}
}

/* EXPORT's ranges: unmapped, half mapped, non-canonical, above 4 GiB. */
TEST_F(uabi, export_ranges_efault)
{
	struct p2pbuf_exp_range *last = (void *)(self->hole - sizeof(*last));
	struct p2pbuf_exp_export e = {
		.argsz = sizeof(e), .bar = self->p.bar,
		.open_flags = O_RDWR, .nr_ranges = 1, .fd = NO_FD,
	};
	struct uabi_counts before;

	take_counts(_metadata, self, &before);
	e.ranges = (uintptr_t)self->hole;
	efault(_metadata, self->p.exp, P2PBUF_EXP_EXPORT, &e, "ranges unmapped");
	/* The first range readable, the second in the hole. */
	last->offset = 0;
	last->length = PAGE;
	e.ranges = (uintptr_t)last;
	e.nr_ranges = 2;
	efault(_metadata, self->p.exp, P2PBUF_EXP_EXPORT, &e, "second range unmapped");
	e.ranges = UNMAPPED_HIGH;
	efault(_metadata, self->p.exp, P2PBUF_EXP_EXPORT, &e, "ranges non-canonical");
	if (sizeof(void *) == 4) {
		/* The kernel uses all 64 bits, even for a 32-bit caller. */
		e.ranges = (uintptr_t)uabi_ranges | (1ULL << 32);
		efault(_metadata, self->p.exp, P2PBUF_EXP_EXPORT, &e,
		       "ranges with bit 32 set");
	}
	EXPECT_EQ(NO_FD, e.fd);
	counts_unchanged(_metadata, self, &before, "EXPORT with bad ranges");
}

/* QUERY's attachments, with one attachment to report. */
TEST_F(uabi, query_attachments_efault)
{
	struct p2pbuf_exp_query q;
	struct uabi_counts before;
	int h;

	if (!self->routable)
		SKIP(return, "p2pdma cannot route provider to initiator: no attachment");
	h = imp_import(self->p.imp, self->buf, 0);
	ASSERT_LE(0, h) TH_LOG("IMPORT: %s", strerror(errno));
	take_counts(_metadata, self, &before);
	EXPECT_ERRNO(EFAULT, exp_query(self->p.exp, self->buf, NULL, 1, &q));
	EXPECT_ERRNO(EFAULT, exp_query(self->p.exp, self->buf,
				       (void *)self->hole, 1, &q));
	ASSERT_EQ(0, mprotect(self->page, PAGE, PROT_READ));
	EXPECT_ERRNO(EFAULT, exp_query(self->p.exp, self->buf,
				       (void *)self->page, 1, &q));
	/* Room for none: the pointer is not used. */
	EXPECT_EQ(0, exp_query(self->p.exp, self->buf, NULL, 0, &q));
	EXPECT_EQ(1U, q.nr_attachments);
	counts_unchanged(_metadata, self, &before, "QUERY with bad attachments");
	EXPECT_EQ(0, imp_handle_op(self->p.imp, P2PBUF_IMP_RELEASE, h));
}

/*
 * The dma-buf the importer tests use: the provider's where p2pdma routes,
 * else a udmabuf (the importer's path is the same); *@segs gets its number
 * of DMA segments when mapped (one per range; the provider's buffer is one
 * IOVA segment behind an IOMMU, which the caller checks). Returns the fd or
 * -1.
 */
static int import_target(UABI_SELF *self, __u32 *segs)
{
	if (self->routable) {
		*segs = NR_RANGES;
		return dup(self->buf);
	}
	*segs = 1;
	return foreign_dmabuf();
}

/* MAP's segs: every bad pointer leaves the import unmapped. */
TEST_F(uabi, map_segs_efault)
{
	struct p2pbuf_imp_map m = { .argsz = sizeof(m), .max_segs = NR_SEGS };
	const __u64 bad[] = {
		0, (uintptr_t)self->hole, (uintptr_t)self->page, UNMAPPED_HIGH,
	};
	const char * const names[] = {
		"segs NULL", "segs unmapped", "segs read-only", "segs non-canonical",
	};
	struct p2pbuf_imp_status st;
	struct uabi_counts before;
	__u32 segs;
	size_t i;
	int h, target;

	target = import_target(self, &segs);
	ASSERT_LE(0, target) TH_LOG("dma-buf to import: %s", strerror(errno));
	h = imp_import(self->p.imp, target, 0);
	ASSERT_LE(0, h) TH_LOG("IMPORT: %s", strerror(errno));
	m.handle = h;
	ASSERT_EQ(0, mprotect(self->page, PAGE, PROT_READ));
	take_counts(_metadata, self, &before);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		m.segs = bad[i];
		efault(_metadata, self->p.imp, P2PBUF_IMP_MAP, &m, names[i]);
		ASSERT_EQ(0, imp_status(self->p.imp, h, &st));
		EXPECT_EQ(0U, st.state) TH_LOG("%s left state %#x", names[i],
					       st.state);
	}
	counts_unchanged(_metadata, self, &before, "MAP with bad segs");
	/* No room: the pointer is not used, and the import maps. */
	m.max_segs = 0;
	m.segs = 0;
	EXPECT_EQ(0, ioctl(self->p.imp, P2PBUF_IMP_MAP, &m));
	/* Behind an IOMMU p2pbuf links the ranges into one window (sgt.c). */
	if (self->routable && m.map_type == P2PBUF_MAP_HOST_BRIDGE_IOVA)
		segs = 1;
	EXPECT_EQ(segs, m.nr_segs);
	EXPECT_EQ(0, imp_handle_op(self->p.imp, P2PBUF_IMP_RELEASE, h));
	close(target);
}

/* DMA's data: unmapped, non-canonical, read-only where written. */
TEST_F(uabi, dma_data_efault)
{
	struct p2pbuf_imp_dma d = {
		.argsz = sizeof(d), .flags = P2PBUF_IMP_DMA_TO_BUF, .length = 64,
	};
	struct p2pbuf_imp_info info;
	struct p2pbuf_imp_map m;
	unsigned char data[64], back[64];
	__u32 segs;
	int h, target;
	size_t i;

	memset(&info, 0, sizeof(info));
	info.argsz = sizeof(info);
	ASSERT_EQ(0, ioctl(self->p.imp, P2PBUF_IMP_INFO, &info));
	ASSERT_NE(0, info.engine[0]) TH_LOG("the lab's initiator is an edu");
	target = import_target(self, &segs);
	ASSERT_LE(0, target) TH_LOG("dma-buf to import: %s", strerror(errno));
	h = imp_import(self->p.imp, target, 0);
	ASSERT_LE(0, h) TH_LOG("IMPORT: %s", strerror(errno));
	ASSERT_EQ(0, imp_map(self->p.imp, h, &m));
	d.handle = h;
	d.data = (uintptr_t)self->hole;
	efault(_metadata, self->p.imp, P2PBUF_IMP_DMA, &d, "DMA from unmapped data");
	d.data = UNMAPPED_HIGH;
	efault(_metadata, self->p.imp, P2PBUF_IMP_DMA, &d, "DMA from non-canonical data");
	d.flags = P2PBUF_IMP_DMA_FROM_BUF;
	ASSERT_EQ(0, mprotect(self->page, PAGE, PROT_READ));
	d.data = (uintptr_t)self->page;
	efault(_metadata, self->p.imp, P2PBUF_IMP_DMA, &d, "DMA into read-only data");
	/* The mapping is intact: a good transfer works, both ways. */
	for (i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)(0x5b + 3 * i);
	d.flags = P2PBUF_IMP_DMA_TO_BUF;
	d.data = (uintptr_t)data;
	EXPECT_EQ(0, ioctl(self->p.imp, P2PBUF_IMP_DMA, &d))
		TH_LOG("DMA: %s", strerror(errno));
	memset(back, 0, sizeof(back));
	d.flags = P2PBUF_IMP_DMA_FROM_BUF;
	d.data = (uintptr_t)back;
	EXPECT_EQ(0, ioctl(self->p.imp, P2PBUF_IMP_DMA, &d))
		TH_LOG("DMA: %s", strerror(errno));
	EXPECT_EQ(0, memcmp(data, back, sizeof(data)));
	EXPECT_EQ(0, imp_handle_op(self->p.imp, P2PBUF_IMP_RELEASE, h));
	close(target);
}

/* read()'s buffer: an invalidation event, read into memory that is not there. */
TEST_F(uabi, read_event_efault)
{
	struct p2pbuf_imp_map m;
	int h;

	if (!self->routable)
		SKIP(return, "p2pdma cannot route provider to initiator: no invalidation event");
	h = imp_import(self->p.imp, self->buf, 0);
	ASSERT_LE(0, h) TH_LOG("IMPORT: %s", strerror(errno));
	ASSERT_EQ(0, imp_map(self->p.imp, h, &m));
	ASSERT_EQ(1, exp_revoke(self->p.exp, P2PBUF_EXP_REVOKE, 0, self->buf));
	errno = 0;
	EXPECT_EQ(-1, read(self->p.imp, self->hole,
			   sizeof(struct p2pbuf_imp_event)));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(0, imp_handle_op(self->p.imp, P2PBUF_IMP_RELEASE, h));
}

/* Every ioctl once more, with each result checked: the layouts agree. */
TEST_F(uabi, round_trip)
{
	struct p2pbuf_imp_seg segs[NR_SEGS];
	struct p2pbuf_exp_attach_state att;
	struct p2pbuf_imp_status st;
	struct p2pbuf_imp_event ev;
	struct p2pbuf_exp_info info;
	struct p2pbuf_exp_query q;
	struct p2pbuf_imp_map m = {
		.argsz = sizeof(m), .max_segs = NR_SEGS,
		.segs = (uintptr_t)segs,
	};
	__u64 size = 0, sum = 0;
	int buf, h;
	__u32 i;

	ASSERT_EQ(0, exp_info(self->p.exp, &info));
	EXPECT_EQ((__u32)P2PBUF_EXP_NUM_BARS, info.nr_bars);
	EXPECT_EQ(self->p.bar_size, info.bars[self->p.bar].size);
	buf = exp_export(self->p.exp, self->p.bar, uabi_ranges, NR_RANGES,
			 O_RDWR | O_CLOEXEC, &size);
	ASSERT_LE(0, buf);
	EXPECT_EQ(3 * PAGE, size);
	ASSERT_EQ(0, exp_query(self->p.exp, buf, NULL, 0, &q));
	EXPECT_EQ(3 * PAGE, q.size);
	EXPECT_EQ(self->p.bar, q.bar);
	EXPECT_EQ(NR_RANGES, q.nr_ranges);
	if (!self->routable) {
		EXPECT_ERRNO(EXDEV, imp_import(self->p.imp, buf, 0));
		close(buf);
		return;
	}
	h = imp_import(self->p.imp, buf, 0);
	ASSERT_LE(0, h);
	m.handle = h;
	ASSERT_EQ(0, ioctl(self->p.imp, P2PBUF_IMP_MAP, &m));
	EXPECT_EQ(self->p.expect, m.map_type);
	EXPECT_EQ(3 * PAGE, m.length);
	ASSERT_GE(NR_SEGS, m.nr_segs);
	for (i = 0; i < m.nr_segs; i++)
		sum += segs[i].len;
	EXPECT_EQ(3 * PAGE, sum);
	ASSERT_EQ(0, imp_status(self->p.imp, h, &st));
	EXPECT_EQ(P2PBUF_IMP_STATE_MAPPED, st.state);
	EXPECT_EQ(m.nr_segs, st.nr_segs);
	EXPECT_EQ(3 * PAGE, st.length);
	ASSERT_EQ(0, exp_query(self->p.exp, buf, &att, 1, &q));
	EXPECT_EQ(1U, q.nr_attachments);
	EXPECT_STREQ(self->p.ibdf, att.importer);
	EXPECT_EQ(self->p.expect, att.map_type);
	EXPECT_EQ(1U, att.nr_mappings);
	EXPECT_EQ(1, exp_revoke(self->p.exp, P2PBUF_EXP_REVOKE, 0, buf));
	ASSERT_EQ((ssize_t)sizeof(ev), read(self->p.imp, &ev, sizeof(ev)));
	EXPECT_EQ((__u32)P2PBUF_IMP_EVENT_INVALIDATED, ev.type);
	EXPECT_EQ((__u32)h, ev.handle);
	EXPECT_EQ(1U, ev.invalidations);
	EXPECT_EQ(1, exp_revoke(self->p.exp, P2PBUF_EXP_RESTORE, 0, buf));
	ASSERT_EQ(0, imp_status(self->p.imp, h, &st));
	EXPECT_EQ(P2PBUF_IMP_STATE_INVALIDATED, st.state);
	/* RESTORE invalidated once more: "you may map again". */
	EXPECT_EQ(2U, st.invalidations);
	EXPECT_EQ(0, imp_handle_op(self->p.imp, P2PBUF_IMP_RELEASE, h));
	close(buf);
}

TEST_HARNESS_MAIN
