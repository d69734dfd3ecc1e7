// SPDX-License-Identifier: GPL-2.0
/*
 * exporter_test: the p2pbuf exporter's uAPI, from bad arguments to revoke.
 *
 * Needs the lab: P2PBUF_PROVIDER_BDF bound to p2pbuf_exporter. Attaching and
 * mapping go through the p2pbuf importer bound to P2PBUF_INITIATOR_BDF; the
 * tests that need it SKIP when its node is missing. P2PBUF_EXPECT_MAP says
 * how the topology routes the provider to the initiator.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>

#include <linux/p2pbuf_exporter.h>
#include <linux/p2pbuf_importer.h>
#include <linux/udmabuf.h>

#include "p2pbuf_test.h"

#define EXP_NAME	"p2pbuf_exporter"
#define PAGE		4096ULL
#define NO_FD		(-1)

static int exp_info(int fd, struct p2pbuf_exp_info *info)
{
	memset(info, 0, sizeof(*info));
	info->argsz = sizeof(*info);
	return ioctl(fd, P2PBUF_EXP_INFO, info);
}

/* EXPORT ranges; returns the dma-buf fd or -1 with errno. */
static int exp_export(int fd, __u32 bar, const struct p2pbuf_exp_range *r,
		      __u32 n, __u32 open_flags, __u64 *size)
{
	struct p2pbuf_exp_export e = {
		.argsz = sizeof(e),
		.bar = bar,
		.open_flags = open_flags,
		.nr_ranges = n,
		.fd = NO_FD,
		.ranges = (uintptr_t)r,
	};

	if (ioctl(fd, P2PBUF_EXP_EXPORT, &e))
		return -1;
	if (size)
		*size = e.size;
	return e.fd;
}

static int exp_query(int fd, int buf, struct p2pbuf_exp_attach_state *st,
		     __u32 cap, struct p2pbuf_exp_query *q)
{
	memset(q, 0, sizeof(*q));
	q->argsz = sizeof(*q);
	q->fd = buf;
	q->nr_attachments = cap;
	q->attachments = (uintptr_t)st;
	return ioctl(fd, P2PBUF_EXP_QUERY, q);
}

/* REVOKE or RESTORE; returns the count or -1 with errno. */
static int exp_revoke(int fd, unsigned long cmd, __u32 flags, int buf)
{
	struct p2pbuf_exp_revoke r = {
		.argsz = sizeof(r),
		.flags = flags,
		.fd = buf,
		.count = 0xdead,
	};

	if (ioctl(fd, cmd, &r))
		return -1;
	return r.count;
}

/* IMPORT into the importer; returns the handle or -1 with errno. */
static int imp_import(int imp, int buf, __u32 flags)
{
	struct p2pbuf_imp_import i = {
		.argsz = sizeof(i),
		.flags = flags,
		.fd = buf,
	};

	if (ioctl(imp, P2PBUF_IMP_IMPORT, &i))
		return -1;
	return i.handle;
}

static int imp_map(int imp, __u32 handle, struct p2pbuf_imp_map *m)
{
	memset(m, 0, sizeof(*m));
	m->argsz = sizeof(*m);
	m->handle = handle;
	return ioctl(imp, P2PBUF_IMP_MAP, m);
}

static int imp_handle_op(int imp, unsigned long cmd, __u32 handle)
{
	struct p2pbuf_imp_handle h = {
		.argsz = sizeof(h),
		.handle = handle,
	};

	return ioctl(imp, cmd, &h);
}

static int imp_status(int imp, __u32 handle, struct p2pbuf_imp_status *s)
{
	memset(s, 0, sizeof(*s));
	s->argsz = sizeof(*s);
	s->handle = handle;
	return ioctl(imp, P2PBUF_IMP_STATUS, s);
}

static __u32 expected_map_type(void)
{
	static const struct {
		const char *name;
		__u32 type;
	} names[] = {
		{ "BUS_ADDR", P2PBUF_MAP_BUS_ADDR },
		{ "HOST_BRIDGE_DIRECT", P2PBUF_MAP_HOST_BRIDGE_DIRECT },
		{ "HOST_BRIDGE_IOVA", P2PBUF_MAP_HOST_BRIDGE_IOVA },
		{ "NOT_SUPPORTED", P2PBUF_MAP_NOT_SUPPORTED },
	};
	const char *v = p2pbuf_env("P2PBUF_EXPECT_MAP");
	size_t i;

	for (i = 0; v && i < ARRAY_SIZE(names); i++)
		if (!strcmp(v, names[i].name))
			return names[i].type;
	return P2PBUF_MAP_UNKNOWN;
}

static char *node_path(char *path, size_t len, const char *pfx,
		       const char *bdf)
{
	snprintf(path, len, "/dev/%s%s", pfx, bdf);
	return path;
}

/* The fixture data as a parameter type (keeps checkpatch from reading a product). */
#define EXPORTER_SELF FIXTURE_DATA(exporter)

FIXTURE(exporter) {
	const char *bdf;
	const char *initiator;
	char node[128];
	int fd;			/* exporter file */
	int imp;		/* importer file, or -1 */
	char imp_missing[160];	/* why there is no importer */
	__u32 expect;	/* enum p2pbuf_map_type of the topology */
	struct p2pbuf_exp_info info;
	__u32 bar;		/* the largest provider BAR */
	__u64 bar_size;
	int other_bar;		/* a BAR that is no provider, or -1 */
	int small_bar;		/* a provider BAR below one page, or -1 */
	int unbound;		/* a test unbound the provider */
};

FIXTURE_SETUP(exporter)
{
	char path[128];
	int i;

	self->fd = -1;
	self->imp = -1;
	self->bdf = p2pbuf_env("P2PBUF_PROVIDER_BDF");
	if (!self->bdf)
		SKIP(return, "not in the lab: P2PBUF_PROVIDER_BDF unset");
	node_path(self->node, sizeof(self->node), "p2pbuf-exp-", self->bdf);
	self->fd = open(self->node, O_RDWR | O_CLOEXEC);
	if (self->fd < 0)
		SKIP(return, "%s: %s (provider not bound to p2pbuf_exporter)",
		     self->node, strerror(errno));

	ASSERT_EQ(0, exp_info(self->fd, &self->info));
	self->bar_size = 0;
	self->other_bar = -1;
	self->small_bar = -1;
	for (i = 0; i < P2PBUF_EXP_NUM_BARS; i++) {
		const struct p2pbuf_exp_bar_info *b = &self->info.bars[i];

		if (!(b->flags & P2PBUF_EXP_BAR_PROVIDER)) {
			if (self->other_bar < 0)
				self->other_bar = i;
			continue;
		}
		if (b->size < PAGE && self->small_bar < 0)
			self->small_bar = i;
		if (b->size > self->bar_size) {
			self->bar = i;
			self->bar_size = b->size;
		}
	}
	ASSERT_LE(64 * PAGE, self->bar_size)
		TH_LOG("%s has no provider BAR of 256 KiB or more", self->bdf);

	self->expect = expected_map_type();
	self->initiator = p2pbuf_env("P2PBUF_INITIATOR_BDF");
	if (!self->initiator) {
		snprintf(self->imp_missing, sizeof(self->imp_missing),
			 "P2PBUF_INITIATOR_BDF unset");
		return;
	}
	node_path(path, sizeof(path), "p2pbuf-imp-", self->initiator);
	self->imp = open(path, O_RDWR | O_CLOEXEC);
	if (self->imp < 0)
		snprintf(self->imp_missing, sizeof(self->imp_missing),
			 "%s: %s (importer not bound)", path, strerror(errno));
}

