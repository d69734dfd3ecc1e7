/* SPDX-License-Identifier: GPL-2.0 */
/*
 * importer_test, "imp" fixture: INFO, and the ioctl ABI's rejections as a
 * table of bad inputs.
 */
#ifndef P2PBUF_IMPORTER_ABI_TESTS_H
#define P2PBUF_IMPORTER_ABI_TESTS_H

#include "importer_fixture.h"

/* The edu device has the edu engine; other devices have none. */
TEST_F(imp, info_reports_engine)
{
	long long vendor = imp_pci_attr(self->bdf, "vendor");
	long long device = imp_pci_attr(self->bdf, "device");

	ASSERT_NE(-1, vendor);
	if (vendor == 0x1234 && device == 0x11e8) {
		EXPECT_STREQ("edu", self->info.engine);
		EXPECT_EQ(4095U, self->info.dma_max);
	} else {
		EXPECT_STREQ("", self->info.engine);
		EXPECT_EQ(0U, self->info.dma_max);
	}
	EXPECT_EQ(sizeof(self->info), self->info.argsz);
}

/* The bad-input table. */

union imp_arg {
	struct p2pbuf_imp_info info;
	struct p2pbuf_imp_import import;
	struct p2pbuf_imp_handle handle;
	struct p2pbuf_imp_map map;
	struct p2pbuf_imp_status status;
	struct p2pbuf_imp_dma dma;
	unsigned char raw[256];
};

struct bad_ctx {
	int dmabuf;		/* a valid dma-buf */
	int memfd;		/* not a dma-buf */
	int closed_fd;		/* a descriptor number that is not open */
	__u32 handle;		/* a valid, unmapped import */
	unsigned char data[16];
};

#define UNKNOWN_HANDLE	0x7fffffffu

enum bad_what {
	OK,		/* a valid argument, bent only by argsz */
	FD_NEG,		/* IMPORT fd -1 */
	FD_CLOSED,	/* IMPORT fd not open */
	FD_MEMFD,	/* IMPORT fd not a dma-buf */
	HANDLE_0,	/* handle 0, never allocated */
	HANDLE_UNKNOWN,
	FLAGS_BIT,	/* an undefined flag bit */
	FLAGS_ZERO,	/* DMA: no direction */
	FLAGS_BOTH,	/* DMA: both directions */
	RESERVED,	/* a reserved field non-zero */
};

struct bad_case {
	const char *name;
	unsigned long cmd;
	size_t size;
	enum bad_what what;
	int argsz_delta;	/* argsz = size + delta */
	int tail;		/* non-zero byte after the structure */
	int err;		/* expected errno */
	int err_no_engine;	/* expected errno without a DMA engine, if other */
};

static void bad_fill(union imp_arg *a, const struct bad_case *bc,
		     const struct bad_ctx *c)
{
	__u32 handle = c->handle;

	memset(a, 0, sizeof(*a));
	if (bc->what == HANDLE_0)
		handle = 0;
	else if (bc->what == HANDLE_UNKNOWN)
		handle = UNKNOWN_HANDLE;

	switch (bc->cmd) {
	case P2PBUF_IMP_INFO:
		if (bc->what == FLAGS_BIT)
			a->info.flags = 1;
		if (bc->what == RESERVED)
			a->info.reserved = 1;
		break;
	case P2PBUF_IMP_IMPORT:
		a->import.fd = bc->what == FD_NEG ? -1 :
			       bc->what == FD_CLOSED ? c->closed_fd :
			       bc->what == FD_MEMFD ? c->memfd : c->dmabuf;
		if (bc->what == FLAGS_BIT)
			a->import.flags = 1u << 31;
		if (bc->what == RESERVED)
			a->import.reserved = 1;
		break;
	case P2PBUF_IMP_RELEASE:
	case P2PBUF_IMP_UNMAP:
		a->handle.handle = handle;
		if (bc->what == FLAGS_BIT)
			a->handle.flags = 1;
		if (bc->what == RESERVED)
			a->handle.reserved = 1;
		break;
	case P2PBUF_IMP_MAP:
		a->map.handle = handle;
		if (bc->what == FLAGS_BIT)
			a->map.flags = 1;
		if (bc->what == RESERVED)
			a->map.reserved = 1;
		break;
	case P2PBUF_IMP_STATUS:
		a->status.handle = handle;
		if (bc->what == FLAGS_BIT)
			a->status.flags = 1;
		if (bc->what == RESERVED)
			a->status.reserved = 1;
		break;
	case P2PBUF_IMP_DMA:
		a->dma.handle = handle;
		a->dma.flags = P2PBUF_IMP_DMA_FROM_BUF;
		if (bc->what == FLAGS_BIT)
			a->dma.flags |= 1u << 7;
		if (bc->what == FLAGS_ZERO)
			a->dma.flags = 0;
		if (bc->what == FLAGS_BOTH)
			a->dma.flags = P2PBUF_IMP_DMA_TO_BUF |
				       P2PBUF_IMP_DMA_FROM_BUF;
		if (bc->what == RESERVED)
			a->dma.reserved = 1;
		a->dma.length = sizeof(c->data);
		a->dma.data = (uintptr_t)c->data;
		break;
	}
	/* argsz is the first field of every argument. */
	a->info.argsz = bc->size + bc->argsz_delta;
	if (bc->tail)
		a->raw[bc->size + 3] = 0x5a;
}

