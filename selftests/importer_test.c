// SPDX-License-Identifier: GPL-2.0
/*
 * importer_test: p2pbuf_importer on its own and with dma-bufs from other
 * exporters: the ioctl ABI's rejections, udmabuf and system dma-heap imports
 * (page backed: NOT_P2P), pinned imports, data moved by the device's DMA
 * engine, events, unbinding with open files, and vfio-pci's dma-buf exporter
 * revoking an import when the vfio device is closed.
 *
 * Needs a device bound to p2pbuf_importer (P2PBUF_INITIATOR_BDF in the lab);
 * skips otherwise. The vfio-pci tests need P2PBUF_VFIO_BDF, an unbound
 * device with a memory BAR 2, and give it back unbound.
 */
#define _GNU_SOURCE
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/capability.h>

#include "importer_lib.h"

#define BUF_SIZE	(16 * 4096U)
#define MAX_SEGS	64U

static int cap_data(struct __user_cap_data_struct data[2])
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};

	return syscall(SYS_capget, &hdr, data) ? -errno : 0;
}

static int has_cap_sys_admin(void)
{
	struct __user_cap_data_struct data[2];

	return !cap_data(data) &&
	       (data[CAP_SYS_ADMIN / 32].effective & (1u << (CAP_SYS_ADMIN % 32)));
}

/* ---------------------------------------------------------------------- */

FIXTURE(imp) {
	int fd;
	char bdf[64];
	struct p2pbuf_imp_info info;
	int has_engine;
};

FIXTURE_SETUP(imp)
{
	self->fd = imp_open(self->bdf, sizeof(self->bdf));
	if (self->fd < 0)
		SKIP(return, "no p2pbuf_importer device (%s)", strerror(-self->fd));
	ASSERT_EQ(0, imp_info(self->fd, &self->info));
	self->has_engine = self->info.engine[0] != '\0';
}

FIXTURE_TEARDOWN(imp)
{
	if (self->fd >= 0)
		close(self->fd);
}

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