FIXTURE_TEARDOWN(exporter)
{
	if (self->imp >= 0)
		close(self->imp);
	if (self->fd >= 0)
		close(self->fd);
	/* Leave the lab as we found it even if the test failed midway. */
	if (self->unbound)
		p2pbuf_pci_bind(self->bdf, EXP_NAME);
}

/* False, and the test SKIPs, without an importer. */
static bool have_importer(struct __test_metadata *_metadata,
			  EXPORTER_SELF *self)
{
	if (self->imp < 0)
		SKIP(return false, "no importer: %s", self->imp_missing);
	return true;
}

/* False, and the test SKIPs, unless the importer can map here. */
static bool have_route(struct __test_metadata *_metadata,
		       EXPORTER_SELF *self)
{
	if (!have_importer(_metadata, self))
		return false;
	if (self->expect == P2PBUF_MAP_NOT_SUPPORTED)
		SKIP(return false,
		     "p2pdma cannot route provider to initiator (P2PBUF_EXPECT_MAP=NOT_SUPPORTED)");
	ASSERT_NE((__u32)P2PBUF_MAP_UNKNOWN, self->expect)
		TH_LOG("P2PBUF_EXPECT_MAP unset or unknown");
	return true;
}

static int export_pages(struct __test_metadata *_metadata, int fd,
			__u32 bar, __u64 offset, __u64 pages)
{
	struct p2pbuf_exp_range r = { offset, pages * PAGE };
	__u64 size = 0;
	int buf;

	buf = exp_export(fd, bar, &r, 1, O_RDWR | O_CLOEXEC, &size);
	EXPECT_LE(0, buf) TH_LOG("EXPORT: %s", strerror(errno));
	EXPECT_EQ(pages * PAGE, size);
	return buf;
}

/* The node exists, is root-only, and hangs below the PCI device. */
TEST_F(exporter, node)
{
	char path[256];
	struct stat st;

	ASSERT_EQ(0, stat(self->node, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(0600U, st.st_mode & 07777);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/misc/p2pbuf-exp-%s",
		 self->bdf, self->bdf);
	EXPECT_EQ(0, access(path, F_OK)) TH_LOG("%s missing", path);
}

TEST_F(exporter, info)
{
	const struct p2pbuf_exp_bar_info *b = &self->info.bars[self->bar];

	EXPECT_EQ((__u32)P2PBUF_EXP_NUM_BARS, self->info.nr_bars);
	EXPECT_EQ(64ULL << 20, self->bar_size)
		TH_LOG("the lab's provider BAR is 64 MiB");
	EXPECT_EQ(P2PBUF_EXP_BAR_MEM | P2PBUF_EXP_BAR_MEM64 |
		  P2PBUF_EXP_BAR_PREFETCH | P2PBUF_EXP_BAR_PROVIDER, b->flags);
	EXPECT_EQ(0U, b->reserved);
	ASSERT_LE(0, self->other_bar) TH_LOG("every BAR is a provider?");
	EXPECT_EQ(0U, self->info.bars[self->other_bar].flags &
		  P2PBUF_EXP_BAR_PROVIDER);
}

TEST_F(exporter, info_bad_args)
{
	struct {
		struct p2pbuf_exp_info info;
		__u64 tail;
	} big;
	struct p2pbuf_exp_info info;

	memset(&info, 0, sizeof(info));
	info.argsz = sizeof(info) - 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, P2PBUF_EXP_INFO, &info));
	info.argsz = 0;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, P2PBUF_EXP_INFO, &info));
	info.argsz = sizeof(info);
	info.flags = 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, P2PBUF_EXP_INFO, &info));
	info.flags = 0;
	info.reserved = 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, P2PBUF_EXP_INFO, &info));
	EXPECT_ERRNO(EFAULT, ioctl(self->fd, P2PBUF_EXP_INFO, NULL));

	/* Longer with a non-zero tail: E2BIG; zero tail: OK, tail untouched. */
	memset(&big, 0, sizeof(big));
	big.info.argsz = sizeof(big);
	big.tail = 1;
	EXPECT_ERRNO(E2BIG, ioctl(self->fd, P2PBUF_EXP_INFO, &big));
	big.tail = 0;
	ASSERT_EQ(0, ioctl(self->fd, P2PBUF_EXP_INFO, &big));
	EXPECT_EQ((__u32)P2PBUF_EXP_NUM_BARS, big.info.nr_bars);
	EXPECT_EQ(0U, big.tail);
}

TEST_F(exporter, unknown_ioctl)
{
	struct p2pbuf_exp_info info = { .argsz = sizeof(info) };
	const unsigned long cmds[] = {
		_IO(P2PBUF_IOCTL_TYPE, P2PBUF_EXP_BASE + 5),
		_IO(P2PBUF_IOCTL_TYPE, P2PBUF_EXP_BASE + 0x1f),
		P2PBUF_IMP_INFO,
		_IOWR(P2PBUF_IOCTL_TYPE, P2PBUF_EXP_BASE, struct p2pbuf_exp_info),
		_IO('X', 0),
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		errno = 0;
		EXPECT_EQ(-1, ioctl(self->fd, cmds[i], &info))
			TH_LOG("cmd %#lx succeeded", cmds[i]);
		EXPECT_EQ(ENOTTY, errno) TH_LOG("cmd %#lx", cmds[i]);
	}
}