#define ROW(n, c, s, w, d, t, e, e2)				\
	{ n ": " #w, c, sizeof(struct s), w, d, t, e, e2 }
#define R(c, s, w, e, e2)	ROW(#c, c, s, w, 0, 0, e, e2)

/* Rejections particular to one ioctl. */
static const struct bad_case bad_cases[] = {
	R(P2PBUF_IMP_IMPORT, p2pbuf_imp_import, FD_NEG, EBADF, 0),
	R(P2PBUF_IMP_IMPORT, p2pbuf_imp_import, FD_CLOSED, EBADF, 0),
	R(P2PBUF_IMP_IMPORT, p2pbuf_imp_import, FD_MEMFD, EINVAL, 0),
	R(P2PBUF_IMP_RELEASE, p2pbuf_imp_handle, HANDLE_0, ENOENT, 0),
	R(P2PBUF_IMP_RELEASE, p2pbuf_imp_handle, HANDLE_UNKNOWN, ENOENT, 0),
	R(P2PBUF_IMP_UNMAP, p2pbuf_imp_handle, HANDLE_UNKNOWN, ENOENT, 0),
	R(P2PBUF_IMP_UNMAP, p2pbuf_imp_handle, OK, ENXIO, 0),
	R(P2PBUF_IMP_MAP, p2pbuf_imp_map, HANDLE_0, ENOENT, 0),
	R(P2PBUF_IMP_MAP, p2pbuf_imp_map, HANDLE_UNKNOWN, ENOENT, 0),
	R(P2PBUF_IMP_STATUS, p2pbuf_imp_status, HANDLE_UNKNOWN, ENOENT, 0),
	R(P2PBUF_IMP_DMA, p2pbuf_imp_dma, FLAGS_ZERO, EINVAL, 0),
	R(P2PBUF_IMP_DMA, p2pbuf_imp_dma, FLAGS_BOTH, EINVAL, 0),
	R(P2PBUF_IMP_DMA, p2pbuf_imp_dma, HANDLE_UNKNOWN, ENOENT, EOPNOTSUPP),
	R(P2PBUF_IMP_DMA, p2pbuf_imp_dma, OK, ENXIO, EOPNOTSUPP),
	/*
	 * Unknown ioctls: the two benchmark numbers removed from the uAPI
	 * (now debugfs and tracepoints), past the importer's last, the
	 * exporter's, another type.
	 */
	{ "ENOTTY: importer base + 7 (was MAP_CYCLES)", _IO(P2PBUF_IOCTL_TYPE, P2PBUF_IMP_BASE + 7),
	  sizeof(struct p2pbuf_imp_info), OK, 0, 0, ENOTTY, 0 },
	{ "ENOTTY: importer base + 8 (was TIMING)", _IO(P2PBUF_IOCTL_TYPE, P2PBUF_IMP_BASE + 8),
	  sizeof(struct p2pbuf_imp_info), OK, 0, 0, ENOTTY, 0 },
	{ "ENOTTY: importer base + 9", _IO(P2PBUF_IOCTL_TYPE, P2PBUF_IMP_BASE + 9),
	  sizeof(struct p2pbuf_imp_info), OK, 0, 0, ENOTTY, 0 },
	{ "ENOTTY: importer base + 0x1f", _IO(P2PBUF_IOCTL_TYPE, P2PBUF_IMP_BASE + 0x1f),
	  sizeof(struct p2pbuf_imp_info), OK, 0, 0, ENOTTY, 0 },
	{ "ENOTTY: exporter INFO number", _IO(P2PBUF_IOCTL_TYPE, P2PBUF_EXP_BASE),
	  sizeof(struct p2pbuf_imp_info), OK, 0, 0, ENOTTY, 0 },
	{ "ENOTTY: INFO encoded with a size", _IOWR(P2PBUF_IOCTL_TYPE, P2PBUF_IMP_BASE, __u64),
	  sizeof(struct p2pbuf_imp_info), OK, 0, 0, ENOTTY, 0 },
};

/* Every ioctl, for the rejections common to all of them. */
static const struct bad_case abi_cmds[] = {
	ROW("INFO", P2PBUF_IMP_INFO, p2pbuf_imp_info, OK, 0, 0, 0, 0),
	ROW("IMPORT", P2PBUF_IMP_IMPORT, p2pbuf_imp_import, OK, 0, 0, 0, 0),
	ROW("RELEASE", P2PBUF_IMP_RELEASE, p2pbuf_imp_handle, OK, 0, 0, 0, 0),
	ROW("MAP", P2PBUF_IMP_MAP, p2pbuf_imp_map, OK, 0, 0, 0, 0),
	ROW("UNMAP", P2PBUF_IMP_UNMAP, p2pbuf_imp_handle, OK, 0, 0, 0, 0),
	ROW("STATUS", P2PBUF_IMP_STATUS, p2pbuf_imp_status, OK, 0, 0, 0, 0),
	ROW("DMA", P2PBUF_IMP_DMA, p2pbuf_imp_dma, OK, 0, 0, 0, 0),
};

#define ARGSZ_ZERO	INT_MIN

/* The rejections common to every ioctl: argsz, tail, flags, reserved. */
static const struct bad_case abi_variants[] = {
	{ "argsz one short", 0, 0, OK, -1, 0, EINVAL, 0 },
	{ "argsz 0", 0, 0, OK, ARGSZ_ZERO, 0, EINVAL, 0 },
	{ "argsz longer, non-zero tail", 0, 0, OK, 8, 1, E2BIG, 0 },
	{ "unknown flag", 0, 0, FLAGS_BIT, 0, 0, EINVAL, 0 },
	{ "reserved non-zero", 0, 0, RESERVED, 0, 0, EINVAL, 0 },
};

static void bad_run(struct __test_metadata *_metadata, int fd,
		    const struct bad_case *bc, const struct bad_ctx *c,
		    int has_engine)
{
	int want = !has_engine && bc->err_no_engine ? bc->err_no_engine :
		   bc->err;
	union imp_arg a;
	int ret;

	bad_fill(&a, bc, c);
	errno = 0;
	ret = ioctl(fd, bc->cmd, &a);
	if (ret != -1 || errno != want)
		TH_LOG("%s: ret %d errno %d (%s), want %d (%s)", bc->name, ret,
		       errno, strerror(errno), want, strerror(want));
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(want, errno);
}

TEST_F(imp, bad_input_table)
{
	struct p2pbuf_imp_status st;
	struct bad_ctx c = { 0 };
	struct bad_case bc;
	char name[128];
	unsigned int i, j;
	__u32 h;
	int ret;

	c.dmabuf = imp_udmabuf(BUF_SIZE, &c.memfd);
	if (c.dmabuf < 0)
		p2pbuf_feature_missing(return, "no udmabuf to import (%s)", strerror(-c.dmabuf));
	c.closed_fd = dup(c.memfd);
	ASSERT_LE(0, c.closed_fd);
	close(c.closed_fd);
	ASSERT_EQ(0, imp_import(self->fd, c.dmabuf, 0, &c.handle, NULL));

	for (i = 0; i < ARRAY_SIZE(abi_cmds); i++) {
		for (j = 0; j < ARRAY_SIZE(abi_variants); j++) {
			bc = abi_variants[j];
			snprintf(name, sizeof(name), "%s: %s", abi_cmds[i].name,
				 bc.name);
			bc.name = name;
			bc.cmd = abi_cmds[i].cmd;
			bc.size = abi_cmds[i].size;
			if (bc.argsz_delta == ARGSZ_ZERO)
				bc.argsz_delta = -(int)bc.size;
			bad_run(_metadata, self->fd, &bc, &c, self->has_engine);
		}
		/* A NULL argument is -EFAULT. */
		errno = 0;
		EXPECT_EQ(-1, ioctl(self->fd, abi_cmds[i].cmd, NULL));
		EXPECT_EQ(EFAULT, errno);
	}
	for (i = 0; i < ARRAY_SIZE(bad_cases); i++)
		bad_run(_metadata, self->fd, &bad_cases[i], &c, self->has_engine);

	/* Nothing was created and the valid import did not change. */
	ASSERT_EQ(0, imp_status(self->fd, c.handle, &st));
	EXPECT_EQ(0U, st.state);
	EXPECT_EQ(0U, st.invalidations);
	for (h = 1; h <= 16; h++)
		if (h != c.handle)
			EXPECT_EQ(-ENOENT, imp_status(self->fd, h, &st));
	ret = imp_attach_count(c.dmabuf, self->bdf);
	if (ret != -ENOENT)
		EXPECT_EQ(1, ret);
	EXPECT_EQ(0, imp_handle_op(self->fd, P2PBUF_IMP_RELEASE, c.handle));
	EXPECT_EQ(-ENOENT, imp_status(self->fd, c.handle, &st));
	close(c.dmabuf);
	close(c.memfd);
}

/* A longer argument with a zeroed tail is the same call. */
TEST_F(imp, abi_long_zero_tail)
{
	union imp_arg a;
	int dmabuf, memfd;

	memset(&a, 0, sizeof(a));
	a.info.argsz = sizeof(a.info) + 64;
	ASSERT_EQ(0, ioctl(self->fd, P2PBUF_IMP_INFO, &a));
	EXPECT_STREQ(self->info.engine, a.info.engine);

	dmabuf = imp_udmabuf(BUF_SIZE, &memfd);
	if (dmabuf < 0)
		p2pbuf_feature_missing(return, "no udmabuf to import (%s)", strerror(-dmabuf));
	memset(&a, 0, sizeof(a));
	a.import.argsz = sizeof(a.import) + 64;
	a.import.fd = dmabuf;
	ASSERT_EQ(0, ioctl(self->fd, P2PBUF_IMP_IMPORT, &a));
	EXPECT_NE(0U, a.import.handle);
	EXPECT_EQ(BUF_SIZE, a.import.size);
	EXPECT_EQ(0, imp_handle_op(self->fd, P2PBUF_IMP_RELEASE, a.import.handle));
	close(dmabuf);
	close(memfd);
}

/*
 * argsz above a page is -E2BIG for every ioctl, even with a zeroed tail
 * (the kernel does not scan it); exactly a page with a zeroed tail is the
 * same call as the exact size.
 */
TEST_F(imp, abi_argsz_above_page_e2big)
{
	long page = sysconf(_SC_PAGESIZE);
	struct p2pbuf_imp_info *info;
	unsigned char *big;
	unsigned int i;

	ASSERT_LT(0, page);
	big = calloc(1, 2 * page);
	ASSERT_NE(NULL, big);
	for (i = 0; i < ARRAY_SIZE(abi_cmds); i++) {
		memset(big, 0, 2 * page);
		*(__u32 *)big = page + 1;
		errno = 0;
		EXPECT_EQ(-1, ioctl(self->fd, abi_cmds[i].cmd, big))
			TH_LOG("%s: argsz %ld accepted", abi_cmds[i].name,
			       page + 1);
		EXPECT_EQ(E2BIG, errno) TH_LOG("%s", abi_cmds[i].name);
	}
	memset(big, 0, 2 * page);
	info = (struct p2pbuf_imp_info *)big;
	info->argsz = page;
	ASSERT_EQ(0, ioctl(self->fd, P2PBUF_IMP_INFO, big));
	EXPECT_STREQ(self->info.engine, info->engine);
	free(big);
}

/*
 * At most 4096 imports per open file (docs/importer.rst): the next IMPORT is
 * -ENOSPC and creates nothing - no attachment, no handle (handles are
 * allocated cyclically from 1, so a refused import would show as a gap),
 * no reference on the buffer. Another file has its own 4096; a release makes
 * room for one more. Closing the file leaves nothing behind.
 */
#define IMP_MAX_IMPORTS	4096U

TEST_F_TIMEOUT(imp, import_cap_enospc, 300)
{
	struct p2pbuf_imp_status st;
	int dmabuf, memfd, fd2, fds, bufs, ret;
	char bdf[64];
	__u32 h, i;

	dmabuf = imp_udmabuf(4096, &memfd);
	ASSERT_LE(0, dmabuf) TH_LOG("udmabuf: %s", strerror(-dmabuf));
	ASSERT_EQ(0, p2pbuf_debugfs_mount());
	ASSERT_EQ(0, imp_attach_count(dmabuf, self->bdf));
	bufs = p2pbuf_count_dmabufs("udmabuf");
	fds = p2pbuf_count_fds();
	fd2 = imp_open(bdf, sizeof(bdf));
	ASSERT_LE(0, fd2);

	for (i = 1; i <= IMP_MAX_IMPORTS; i++) {
		ASSERT_EQ(0, imp_import(fd2, dmabuf, i % 2 ? 0 : P2PBUF_IMP_IMPORT_PINNED,
					&h, NULL)) TH_LOG("import %u", i);
		ASSERT_EQ(i, h);
	}
	EXPECT_EQ((int)IMP_MAX_IMPORTS, imp_attach_count(dmabuf, self->bdf));
	EXPECT_EQ(-ENOSPC, imp_import(fd2, dmabuf, 0, &h, NULL));
	EXPECT_EQ(-ENOSPC, imp_import(fd2, dmabuf, P2PBUF_IMP_IMPORT_PINNED, &h,
				      NULL));
	EXPECT_EQ((int)IMP_MAX_IMPORTS, imp_attach_count(dmabuf, self->bdf));
	EXPECT_EQ(-ENOENT, imp_status(fd2, IMP_MAX_IMPORTS + 1, &st));
	EXPECT_EQ(fds + 1, p2pbuf_count_fds());

	/* The limit is per file. */
	ASSERT_EQ(0, imp_import(self->fd, dmabuf, 0, &h, NULL));
	EXPECT_EQ(0, imp_handle_op(self->fd, P2PBUF_IMP_RELEASE, h));

	/* A release makes room; the refused imports took no handle. */
	ASSERT_EQ(0, imp_handle_op(fd2, P2PBUF_IMP_RELEASE, 100));
	ASSERT_EQ(0, imp_import(fd2, dmabuf, 0, &h, NULL));
	EXPECT_EQ(IMP_MAX_IMPORTS + 1, h);
	EXPECT_EQ(-ENOSPC, imp_import(fd2, dmabuf, 0, &h, NULL));
	ASSERT_EQ(0, imp_status(fd2, IMP_MAX_IMPORTS, &st));
	EXPECT_EQ(P2PBUF_IMP_STATE_PINNED, st.state);

	/* Closing the file detaches all of them; the buffer then goes away. */
	close(fd2);
	EXPECT_EQ(0, imp_attach_count(dmabuf, self->bdf));
	EXPECT_EQ(fds, p2pbuf_count_fds());
	close(dmabuf);
	close(memfd);
	ret = p2pbuf_count_dmabufs("udmabuf");
	EXPECT_EQ(bufs - 1, ret);
}

#endif /* P2PBUF_IMPORTER_ABI_TESTS_H */