/* ---------------------------------------------------------------------- */
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
	{ n ": " #w " argsz" #d " tail" #t, c, sizeof(struct s), w, d, t, e, e2 }
#define R(c, s, w, d, t, e, e2)	ROW(#c, c, s, w, d, t, e, e2)
#define ABI_ROWS(c, s)						\
	ROW(#c, c, s, OK, -1, 0, EINVAL, 0),			\
	ROW(#c, c, s, OK, -(int)sizeof(struct s), 0, EINVAL, 0),	\
	ROW(#c, c, s, OK, 8, 1, E2BIG, 0),			\
	ROW(#c, c, s, FLAGS_BIT, 0, 0, EINVAL, 0),		\
	ROW(#c, c, s, RESERVED, 0, 0, EINVAL, 0)

static const struct bad_case bad_cases[] = {
	ABI_ROWS(P2PBUF_IMP_INFO, p2pbuf_imp_info),
	ABI_ROWS(P2PBUF_IMP_IMPORT, p2pbuf_imp_import),
	R(P2PBUF_IMP_IMPORT, p2pbuf_imp_import, FD_NEG, 0, 0, EBADF, 0),
	R(P2PBUF_IMP_IMPORT, p2pbuf_imp_import, FD_CLOSED, 0, 0, EBADF, 0),
	R(P2PBUF_IMP_IMPORT, p2pbuf_imp_import, FD_MEMFD, 0, 0, EINVAL, 0),
	ABI_ROWS(P2PBUF_IMP_RELEASE, p2pbuf_imp_handle),
	R(P2PBUF_IMP_RELEASE, p2pbuf_imp_handle, HANDLE_0, 0, 0, ENOENT, 0),
	R(P2PBUF_IMP_RELEASE, p2pbuf_imp_handle, HANDLE_UNKNOWN, 0, 0, ENOENT, 0),
	ABI_ROWS(P2PBUF_IMP_UNMAP, p2pbuf_imp_handle),
	R(P2PBUF_IMP_UNMAP, p2pbuf_imp_handle, HANDLE_UNKNOWN, 0, 0, ENOENT, 0),
	R(P2PBUF_IMP_UNMAP, p2pbuf_imp_handle, OK, 0, 0, ENXIO, 0),
	ABI_ROWS(P2PBUF_IMP_MAP, p2pbuf_imp_map),
	R(P2PBUF_IMP_MAP, p2pbuf_imp_map, HANDLE_0, 0, 0, ENOENT, 0),
	R(P2PBUF_IMP_MAP, p2pbuf_imp_map, HANDLE_UNKNOWN, 0, 0, ENOENT, 0),
	ABI_ROWS(P2PBUF_IMP_STATUS, p2pbuf_imp_status),
	R(P2PBUF_IMP_STATUS, p2pbuf_imp_status, HANDLE_UNKNOWN, 0, 0, ENOENT, 0),
	ABI_ROWS(P2PBUF_IMP_DMA, p2pbuf_imp_dma),
	R(P2PBUF_IMP_DMA, p2pbuf_imp_dma, FLAGS_ZERO, 0, 0, EINVAL, 0),
	R(P2PBUF_IMP_DMA, p2pbuf_imp_dma, FLAGS_BOTH, 0, 0, EINVAL, 0),
	R(P2PBUF_IMP_DMA, p2pbuf_imp_dma, HANDLE_UNKNOWN, 0, 0, ENOENT, EOPNOTSUPP),
	R(P2PBUF_IMP_DMA, p2pbuf_imp_dma, OK, 0, 0, ENXIO, EOPNOTSUPP),
	/* Unknown ioctls: past the importer's last, the exporter's, another type. */
	{ "ENOTTY: importer base + 7", _IO(P2PBUF_IOCTL_TYPE, P2PBUF_IMP_BASE + 7),
	  sizeof(struct p2pbuf_imp_info), OK, 0, 0, ENOTTY, 0 },
	{ "ENOTTY: importer base + 0x1f", _IO(P2PBUF_IOCTL_TYPE, P2PBUF_IMP_BASE + 0x1f),
	  sizeof(struct p2pbuf_imp_info), OK, 0, 0, ENOTTY, 0 },
	{ "ENOTTY: exporter INFO number", _IO(P2PBUF_IOCTL_TYPE, P2PBUF_EXP_BASE),
	  sizeof(struct p2pbuf_imp_info), OK, 0, 0, ENOTTY, 0 },
	{ "ENOTTY: INFO encoded with a size", _IOWR(P2PBUF_IOCTL_TYPE, P2PBUF_IMP_BASE, __u64),
	  sizeof(struct p2pbuf_imp_info), OK, 0, 0, ENOTTY, 0 },
};

TEST_F(imp, bad_input_table)
{
	static const unsigned long cmds[] = {
		P2PBUF_IMP_INFO, P2PBUF_IMP_IMPORT, P2PBUF_IMP_RELEASE,
		P2PBUF_IMP_MAP, P2PBUF_IMP_UNMAP, P2PBUF_IMP_STATUS,
		P2PBUF_IMP_DMA,
	};
	struct p2pbuf_imp_status st;
	struct bad_ctx c = { 0 };
	union imp_arg a;
	unsigned int i;
	__u32 h;
	int ret;

	c.dmabuf = imp_udmabuf(BUF_SIZE, &c.memfd);
	if (c.dmabuf < 0)
		SKIP(return, "no udmabuf to import (%s)", strerror(-c.dmabuf));
	c.closed_fd = dup(c.memfd);
	ASSERT_LE(0, c.closed_fd);
	close(c.closed_fd);
	ASSERT_EQ(0, imp_import(self->fd, c.dmabuf, 0, &c.handle, NULL));

	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *bc = &bad_cases[i];
		int want = !self->has_engine && bc->err_no_engine ?
			   bc->err_no_engine : bc->err;

		bad_fill(&a, bc, &c);
		errno = 0;
		ret = ioctl(self->fd, bc->cmd, &a);
		if (ret != -1 || errno != want)
			TH_LOG("%s: ret %d errno %d (%s), want %d (%s)", bc->name,
			       ret, errno, strerror(errno), want, strerror(want));
		EXPECT_EQ(-1, ret);
		EXPECT_EQ(want, errno);
	}

	/* A NULL argument is -EFAULT for every ioctl. */
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		errno = 0;
		EXPECT_EQ(-1, ioctl(self->fd, cmds[i], NULL));
		EXPECT_EQ(EFAULT, errno);
	}

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
		SKIP(return, "no udmabuf to import (%s)", strerror(-dmabuf));
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

/* ---------------------------------------------------------------------- */

/* Import, map (NOT_P2P), check segments and state, unmap, release. */
static void import_map_page_backed(struct __test_metadata *_metadata,
				   FIXTURE_DATA(imp) *self, int dmabuf,
				   __u32 flags)
{
	struct p2pbuf_imp_seg segs[MAX_SEGS];
	struct p2pbuf_imp_status st;
	struct p2pbuf_imp_map m;
	__u64 size, sum = 0;
	__u32 h, i;
	int ret;

	ASSERT_EQ(0, imp_import(self->fd, dmabuf, flags, &h, &size));
	EXPECT_NE(0U, h);
	EXPECT_EQ(BUF_SIZE, size);
	ASSERT_EQ(0, imp_status(self->fd, h, &st));
	EXPECT_EQ(flags ? P2PBUF_IMP_STATE_PINNED : 0, st.state);
	EXPECT_MAP_TYPE(P2PBUF_MAP_UNKNOWN, st.map_type);

	memset(segs, 0, sizeof(segs));
	ASSERT_EQ(0, imp_map(self->fd, h, &m, segs, MAX_SEGS));
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

	ASSERT_EQ(0, imp_status(self->fd, h, &st));
	EXPECT_EQ(P2PBUF_IMP_STATE_MAPPED | (flags ? P2PBUF_IMP_STATE_PINNED : 0),
		  st.state);
	EXPECT_EQ(m.nr_segs, st.nr_segs);
	EXPECT_EQ(m.length, st.length);
	EXPECT_MAP_TYPE(P2PBUF_MAP_NOT_P2P, st.map_type);
	ret = imp_attach_count(dmabuf, self->bdf);
	if (ret != -ENOENT)
		EXPECT_EQ(1, ret);

	EXPECT_EQ(-EBUSY, imp_map(self->fd, h, &m, NULL, 0));
	EXPECT_EQ(0, imp_handle_op(self->fd, P2PBUF_IMP_UNMAP, h));
	EXPECT_EQ(-ENXIO, imp_handle_op(self->fd, P2PBUF_IMP_UNMAP, h));
	ASSERT_EQ(0, imp_status(self->fd, h, &st));
	EXPECT_EQ(flags ? P2PBUF_IMP_STATE_PINNED : 0, st.state);
	EXPECT_EQ(0U, st.nr_segs);
	EXPECT_EQ(0U, st.length);
	EXPECT_MAP_TYPE(P2PBUF_MAP_NOT_P2P, st.map_type);

	/* Map again, and let RELEASE unmap it. */
	ASSERT_EQ(0, imp_map(self->fd, h, &m, NULL, 0));
	EXPECT_EQ(0, imp_handle_op(self->fd, P2PBUF_IMP_RELEASE, h));
	EXPECT_EQ(-ENOENT, imp_status(self->fd, h, &st));
	ret = imp_attach_count(dmabuf, self->bdf);
	if (ret != -ENOENT)
		EXPECT_EQ(0, ret);
}

TEST_F(imp, udmabuf_import_map)
{
	int dmabuf, memfd;

	dmabuf = imp_udmabuf(BUF_SIZE, &memfd);
	if (dmabuf < 0)
		SKIP(return, "no udmabuf (%s)", strerror(-dmabuf));
	import_map_page_backed(_metadata, self, dmabuf, 0);
	close(dmabuf);
	close(memfd);
}

TEST_F(imp, dma_heap_import_map)
{
	int dmabuf = imp_heap_buf(BUF_SIZE);

	if (dmabuf < 0)
		SKIP(return, "no system dma-heap (%s)", strerror(-dmabuf));
	import_map_page_backed(_metadata, self, dmabuf, 0);
	close(dmabuf);
}

TEST_F(imp, pinned_import_map)
{
	int dmabuf, memfd;

	dmabuf = imp_udmabuf(BUF_SIZE, &memfd);
	if (dmabuf < 0)
		SKIP(return, "no udmabuf (%s)", strerror(-dmabuf));
	import_map_page_backed(_metadata, self, dmabuf,
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
		SKIP(return, "no udmabuf (%s)", strerror(-dmabuf));
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

static int drop_cap_sys_admin(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2];

	if (cap_data(data))
		return -errno;
	data[CAP_SYS_ADMIN / 32].effective &= ~(1u << (CAP_SYS_ADMIN % 32));
	return syscall(SYS_capset, &hdr, data) ? -errno : 0;
}

/* Without CAP_SYS_ADMIN the segments come back with address 0. */
TEST_F(imp, raw_addresses_need_cap_sys_admin)
{
	struct p2pbuf_imp_seg segs[MAX_SEGS];
	struct p2pbuf_imp_map m;
	int dmabuf, memfd, status;
	__u32 h, i;
	pid_t pid;

	dmabuf = imp_udmabuf(BUF_SIZE, &memfd);
	if (dmabuf < 0)
		SKIP(return, "no udmabuf (%s)", strerror(-dmabuf));
	ASSERT_EQ(0, imp_import(self->fd, dmabuf, 0, &h, NULL));

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		if (drop_cap_sys_admin())
			_exit(10);
		if (imp_map(self->fd, h, &m, segs, MAX_SEGS))
			_exit(11);
		for (i = 0; i < m.nr_segs && i < MAX_SEGS; i++)
			if (segs[i].addr || !segs[i].len)
				_exit(12);
		_exit(imp_handle_op(self->fd, P2PBUF_IMP_UNMAP, h) ? 13 : 0);
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
		SKIP(return, "no udmabuf (%s)", strerror(-dmabuf));
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

/* No events yet: non-blocking read, poll, and a buffer too small. */
TEST_F(imp, events_empty)
{
	struct pollfd pfd = { .fd = self->fd, .events = POLLIN };
	struct p2pbuf_imp_event ev;
	int flags;

	EXPECT_EQ(-1, read(self->fd, &ev, sizeof(ev) - 1));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, poll(&pfd, 1, 0));
	flags = fcntl(self->fd, F_GETFL);
	ASSERT_EQ(0, fcntl(self->fd, F_SETFL, flags | O_NONBLOCK));
	EXPECT_EQ(-1, read(self->fd, &ev, sizeof(ev)));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(-ETIMEDOUT, imp_read_event(self->fd, &ev, 100));
}

/* Closing the file unmaps and detaches every import. */
TEST_F(imp, close_detaches_everything)
{
	struct p2pbuf_imp_map m;
	int dmabuf, memfd, fd2, ret;
	char bdf[64];
	__u32 h1, h2;

	dmabuf = imp_udmabuf(BUF_SIZE, &memfd);
	if (dmabuf < 0)
		SKIP(return, "no udmabuf (%s)", strerror(-dmabuf));
	if (imp_attach_count(dmabuf, self->bdf) == -ENOENT)
		SKIP(return, "no /sys/kernel/debug/dma_buf/bufinfo to check");
	fd2 = imp_open(bdf, sizeof(bdf));
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, imp_import(fd2, dmabuf, 0, &h1, NULL));
	ASSERT_EQ(0, imp_import(fd2, dmabuf, P2PBUF_IMP_IMPORT_PINNED, &h2, NULL));
	EXPECT_NE(h1, h2);
	ASSERT_EQ(0, imp_map(fd2, h1, &m, NULL, 0));
	ASSERT_EQ(0, imp_map(fd2, h2, &m, NULL, 0));
	EXPECT_EQ(2, imp_attach_count(dmabuf, self->bdf));
	close(fd2);
	ret = imp_attach_count(dmabuf, self->bdf);
	EXPECT_EQ(0, ret);
	close(dmabuf);
	close(memfd);
}

/*
 * Unbinding with an open file and a mapped import: the import is gone when
 * the unbind returns, later ioctls are -ENODEV, a reader gets -ENODEV and
 * poll() EPOLLHUP. Rebinds the device afterwards.
 */
TEST_F_TIMEOUT(imp, unbind_with_open_file, 60)
{
	struct pollfd pfd = { .fd = self->fd, .events = POLLIN };
	struct p2pbuf_imp_status st;
	struct p2pbuf_imp_event ev;
	struct p2pbuf_imp_map m;
	int dmabuf, memfd, fd2;
	char drv[64], bdf[64];
	__u32 h;

	if (!p2pbuf_env("P2PBUF_INITIATOR_BDF"))
		SKIP(return, "rebinding is only done in the lab");
	dmabuf = imp_udmabuf(BUF_SIZE, &memfd);
	if (dmabuf < 0)
		SKIP(return, "no udmabuf (%s)", strerror(-dmabuf));
	ASSERT_EQ(0, imp_import(self->fd, dmabuf, P2PBUF_IMP_IMPORT_PINNED, &h,
				NULL));
	ASSERT_EQ(0, imp_map(self->fd, h, &m, NULL, 0));

	ASSERT_EQ(0, p2pbuf_pci_bind(self->bdf, ""));
	imp_pci_driver(self->bdf, drv, sizeof(drv));
	EXPECT_STREQ("", drv);
	if (imp_attach_count(dmabuf, self->bdf) != -ENOENT)
		EXPECT_EQ(0, imp_attach_count(dmabuf, self->bdf));
	EXPECT_EQ(-ENODEV, imp_status(self->fd, h, &st));
	EXPECT_EQ(-ENODEV, imp_map(self->fd, h, &m, NULL, 0));
	EXPECT_EQ(-ENODEV, imp_handle_op(self->fd, P2PBUF_IMP_RELEASE, h));
	EXPECT_EQ(-ENODEV, imp_info(self->fd, &self->info));
	EXPECT_EQ(-1, read(self->fd, &ev, sizeof(ev)));
	EXPECT_EQ(ENODEV, errno);
	EXPECT_EQ(1, poll(&pfd, 1, 0));
	EXPECT_TRUE(pfd.revents & POLLHUP);

	/* Back as it was: bound, with a new device node that works. */
	ASSERT_EQ(0, p2pbuf_pci_bind(self->bdf, "p2pbuf_importer"));
	imp_pci_driver(self->bdf, drv, sizeof(drv));
	ASSERT_STREQ("p2pbuf_importer", drv);
	fd2 = imp_open(bdf, sizeof(bdf));
	ASSERT_LE(0, fd2);
	EXPECT_EQ(0, imp_import(fd2, dmabuf, 0, &h, NULL));
	EXPECT_EQ(0, imp_map(fd2, h, &m, NULL, 0));
	close(fd2);
	/* The stale file still only says -ENODEV, and closes cleanly. */
	EXPECT_EQ(-ENODEV, imp_status(self->fd, h, &st));
	close(dmabuf);
	close(memfd);
}

/* ---------------------------------------------------------------------- */
/* vfio-pci as the exporter. */

/*
 * The map type the lab's topologies give for the vfio ivshmem (on the root
 * bus) and the initiator: never a common upstream bridge, so the host bridge
 * decides - allowed on the Zen CPU, not allowed with the switch topology's
 * "-cpu max" or on Intel. -1: unknown topology, not asserted.
 */
static int vfio_expected_map(void)
{
	const char *topo = p2pbuf_env("P2PBUF_TOPOLOGY");

	if (!topo)
		return -1;
	if (!strcmp(topo, "switch") || !strcmp(topo, "intel"))
		return P2PBUF_MAP_NOT_SUPPORTED;
	if (!strcmp(topo, "rp-zen"))
		return P2PBUF_MAP_HOST_BRIDGE_DIRECT;
	if (!strcmp(topo, "rp-zen-iommu"))
		return P2PBUF_MAP_HOST_BRIDGE_IOVA;
	return -1;
}

#define VFIO_REGION	2
#define VFIO_LEN	(64 * 1024U)

FIXTURE(vfio) {
	int imp;
	char bdf[64];
	struct p2pbuf_imp_info info;
	struct imp_vfio v;
	int expect;
};

FIXTURE_SETUP(vfio)
{
	const char *vbdf = p2pbuf_env("P2PBUF_VFIO_BDF");
	char why[128];
	int ret;

	self->v.device = self->v.group = self->v.container = -1;
	self->v.bdf[0] = '\0';
	self->imp = imp_open(self->bdf, sizeof(self->bdf));
	if (self->imp < 0)
		SKIP(return, "no p2pbuf_importer device (%s)", strerror(-self->imp));
	if (!vbdf) {
		close(self->imp);
		self->imp = -1;
		SKIP(return, "P2PBUF_VFIO_BDF not set");
	}
	ASSERT_EQ(0, imp_info(self->imp, &self->info));
	ret = imp_vfio_open(&self->v, vbdf, why, sizeof(why));
	if (ret) {
		close(self->imp);
		self->imp = -1;
		SKIP(return, "%s: %s", why, strerror(-ret));
	}
	self->expect = vfio_expected_map();
}

FIXTURE_TEARDOWN(vfio)
{
	imp_vfio_release(&self->v);
	if (self->imp >= 0)
		close(self->imp);
}

/* Wait for one event of each of two handles. */
static void expect_events(struct __test_metadata *_metadata, int fd,
			  __u32 h1, __u32 h2)
{
	struct p2pbuf_imp_event ev;
	int seen1 = 0, seen2 = 0;
	__u64 last_seq = 0;

	while (!seen1 || !seen2) {
		ASSERT_EQ(0, imp_read_event(fd, &ev, 5000));
		EXPECT_EQ((__u64)P2PBUF_IMP_EVENT_INVALIDATED, ev.type);
		EXPECT_LT(last_seq, ev.seq);
		EXPECT_LE(1U, ev.invalidations);
		last_seq = ev.seq;
		if (ev.handle == h1)
			seen1++;
		else if (ev.handle == h2)
			seen2++;
		else
			ASSERT_TRUE(0) TH_LOG("event for unknown handle %u", ev.handle);
	}
}

/*
 * Dynamic and pinned imports of a vfio-pci dma-buf; closing the vfio device
 * revokes them, which completes because the importer unmaps in the callback.
 */
TEST_F_TIMEOUT(vfio, revoke_on_device_close, 120)
{
	unsigned char in[256], out[256], *bar = MAP_FAILED;
	struct p2pbuf_imp_status st;
	struct p2pbuf_imp_map m1, m2;
	int dmabuf, ret1, ret2, mapped;
	long long t0, elapsed;
	__u32 h1, h2;
	__u64 size;

	dmabuf = imp_vfio_dmabuf(&self->v, VFIO_REGION, 0, VFIO_LEN);
	ASSERT_LE(0, dmabuf) TH_LOG("VFIO_DEVICE_FEATURE_DMA_BUF: %s",
				    strerror(-dmabuf));
	ASSERT_EQ(0, imp_import(self->imp, dmabuf, 0, &h1, &size));
	EXPECT_EQ(VFIO_LEN, size);
	ASSERT_EQ(0, imp_import(self->imp, dmabuf, P2PBUF_IMP_IMPORT_PINNED,
				&h2, NULL));
	if (imp_attach_count(dmabuf, self->bdf) != -ENOENT)
		EXPECT_EQ(2, imp_attach_count(dmabuf, self->bdf));

	ret1 = imp_map(self->imp, h1, &m1, NULL, 0);
	ret2 = imp_map(self->imp, h2, &m2, NULL, 0);
	EXPECT_EQ(ret1, ret2);
	mapped = !ret1;
	if (self->expect == P2PBUF_MAP_NOT_SUPPORTED) {
		/* dma_buf_phys_vec_to_sgt(): p2pdma cannot route: -EINVAL. */
		EXPECT_EQ(-EINVAL, ret1);
	} else if (self->expect >= 0) {
		ASSERT_EQ(0, ret1);
		EXPECT_MAP_TYPE(self->expect, m1.map_type);
		EXPECT_EQ(m1.map_type, m2.map_type);
		EXPECT_EQ(VFIO_LEN, m1.length);
	} else {
		TH_LOG("unknown topology: map %d, type %s, not asserted", ret1,
		       ret1 ? "-" : imp_map_type_name(m1.map_type));
	}

	if (mapped && self->info.engine[0]) {
		bar = imp_vfio_mmap(&self->v, VFIO_REGION, VFIO_LEN);
		ASSERT_NE(MAP_FAILED, bar);
		imp_pattern(in, sizeof(in), 3);
		ASSERT_EQ(0, imp_dma(self->imp, h1, P2PBUF_IMP_DMA_TO_BUF, 4096 + 8,
				     in, sizeof(in)));
		EXPECT_EQ(0, memcmp(bar + 4096 + 8, in, sizeof(in)));
		imp_pattern(bar + 8192, sizeof(out), 4);
		ASSERT_EQ(0, imp_dma(self->imp, h2, P2PBUF_IMP_DMA_FROM_BUF, 8192,
				     out, sizeof(out)));
		EXPECT_EQ(0, memcmp(bar + 8192, out, sizeof(out)));
		munmap(bar, VFIO_LEN);
	}

	imp_drain_events(self->imp);
	t0 = imp_now_ms();
	imp_vfio_close(&self->v);
	elapsed = imp_now_ms() - t0;
	EXPECT_GT(10000, elapsed) TH_LOG("closing the vfio device took %lld ms",
					 elapsed);

	expect_events(_metadata, self->imp, h1, h2);
	ASSERT_EQ(0, imp_status(self->imp, h1, &st));
	EXPECT_EQ(P2PBUF_IMP_STATE_INVALIDATED, st.state);
	EXPECT_EQ(0U, st.nr_segs);
	EXPECT_EQ(0U, st.length);
	EXPECT_LE(1U, st.invalidations);
	ASSERT_EQ(0, imp_status(self->imp, h2, &st));
	/* Pinned, yet unpinned by the revoke. */
	EXPECT_EQ(P2PBUF_IMP_STATE_INVALIDATED, st.state);

	/* Revoked for good: the exporter's -ENODEV, no DMA. */
	EXPECT_EQ(-ENODEV, imp_map(self->imp, h1, &m1, NULL, 0));
	EXPECT_EQ(-ENODEV, imp_map(self->imp, h2, &m2, NULL, 0));
	EXPECT_EQ(self->info.engine[0] ? -ENXIO : -EOPNOTSUPP,
		  imp_dma(self->imp, h1, P2PBUF_IMP_DMA_FROM_BUF, 0, out, 16));
	ASSERT_EQ(0, imp_status(self->imp, h2, &st));
	EXPECT_EQ(P2PBUF_IMP_STATE_INVALIDATED, st.state);

	EXPECT_EQ(0, imp_handle_op(self->imp, P2PBUF_IMP_RELEASE, h1));
	EXPECT_EQ(0, imp_handle_op(self->imp, P2PBUF_IMP_RELEASE, h2));
	if (imp_attach_count(dmabuf, self->bdf) != -ENOENT)
		EXPECT_EQ(0, imp_attach_count(dmabuf, self->bdf));
	close(dmabuf);
}

/* The exporter's refusal is the ioctl's errno: vfio-pci refuses a revoked buffer. */
TEST_F(vfio, import_revoked_refused)
{
	__u32 h;
	int dmabuf;

	dmabuf = imp_vfio_dmabuf(&self->v, VFIO_REGION, 0, VFIO_LEN);
	ASSERT_LE(0, dmabuf);
	imp_vfio_close(&self->v);
	EXPECT_EQ(-ENODEV, imp_import(self->imp, dmabuf, 0, &h, NULL));
	EXPECT_EQ(-ENODEV, imp_import(self->imp, dmabuf,
				      P2PBUF_IMP_IMPORT_PINNED, &h, NULL));
	close(dmabuf);
}

/* ---------------------------------------------------------------------- */
/* Lock order, as lockdep learned it while the tests above ran. */

/* Class @name, or a same-named class lockdep numbered "@name#N". */
static int lockdep_name_is(const char *s, const char *name)
{
	size_t n = strlen(name);

	return !strncmp(s, name, n) && (!s[n] || s[n] == '#');
}

/* Does /proc/lockdep record that a class named @from takes @to next? */
static int lockdep_edge(const char *from, const char *to)
{
	char line[512], *name;
	int in_from = 0, found = 0;
	FILE *f;

	f = fopen("/proc/lockdep", "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (!strncmp(line, " -> [", 5)) {
			name = strstr(line, "] ");
			if (in_from && name && lockdep_name_is(name + 2, to))
				found = 1;
			continue;
		}
		/* "<key> FD: <n> BD: <n> <usage>: <name>" */
		name = strstr(line, " BD:");
		if (name)
			name = strstr(name + 4, ": ");
		in_from = name && lockdep_name_is(name + 2, from);
	}
	fclose(f);
	return found;
}

static long long lockdep_stat(const char *key)
{
	char line[256];
	long long v = -1;
	FILE *f;

	f = fopen("/proc/lockdep_stats", "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, key) && strchr(line, ':'))
			v = strtoll(strchr(line, ':') + 1, NULL, 10);
	fclose(f);
	return v;
}

/*
 * A fixture of its own, declared last, so that this runs after every other
 * test of the program (the harness runs global TEST()s first).
 */
FIXTURE(lockdep) {
};

FIXTURE_SETUP(lockdep)
{
}

FIXTURE_TEARDOWN(lockdep)
{
}

/*
 * The order docs/importer.rst states: file lock -> dma_resv -> engine lock
 * and -> event lock. lockdep must still be on (no report so far) and must
 * have seen each of these nestings; the reverse of any of them would have
 * been a lockdep report, which fails the lab run.
 */
TEST_F(lockdep, learned_lock_order)
{
	static const char resv[] = "reservation_ww_class_mutex";
	struct p2pbuf_imp_info info;
	char bdf[64];
	int fd;

	if (access("/proc/lockdep", R_OK))
		SKIP(return, "kernel without lockdep (/proc/lockdep)");
	if (lockdep_stat("debug_locks") != 1)
		SKIP(return, "lockdep was switched off by an earlier report (see dmesg)");
	EXPECT_EQ(1, lockdep_edge("&file->lock", resv));
	EXPECT_EQ(0, lockdep_edge("&idev->engine.lock", resv));
	EXPECT_EQ(0, lockdep_edge("&file->ev_lock", resv));
	/* Taken under dma_resv at import when the device has an engine. */
	fd = imp_open(bdf, sizeof(bdf));
	if (fd >= 0 && !imp_info(fd, &info) && info.engine[0])
		EXPECT_EQ(1, lockdep_edge(resv, "&idev->engine.lock"));
	if (fd >= 0)
		close(fd);
	/* Taken under dma_resv by invalidations: the vfio-pci tests. */
	if (p2pbuf_env("P2PBUF_VFIO_BDF"))
		EXPECT_EQ(1, lockdep_edge(resv, "&file->ev_lock"));
}

TEST_HARNESS_MAIN