/* One range; the fd's flags; the dma-buf core sees our buffer. */
TEST_F(exporter, export_one)
{
	int before = p2pbuf_count_dmabufs(EXP_NAME), buf, fl;
	char path[64], line[256];
	int saw_name = 0;
	FILE *f;

	buf = export_pages(_metadata, self->fd, self->bar, 16 * PAGE, 4);
	ASSERT_LE(0, buf);
	EXPECT_EQ(FD_CLOEXEC, fcntl(buf, F_GETFD) & FD_CLOEXEC);
	fl = fcntl(buf, F_GETFL);
	EXPECT_EQ(O_RDWR, fl & O_ACCMODE);

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", buf);
	f = fopen(path, "re");
	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f))
		if (!strcmp(line, "exp_name:\t" EXP_NAME "\n"))
			saw_name = 1;
	fclose(f);
	EXPECT_TRUE(saw_name);

	if (before >= 0)
		EXPECT_EQ(before + 1, p2pbuf_count_dmabufs(EXP_NAME));
	close(buf);
	if (before >= 0)
		EXPECT_EQ(before, p2pbuf_count_dmabufs(EXP_NAME));
}

TEST_F(exporter, export_rdonly_no_cloexec)
{
	struct p2pbuf_exp_range r = { 0, PAGE };
	int buf;

	buf = exp_export(self->fd, self->bar, &r, 1, O_RDONLY, NULL);
	ASSERT_LE(0, buf);
	EXPECT_EQ(0, fcntl(buf, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(O_RDONLY, fcntl(buf, F_GETFL) & O_ACCMODE);
	close(buf);
}

/* Several ranges, overlapping, up to the last page of the BAR. */
TEST_F(exporter, export_ranges)
{
	struct p2pbuf_exp_range r[] = {
		{ 0, 2 * PAGE },
		{ PAGE, 3 * PAGE },
		{ self->bar_size - PAGE, PAGE },
	};
	struct p2pbuf_exp_query q;
	__u64 size = 0;
	int buf;

	buf = exp_export(self->fd, self->bar, r, 3, O_RDWR, &size);
	ASSERT_LE(0, buf) TH_LOG("EXPORT: %s", strerror(errno));
	EXPECT_EQ(6 * PAGE, size);
	ASSERT_EQ(0, exp_query(self->fd, buf, NULL, 0, &q));
	EXPECT_EQ(3U, q.nr_ranges);
	EXPECT_EQ(6 * PAGE, q.size);
	EXPECT_EQ(self->bar, q.bar);
	close(buf);
}

TEST_F(exporter, export_max_ranges)
{
	struct p2pbuf_exp_range r[P2PBUF_EXP_MAX_RANGES];
	__u64 size = 0;
	int i, buf;

	for (i = 0; i < P2PBUF_EXP_MAX_RANGES; i++) {
		r[i].offset = (i % 64) * PAGE;
		r[i].length = PAGE;
	}
	buf = exp_export(self->fd, self->bar, r, P2PBUF_EXP_MAX_RANGES, O_RDWR,
			 &size);
	ASSERT_LE(0, buf) TH_LOG("EXPORT: %s", strerror(errno));
	EXPECT_EQ(P2PBUF_EXP_MAX_RANGES * PAGE, size);
	close(buf);
}

enum export_case {
	EC_ARGSZ_ZERO, EC_ARGSZ_SHORT, EC_ARGSZ_LONG_TAIL, EC_ARG_NULL,
	EC_FLAGS, EC_FLAGS_HIGH, EC_RESERVED, EC_OPEN_NONBLOCK, EC_OPEN_ACC3,
	EC_BAR_6, EC_BAR_MAX, EC_BAR_NOT_PROVIDER, EC_BAR_TOO_SMALL,
	EC_NR_ZERO, EC_NR_MAX_PLUS_1, EC_NR_U32_MAX, EC_RANGES_NULL,
	EC_LEN_ZERO, EC_OFFSET_UNALIGNED, EC_LEN_UNALIGNED, EC_END_OVERFLOW,
	EC_PAST_BAR, EC_AT_BAR_END, EC_SECOND_PAST_BAR, EC_TOTAL_BIT63,
	EC_TOTAL_OVERFLOW, EC_NR,
};

static const struct {
	const char *name;
	int err;
} export_cases[EC_NR] = {
	[EC_ARGSZ_ZERO]		= { "argsz 0", EINVAL },
	[EC_ARGSZ_SHORT]	= { "argsz short", EINVAL },
	[EC_ARGSZ_LONG_TAIL]	= { "argsz long, non-zero tail", E2BIG },
	[EC_ARG_NULL]		= { "argument NULL", EFAULT },
	[EC_FLAGS]		= { "flags 1", EINVAL },
	[EC_FLAGS_HIGH]		= { "flags bit 31", EINVAL },
	[EC_RESERVED]		= { "reserved", EINVAL },
	[EC_OPEN_NONBLOCK]	= { "open_flags O_NONBLOCK", EINVAL },
	[EC_OPEN_ACC3]		= { "open_flags access mode 3", EINVAL },
	[EC_BAR_6]		= { "bar 6", EINVAL },
	[EC_BAR_MAX]		= { "bar UINT32_MAX", EINVAL },
	[EC_BAR_NOT_PROVIDER]	= { "bar not a provider", EOPNOTSUPP },
	[EC_BAR_TOO_SMALL]	= { "page past a small BAR", EINVAL },
	[EC_NR_ZERO]		= { "nr_ranges 0", EINVAL },
	[EC_NR_MAX_PLUS_1]	= { "nr_ranges MAX + 1", E2BIG },
	[EC_NR_U32_MAX]		= { "nr_ranges UINT32_MAX", E2BIG },
	[EC_RANGES_NULL]	= { "ranges NULL", EFAULT },
	[EC_LEN_ZERO]		= { "length 0", EINVAL },
	[EC_OFFSET_UNALIGNED]	= { "offset unaligned", EINVAL },
	[EC_LEN_UNALIGNED]	= { "length unaligned", EINVAL },
	[EC_END_OVERFLOW]	= { "offset + length overflows", EOVERFLOW },
	[EC_PAST_BAR]		= { "range past the BAR", EINVAL },
	[EC_AT_BAR_END]		= { "offset = BAR size", EINVAL },
	[EC_SECOND_PAST_BAR]	= { "second range past the BAR", EINVAL },
	[EC_TOTAL_BIT63]	= { "total with bit 63", EINVAL },
	[EC_TOTAL_OVERFLOW]	= { "total overflows", EINVAL },
};

struct export_arg {
	struct p2pbuf_exp_export e;
	__u64 tail;
};

/* Make the valid export @a invalid as case @c says; false: not applicable. */
static bool export_case_apply(EXPORTER_SELF *self, int c,
			      struct export_arg *a, struct p2pbuf_exp_range *r)
{
	switch (c) {
	case EC_ARGSZ_ZERO:
		a->e.argsz = 0;
		break;
	case EC_ARGSZ_SHORT:
		a->e.argsz = sizeof(a->e) - 8;
		break;
	case EC_ARGSZ_LONG_TAIL:
		a->e.argsz = sizeof(*a);
		a->tail = 1;
		break;
	case EC_ARG_NULL:
		break;
	case EC_FLAGS:
		a->e.flags = 1;
		break;
	case EC_FLAGS_HIGH:
		a->e.flags = 1U << 31;
		break;
	case EC_RESERVED:
		a->e.reserved = 1;
		break;
	case EC_OPEN_NONBLOCK:
		a->e.open_flags |= O_NONBLOCK;
		break;
	case EC_OPEN_ACC3:
		a->e.open_flags = O_ACCMODE;
		break;
	case EC_BAR_6:
		a->e.bar = 6;
		break;
	case EC_BAR_MAX:
		a->e.bar = UINT32_MAX;
		break;
	case EC_BAR_NOT_PROVIDER:
		if (self->other_bar < 0)
			return false;
		a->e.bar = self->other_bar;
		break;
	case EC_BAR_TOO_SMALL:
		if (self->small_bar < 0)
			return false;
		a->e.bar = self->small_bar;
		break;
	case EC_NR_ZERO:
		a->e.nr_ranges = 0;
		break;
	case EC_NR_MAX_PLUS_1:
		a->e.nr_ranges = P2PBUF_EXP_MAX_RANGES + 1;
		break;
	case EC_NR_U32_MAX:
		a->e.nr_ranges = UINT32_MAX;
		break;
	case EC_RANGES_NULL:
		a->e.ranges = 0;
		break;
	case EC_LEN_ZERO:
		r[0].length = 0;
		break;
	case EC_OFFSET_UNALIGNED:
		r[0].offset = 1;
		break;
	case EC_LEN_UNALIGNED:
		r[0].length = PAGE - 1;
		break;
	case EC_END_OVERFLOW:
		r[0].offset = -PAGE;
		r[0].length = 2 * PAGE;
		break;
	case EC_PAST_BAR:
		r[0].offset = self->bar_size - PAGE;
		r[0].length = 2 * PAGE;
		break;
	case EC_AT_BAR_END:
		r[0].offset = self->bar_size;
		break;
	case EC_SECOND_PAST_BAR:
		a->e.nr_ranges = 2;
		r[1].offset = self->bar_size;
		r[1].length = PAGE;
		break;
	case EC_TOTAL_BIT63:
		a->e.nr_ranges = 2;
		r[0].length = 1ULL << 62;
		r[1].length = 1ULL << 62;
		break;
	case EC_TOTAL_OVERFLOW:
		a->e.nr_ranges = 2;
		r[0].length = 1ULL << 63;
		r[1].length = 1ULL << 63;
		break;
	}
	return true;
}

/* Every rejection has its errno and creates neither fd nor dma-buf. */
TEST_F(exporter, export_bad_args)
{
	int c, ran = 0;

	for (c = 0; c < EC_NR; c++) {
		struct p2pbuf_exp_range r[2] = { { 0, PAGE }, { PAGE, PAGE } };
		struct export_arg a = {
			.e = {
				.argsz = sizeof(a.e),
				.bar = self->bar,
				.open_flags = O_RDWR | O_CLOEXEC,
				.nr_ranges = 1,
				.fd = NO_FD,
				.ranges = (uintptr_t)r,
			},
		};
		int fds = p2pbuf_count_fds();
		int bufs = p2pbuf_count_dmabufs(EXP_NAME);
		int ret;

		if (!export_case_apply(self, c, &a, r)) {
			TH_LOG("case \"%s\" does not apply to this device",
			       export_cases[c].name);
			continue;
		}
		ran++;
		errno = 0;
		ret = ioctl(self->fd, P2PBUF_EXP_EXPORT,
			    c == EC_ARG_NULL ? NULL : &a);
		EXPECT_EQ(-1, ret) TH_LOG("case \"%s\" succeeded",
					  export_cases[c].name);
		EXPECT_EQ(export_cases[c].err, errno)
			TH_LOG("case \"%s\": %s", export_cases[c].name,
			       strerror(errno));
		EXPECT_EQ(NO_FD, a.e.fd) TH_LOG("case \"%s\" wrote fd",
						export_cases[c].name);
		EXPECT_EQ(fds, p2pbuf_count_fds())
			TH_LOG("case \"%s\" left an fd", export_cases[c].name);
		EXPECT_EQ(bufs, p2pbuf_count_dmabufs(EXP_NAME))
			TH_LOG("case \"%s\" left a dma-buf", export_cases[c].name);
		if (!ret && a.e.fd >= 0)
			close(a.e.fd);
	}
	/* Only the cases that depend on the device's other BARs may be missing. */
	EXPECT_LE(EC_NR - 2, ran);
}

/* Out of fds: EMFILE, and no dma-buf was created on the way. */
TEST_F(exporter, export_emfile)
{
	struct p2pbuf_exp_range r = { 0, PAGE };
	int bufs = p2pbuf_count_dmabufs(EXP_NAME);
	struct rlimit rl;
	int top, ret, err;

	/* Lowest free fd = the limit: nothing can be allocated. */
	top = dup(0);
	ASSERT_LE(0, top);
	close(top);
	rl.rlim_cur = top;
	rl.rlim_max = top + 16;
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &rl));
	errno = 0;
	ret = exp_export(self->fd, self->bar, &r, 1, O_RDWR, NULL);
	err = errno;
	/* Counting needs an fd too. */
	rl.rlim_cur = rl.rlim_max;
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &rl));
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EMFILE, err);
	if (bufs >= 0)
		EXPECT_EQ(bufs, p2pbuf_count_dmabufs(EXP_NAME));
}

