// SPDX-License-Identifier: GPL-2.0
/*
 * exporter_test: EXPORT, valid and invalid.
 *
 * Not a translation unit of its own: exporter_test.c includes this file
 * after the exporter fixture, in the order the tests register and run.
 */

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
	case EC_FLAGS:		/* the first bit EXPORT does not know */
		a->e.flags = P2PBUF_EXP_EXPORT_DEVICE_READONLY << 1;
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