TEST_F(exporter, query)
{
	struct p2pbuf_exp_attach_state st[2];
	struct p2pbuf_exp_query q;
	int buf;

	buf = export_pages(_metadata, self->fd, self->bar, 0, 8);
	ASSERT_LE(0, buf);
	memset(st, 0xa5, sizeof(st));
	ASSERT_EQ(0, exp_query(self->fd, buf, st, 2, &q));
	EXPECT_EQ((__u32)P2PBUF_EXP_BUF_LIVE, q.state);
	EXPECT_EQ(8 * PAGE, q.size);
	EXPECT_EQ(self->bar, q.bar);
	EXPECT_EQ(1U, q.nr_ranges);
	EXPECT_EQ(0U, q.revokes);
	EXPECT_EQ(0U, q.nr_attachments);
	/* Nothing to report: the array is not written. */
	EXPECT_EQ(0xa5, ((unsigned char *)st)[0]);
	close(buf);
}

/* A dma-buf of another exporter (udmabuf), or -1. */
static int foreign_dmabuf(void)
{
	struct udmabuf_create create = {
		.flags = UDMABUF_FLAGS_CLOEXEC,
		.size = PAGE,
	};
	int dev, memfd, buf = -1;

	dev = open("/dev/udmabuf", O_RDWR | O_CLOEXEC);
	if (dev < 0)
		return -1;
	memfd = memfd_create("p2pbuf", MFD_ALLOW_SEALING | MFD_CLOEXEC);
	if (memfd >= 0 && !ftruncate(memfd, PAGE) &&
	    !fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK)) {
		create.memfd = memfd;
		buf = ioctl(dev, UDMABUF_CREATE, &create);
	}
	if (memfd >= 0)
		close(memfd);
	close(dev);
	return buf;
}

/*
 * REVOKE, RESTORE and QUERY share these rejections. Their arguments share
 * the layout of argsz, flags and fd.
 */
static void bad_buffer_args(struct __test_metadata *_metadata,
			    EXPORTER_SELF *self, unsigned long cmd, int buf)
{
	union {
		struct p2pbuf_exp_query q;
		struct p2pbuf_exp_revoke r;
		__u8 raw[256];
	} a;
	bool query = cmd == P2PBUF_EXP_QUERY;
	size_t ksize = query ? sizeof(a.q) : sizeof(a.r);
	int other, foreign, fd;

	memset(&a, 0, sizeof(a));
	a.q.fd = buf;
	a.q.argsz = ksize - 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, cmd, &a));
	a.q.argsz = ksize + 8;
	a.raw[ksize + 7] = 1;
	EXPECT_ERRNO(E2BIG, ioctl(self->fd, cmd, &a));
	a.raw[ksize + 7] = 0;
	a.q.argsz = ksize;
	EXPECT_ERRNO(EFAULT, ioctl(self->fd, cmd, NULL));

	a.q.flags = query ? 1 : 2;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, cmd, &a));
	a.q.flags = 1U << 31;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, cmd, &a));
	a.q.flags = 0;
	if (query)
		a.q.reserved = 1;
	else
		a.r.reserved = 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, cmd, &a));
	a.q.reserved = 0;
	a.r.reserved = 0;

	a.q.fd = -1;
	EXPECT_ERRNO(EBADF, ioctl(self->fd, cmd, &a));
	fd = dup(0);
	ASSERT_LE(0, fd);
	close(fd);
	a.q.fd = fd;		/* just closed */
	EXPECT_ERRNO(EBADF, ioctl(self->fd, cmd, &a));
	a.q.fd = self->fd;	/* not a dma-buf */
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, cmd, &a));

	foreign = foreign_dmabuf();
	EXPECT_LE(0, foreign) TH_LOG("udmabuf: %s", strerror(errno));
	if (foreign >= 0) {
		a.q.fd = foreign;
		EXPECT_ERRNO(EINVAL, ioctl(self->fd, cmd, &a));
		close(foreign);
	}

	/* Our buffer, through another exporter file of the same device. */
	other = open(self->node, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, other);
	a.q.fd = buf;
	EXPECT_ERRNO(EINVAL, ioctl(other, cmd, &a));
	close(other);
}

TEST_F(exporter, query_bad_args)
{
	struct p2pbuf_exp_query q;
	int buf;

	buf = export_pages(_metadata, self->fd, self->bar, 0, 1);
	ASSERT_LE(0, buf);
	bad_buffer_args(_metadata, self, P2PBUF_EXP_QUERY, buf);
	ASSERT_EQ(0, exp_query(self->fd, buf, NULL, 0, &q));
	EXPECT_EQ((__u32)P2PBUF_EXP_BUF_LIVE, q.state);
	close(buf);
}

TEST_F(exporter, revoke_bad_args)
{
	struct p2pbuf_exp_query q;
	int buf;

	buf = export_pages(_metadata, self->fd, self->bar, 0, 1);
	ASSERT_LE(0, buf);
	bad_buffer_args(_metadata, self, P2PBUF_EXP_REVOKE, buf);
	bad_buffer_args(_metadata, self, P2PBUF_EXP_RESTORE, buf);
	/* REVOKE_ALL names no buffer. */
	EXPECT_ERRNO(EINVAL, exp_revoke(self->fd, P2PBUF_EXP_REVOKE,
					P2PBUF_EXP_REVOKE_ALL, buf));
	EXPECT_ERRNO(EINVAL, exp_revoke(self->fd, P2PBUF_EXP_RESTORE,
					P2PBUF_EXP_REVOKE_ALL, 0));
	/* None of that changed the buffer. */
	ASSERT_EQ(0, exp_query(self->fd, buf, NULL, 0, &q));
	EXPECT_EQ((__u32)P2PBUF_EXP_BUF_LIVE, q.state);
	EXPECT_EQ(0U, q.revokes);
	close(buf);
}

/* Without importers: the state machine and the counts. */
TEST_F(exporter, revoke_restore)
{
	struct p2pbuf_exp_query q;
	int a, b;

	a = export_pages(_metadata, self->fd, self->bar, 0, 1);
	b = export_pages(_metadata, self->fd, self->bar, PAGE, 1);
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);

	EXPECT_EQ(1, exp_revoke(self->fd, P2PBUF_EXP_REVOKE, 0, a));
	EXPECT_EQ(0, exp_revoke(self->fd, P2PBUF_EXP_REVOKE, 0, a));
	ASSERT_EQ(0, exp_query(self->fd, a, NULL, 0, &q));
	EXPECT_EQ((__u32)P2PBUF_EXP_BUF_REVOKED, q.state);
	EXPECT_EQ(1U, q.revokes);
	ASSERT_EQ(0, exp_query(self->fd, b, NULL, 0, &q));
	EXPECT_EQ((__u32)P2PBUF_EXP_BUF_LIVE, q.state);

	EXPECT_EQ(1, exp_revoke(self->fd, P2PBUF_EXP_RESTORE, 0, a));
	EXPECT_EQ(0, exp_revoke(self->fd, P2PBUF_EXP_RESTORE, 0, a));
	ASSERT_EQ(0, exp_query(self->fd, a, NULL, 0, &q));
	EXPECT_EQ((__u32)P2PBUF_EXP_BUF_LIVE, q.state);
	EXPECT_EQ(1U, q.revokes);

	EXPECT_EQ(2, exp_revoke(self->fd, P2PBUF_EXP_REVOKE,
				P2PBUF_EXP_REVOKE_ALL, -1));
	EXPECT_EQ(0, exp_revoke(self->fd, P2PBUF_EXP_REVOKE,
				P2PBUF_EXP_REVOKE_ALL, -1));
	EXPECT_EQ(2, exp_revoke(self->fd, P2PBUF_EXP_RESTORE,
				P2PBUF_EXP_REVOKE_ALL, -1));
	ASSERT_EQ(0, exp_query(self->fd, b, NULL, 0, &q));
	EXPECT_EQ((__u32)P2PBUF_EXP_BUF_LIVE, q.state);
	EXPECT_EQ(1U, q.revokes);
	ASSERT_EQ(0, exp_query(self->fd, a, NULL, 0, &q));
	EXPECT_EQ(2U, q.revokes);
	close(a);
	close(b);
}

/* REVOKE_ALL reaches only the buffers of its own file. */
TEST_F(exporter, revoke_all_per_file)
{
	struct p2pbuf_exp_query q;
	int other, a, b;

	other = open(self->node, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, other);
	a = export_pages(_metadata, self->fd, self->bar, 0, 1);
	b = export_pages(_metadata, other, self->bar, 0, 1);
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	EXPECT_EQ(1, exp_revoke(other, P2PBUF_EXP_REVOKE,
				P2PBUF_EXP_REVOKE_ALL, -1));
	ASSERT_EQ(0, exp_query(self->fd, a, NULL, 0, &q));
	EXPECT_EQ((__u32)P2PBUF_EXP_BUF_LIVE, q.state);
	ASSERT_EQ(0, exp_query(other, b, NULL, 0, &q));
	EXPECT_EQ((__u32)P2PBUF_EXP_BUF_REVOKED, q.state);
	close(a);
	close(b);
	close(other);
}

/* The debugfs view (not an ABI) shows a revoked three-range buffer. */
TEST_F(exporter, debugfs_state)
{
	struct p2pbuf_exp_range r[] = {
		{ 0, PAGE }, { 2 * PAGE, PAGE }, { 4 * PAGE, PAGE },
	};
	bool saw_dev = false, saw_buf = false;
	char path[256], line[512];
	FILE *f;
	int buf;

	snprintf(path, sizeof(path),
		 "/sys/kernel/debug/p2pbuf_exporter/%s/state", self->bdf);
	if (p2pbuf_debugfs_mount() || access(path, R_OK))
		SKIP(return, "%s not readable", path);
	buf = exp_export(self->fd, self->bar, r, 3, O_RDWR, NULL);
	ASSERT_LE(0, buf);
	ASSERT_EQ(1, exp_revoke(self->fd, P2PBUF_EXP_REVOKE, 0, buf));

	f = fopen(path, "re");
	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f)) {
		if (strstr(line, "device ") && strstr(line, ": bound"))
			saw_dev = true;
		if (strstr(line, "owned bar") && strstr(line, "ranges 3 revoked revokes 1"))
			saw_buf = true;
	}
	fclose(f);
	EXPECT_TRUE(saw_dev);
	EXPECT_TRUE(saw_buf);
	close(buf);
}

/* Import and map; both sides agree on the map type of the topology. */
TEST_F(exporter, map_type)
{
	struct p2pbuf_exp_attach_state st[2];
	struct p2pbuf_imp_map m;
	struct p2pbuf_exp_query q;
	int buf, h;

	if (!have_importer(_metadata, self))
		return;
	ASSERT_NE((__u32)P2PBUF_MAP_UNKNOWN, self->expect)
		TH_LOG("P2PBUF_EXPECT_MAP unset or unknown");
	buf = export_pages(_metadata, self->fd, self->bar, 0, 16);
	ASSERT_LE(0, buf);

	h = imp_import(self->imp, buf, 0);
	if (self->expect == P2PBUF_MAP_NOT_SUPPORTED) {
		/* The exporter refuses the route at attach time. */
		EXPECT_EQ(-1, h);
		EXPECT_EQ(EXDEV, errno) TH_LOG("IMPORT: %s", strerror(errno));
		ASSERT_EQ(0, exp_query(self->fd, buf, st, 2, &q));
		EXPECT_EQ(0U, q.nr_attachments);
		close(buf);
		return;
	}
	ASSERT_LE(0, h) TH_LOG("IMPORT: %s", strerror(errno));

	ASSERT_EQ(0, exp_query(self->fd, buf, st, 2, &q));
	ASSERT_EQ(1U, q.nr_attachments);
	EXPECT_STREQ(self->initiator, st[0].importer);
	EXPECT_EQ((__u32)P2PBUF_MAP_UNKNOWN, st[0].map_type);
	EXPECT_EQ(0U, st[0].nr_mappings);

	ASSERT_EQ(0, imp_map(self->imp, h, &m)) TH_LOG("MAP: %s",
						       strerror(errno));
	EXPECT_EQ(16 * PAGE, m.length);
	EXPECT_EQ(self->expect, m.map_type) TH_LOG("importer says %u", m.map_type);

	ASSERT_EQ(0, exp_query(self->fd, buf, st, 2, &q));
	ASSERT_EQ(1U, q.nr_attachments);
	EXPECT_EQ(self->expect, st[0].map_type)
		TH_LOG("exporter says %u, lab expects %s", st[0].map_type,
		       p2pbuf_env("P2PBUF_EXPECT_MAP"));
	EXPECT_EQ(1U, st[0].nr_mappings);

	/* An array the kernel cannot write: EFAULT. */
	EXPECT_ERRNO(EFAULT, exp_query(self->fd, buf, (void *)8, 1, &q));

	ASSERT_EQ(0, imp_handle_op(self->imp, P2PBUF_IMP_UNMAP, h));
	ASSERT_EQ(0, exp_query(self->fd, buf, st, 1, &q));
	EXPECT_EQ(0U, st[0].nr_mappings);
	EXPECT_EQ(self->expect, st[0].map_type);

	ASSERT_EQ(0, imp_handle_op(self->imp, P2PBUF_IMP_RELEASE, h));
	ASSERT_EQ(0, exp_query(self->fd, buf, st, 1, &q));
	EXPECT_EQ(0U, q.nr_attachments);
	close(buf);
}

/*
 * A buffer of several ranges maps in every topology that routes, one DMA
 * segment per range (7.2.13's dma_buf_phys_vec_to_sgt() alone would fail
 * with EADDRINUSE behind an IOMMU: see exporter/sgt.c).
 */
TEST_F(exporter, map_ranges)
{
	struct p2pbuf_exp_range r[] = {
		{ 0, 2 * PAGE }, { 8 * PAGE, PAGE }, { 4 * PAGE, 3 * PAGE },
	};
	struct p2pbuf_imp_seg segs[4];
	struct p2pbuf_exp_attach_state st;
	struct p2pbuf_exp_query q;
	struct p2pbuf_imp_map m;
	__u64 size = 0;
	int buf, h;

	if (!have_route(_metadata, self))
		return;
	buf = exp_export(self->fd, self->bar, r, 3, O_RDWR, &size);
	ASSERT_LE(0, buf);
	h = imp_import(self->imp, buf, 0);
	ASSERT_LE(0, h) TH_LOG("IMPORT: %s", strerror(errno));
	memset(&m, 0, sizeof(m));
	m.argsz = sizeof(m);
	m.handle = h;
	m.max_segs = 4;
	m.segs = (uintptr_t)segs;
	ASSERT_EQ(0, ioctl(self->imp, P2PBUF_IMP_MAP, &m))
		TH_LOG("MAP: %s", strerror(errno));
	EXPECT_EQ(size, m.length);
	EXPECT_EQ(3U, m.nr_segs);
	EXPECT_EQ(2 * PAGE, segs[0].len);
	EXPECT_EQ(PAGE, segs[1].len);
	EXPECT_EQ(3 * PAGE, segs[2].len);
	EXPECT_EQ(self->expect, m.map_type);
	ASSERT_EQ(0, exp_query(self->fd, buf, &st, 1, &q));
	EXPECT_EQ(self->expect, st.map_type);
	EXPECT_EQ(1U, st.nr_mappings);
	EXPECT_EQ(0, imp_handle_op(self->imp, P2PBUF_IMP_RELEASE, h));
	close(buf);
}

/* Importer state after the exporter revoked a mapped buffer. */
static void expect_revoked_import(struct __test_metadata *_metadata, int imp,
				  int h)
{
	struct p2pbuf_imp_status s;
	struct p2pbuf_imp_map m;

	ASSERT_EQ(0, imp_status(imp, h, &s));
	EXPECT_EQ(P2PBUF_IMP_STATE_INVALIDATED,
		  s.state & (P2PBUF_IMP_STATE_INVALIDATED |
			     P2PBUF_IMP_STATE_MAPPED));
	EXPECT_LE(1U, s.invalidations);
	EXPECT_ERRNO(ENODEV, imp_map(imp, h, &m));
}

TEST_F(exporter, revoke_mapped)
{
	struct p2pbuf_exp_attach_state st[2];
	struct p2pbuf_imp_map m;
	struct p2pbuf_exp_query q;
	int buf, pinned, h, h2, hp;

	if (!have_route(_metadata, self))
		return;
	buf = export_pages(_metadata, self->fd, self->bar, 0, 4);
	ASSERT_LE(0, buf);
	h = imp_import(self->imp, buf, 0);
	ASSERT_LE(0, h) TH_LOG("IMPORT: %s", strerror(errno));
	ASSERT_EQ(0, imp_map(self->imp, h, &m));

	/* Returns only once the importer has unmapped. */
	EXPECT_EQ(1, exp_revoke(self->fd, P2PBUF_EXP_REVOKE, 0, buf));
	ASSERT_EQ(0, exp_query(self->fd, buf, st, 2, &q));
	EXPECT_EQ((__u32)P2PBUF_EXP_BUF_REVOKED, q.state);
	EXPECT_EQ(1U, q.nr_attachments);
	EXPECT_EQ(0U, st[0].nr_mappings);
	expect_revoked_import(_metadata, self->imp, h);
	EXPECT_ERRNO(ENODEV, imp_import(self->imp, buf, 0));

	EXPECT_EQ(1, exp_revoke(self->fd, P2PBUF_EXP_RESTORE, 0, buf));
	ASSERT_EQ(0, imp_map(self->imp, h, &m)) TH_LOG("MAP: %s",
						       strerror(errno));
	EXPECT_EQ(self->expect, m.map_type);
	h2 = imp_import(self->imp, buf, 0);
	EXPECT_LE(0, h2) TH_LOG("IMPORT after RESTORE: %s", strerror(errno));
	ASSERT_EQ(0, exp_query(self->fd, buf, st, 2, &q));
	EXPECT_EQ(2U, q.nr_attachments);
	EXPECT_EQ(1U, st[0].nr_mappings + st[1].nr_mappings);
	EXPECT_EQ(1U, q.revokes);

	/* A pinned import is revocable too; REVOKE_ALL takes both buffers. */
	pinned = export_pages(_metadata, self->fd, self->bar, PAGE, 1);
	ASSERT_LE(0, pinned);
	hp = imp_import(self->imp, pinned, P2PBUF_IMP_IMPORT_PINNED);
	ASSERT_LE(0, hp) TH_LOG("IMPORT pinned: %s", strerror(errno));
	ASSERT_EQ(0, imp_map(self->imp, hp, &m));
	EXPECT_EQ(2, exp_revoke(self->fd, P2PBUF_EXP_REVOKE,
				P2PBUF_EXP_REVOKE_ALL, -1));
	expect_revoked_import(_metadata, self->imp, h);
	expect_revoked_import(_metadata, self->imp, hp);
	close(pinned);
	close(buf);
}

/* Closing the exporter file revokes its buffers for good. */
TEST_F(exporter, close_revokes)
{
	struct p2pbuf_imp_map m;
	struct p2pbuf_exp_query q;
	int bufs, buf, h = -1;
	char path[64];

	if (!have_importer(_metadata, self))
		return;
	buf = export_pages(_metadata, self->fd, self->bar, 0, 2);
	ASSERT_LE(0, buf);
	if (self->expect != P2PBUF_MAP_NOT_SUPPORTED) {
		h = imp_import(self->imp, buf, 0);
		ASSERT_LE(0, h) TH_LOG("IMPORT: %s", strerror(errno));
		ASSERT_EQ(0, imp_map(self->imp, h, &m));
	}
	bufs = p2pbuf_count_dmabufs(EXP_NAME);

	close(self->fd);
	self->fd = -1;

	if (h >= 0)
		expect_revoked_import(_metadata, self->imp, h);
	/* Revoked is checked before the route: ENODEV in every topology. */
	EXPECT_ERRNO(ENODEV, imp_import(self->imp, buf, 0));

	/* The dma-buf itself lives on. */
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", buf);
	EXPECT_EQ(0, access(path, R_OK));
	if (bufs >= 0)
		EXPECT_EQ(bufs, p2pbuf_count_dmabufs(EXP_NAME));

	/* No other file can bring it back. */
	self->fd = open(self->node, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd);
	EXPECT_ERRNO(EINVAL, exp_query(self->fd, buf, NULL, 0, &q));
	EXPECT_ERRNO(EINVAL, exp_revoke(self->fd, P2PBUF_EXP_RESTORE, 0, buf));
	EXPECT_EQ(0, exp_revoke(self->fd, P2PBUF_EXP_RESTORE,
				P2PBUF_EXP_REVOKE_ALL, -1));
	if (h >= 0)
		EXPECT_ERRNO(ENODEV, imp_map(self->imp, h, &m));
	close(buf);
}

/*
 * Unbind the provider while a dma-buf (mapped, where the topology allows)
 * and the exporter file are open: remove() revokes and drains, the old file
 * answers ENODEV, and a rebind starts afresh.
 */
TEST_F(exporter, unbind_revokes)
{
	struct p2pbuf_exp_range r = { 0, PAGE };
	struct p2pbuf_exp_info info;
	struct p2pbuf_imp_map m;
	struct p2pbuf_exp_query q;
	int buf, buf2, h = -1, fd;
	struct stat st;

	buf = export_pages(_metadata, self->fd, self->bar, 0, 2);
	ASSERT_LE(0, buf);
	if (self->imp >= 0 && self->expect != P2PBUF_MAP_NOT_SUPPORTED) {
		h = imp_import(self->imp, buf, 0);
		ASSERT_LE(0, h) TH_LOG("IMPORT: %s", strerror(errno));
		ASSERT_EQ(0, imp_map(self->imp, h, &m));
	} else {
		TH_LOG("unbind without a mapping: %s",
		       self->imp < 0 ? self->imp_missing : "no route");
	}

	self->unbound = 1;
	ASSERT_EQ(0, p2pbuf_pci_bind(self->bdf, ""));
	EXPECT_ERRNO(ENOENT, stat(self->node, &st));

	if (h >= 0)
		expect_revoked_import(_metadata, self->imp, h);
	if (self->imp >= 0)
		EXPECT_ERRNO(ENODEV, imp_import(self->imp, buf, 0));

	EXPECT_ERRNO(ENODEV, exp_info(self->fd, &info));
	EXPECT_ERRNO(ENODEV, exp_export(self->fd, self->bar, &r, 1, O_RDWR,
					NULL));
	EXPECT_ERRNO(ENODEV, exp_query(self->fd, buf, NULL, 0, &q));
	EXPECT_ERRNO(ENODEV, exp_revoke(self->fd, P2PBUF_EXP_REVOKE, 0, buf));
	EXPECT_ERRNO(ENODEV, exp_revoke(self->fd, P2PBUF_EXP_RESTORE, 0, buf));
	EXPECT_ERRNO(ENOTTY, ioctl(self->fd, _IO(P2PBUF_IOCTL_TYPE, 0x1f), &q));

	/* Rebind: a new node, a fresh state, and the old file stays dead. */
	ASSERT_EQ(0, p2pbuf_pci_bind(self->bdf, EXP_NAME));
	self->unbound = 0;
	fd = open(self->node, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd) TH_LOG("%s after rebind: %s", self->node,
				strerror(errno));
	buf2 = exp_export(fd, self->bar, &r, 1, O_RDWR, NULL);
	EXPECT_LE(0, buf2);
	EXPECT_ERRNO(EINVAL, exp_query(fd, buf, NULL, 0, &q));
	EXPECT_ERRNO(ENODEV, exp_info(self->fd, &info));
	if (h >= 0)
		EXPECT_ERRNO(ENODEV, imp_map(self->imp, h, &m));
	close(buf2);
	close(fd);
	close(buf);
}

/*
 * Thousands of map/unmap cycles, then kmemleak: nothing allocated on the
 * map path may be left behind (dma_buf_free_sgt() would leak the
 * scatterlist without the exporter's orig_nents fix-up). At least
 * MIN_CYCLES, then more while under CYCLE_SECONDS: under TCG a cycle takes
 * 3 ms behind a switch but 15-25 ms through the host bridge.
 */
#define MIN_CYCLES	1024
#define MAX_CYCLES	4096
#define CYCLE_SECONDS	10

TEST_F_TIMEOUT(exporter, map_cycles_kmemleak, 240)
{
	static const char * const funcs[] = {
		"dma_buf_phys_vec_to_sgt", "sg_alloc_table", "p2pbuf_exp", NULL,
	};
	struct p2pbuf_exp_range r[] = {
		{ 0, 2 * PAGE }, { 8 * PAGE, PAGE }, { 4 * PAGE, 3 * PAGE },
	};
	struct p2pbuf_exp_attach_state st;
	struct timespec t0, t1;
	struct p2pbuf_imp_map m;
	struct p2pbuf_exp_query q;
	int buf, h, i, leaks, total = 0;

	if (!have_route(_metadata, self))
		return;
	if (p2pbuf_debugfs_mount() ||
	    access("/sys/kernel/debug/kmemleak", W_OK))
		SKIP(return, "kmemleak not available");

	buf = exp_export(self->fd, self->bar, r, 3, O_RDWR, NULL);
	ASSERT_LE(0, buf);
	h = imp_import(self->imp, buf, 0);
	ASSERT_LE(0, h) TH_LOG("IMPORT: %s", strerror(errno));

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < MAX_CYCLES; i++) {
		ASSERT_EQ(0, imp_map(self->imp, h, &m))
			TH_LOG("cycle %d MAP: %s", i, strerror(errno));
		ASSERT_EQ(0, imp_handle_op(self->imp, P2PBUF_IMP_UNMAP, h))
			TH_LOG("cycle %d UNMAP: %s", i, strerror(errno));
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (i + 1 >= MIN_CYCLES && t1.tv_sec - t0.tv_sec >= CYCLE_SECONDS)
			break;
	}
	TH_LOG("%d map/unmap cycles in %.1f s", i < MAX_CYCLES ? i + 1 : i,
	       (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	EXPECT_EQ(self->expect, m.map_type);
	EXPECT_EQ(3U, m.nr_segs);
	EXPECT_EQ(6 * PAGE, m.length);
	ASSERT_EQ(0, exp_query(self->fd, buf, &st, 1, &q));
	EXPECT_EQ(0U, st.nr_mappings);
	ASSERT_EQ(0, imp_handle_op(self->imp, P2PBUF_IMP_RELEASE, h));
	close(buf);

	/*
	 * kmemleak reports an object only when it is older than 5 s and
	 * unchanged since the previous scan: scan, let 6 s pass since the last
	 * cycle, scan again.
	 */
	ASSERT_EQ(0, p2pbuf_kmemleak_scan());
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (t0.tv_sec - t1.tv_sec < 6)
		sleep(6 - (t0.tv_sec - t1.tv_sec));
	ASSERT_EQ(0, p2pbuf_kmemleak_scan());
	clock_gettime(CLOCK_MONOTONIC, &t0);
	leaks = p2pbuf_kmemleak_count(funcs, &total);
	ASSERT_LE(0, leaks);
	TH_LOG("kmemleak: %d suspected leaks from the map path, %d in all",
	       leaks, total);
	TH_LOG("scans done %ld s after the last cycle",
	       (long)(t0.tv_sec - t1.tv_sec));
	EXPECT_EQ(0, leaks);
}

TEST_HARNESS_MAIN
