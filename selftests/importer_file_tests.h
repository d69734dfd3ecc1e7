/* SPDX-License-Identifier: GPL-2.0 */
/*
 * importer_test, "imp" fixture: the life of an open file: events, closing it,
 * unbinding the device under it, and the memory cgroup its imports are
 * charged to.
 */
#ifndef P2PBUF_IMPORTER_FILE_TESTS_H
#define P2PBUF_IMPORTER_FILE_TESTS_H

#include "importer_fixture.h"

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
		p2pbuf_feature_missing(return, "no udmabuf (%s)", strerror(-dmabuf));
	if (imp_attach_count(dmabuf, self->bdf) == -ENOENT)
		p2pbuf_feature_missing(return, "no /sys/kernel/debug/dma_buf/bufinfo to check");
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
		p2pbuf_feature_missing(return, "no udmabuf (%s)", strerror(-dmabuf));
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

/* Unbind and bind again the importer's device; 0 or -errno. */
static int imp_rebind(const char *bdf, bool bind)
{
	return p2pbuf_pci_bind(bdf, bind ? "p2pbuf_importer" : "");
}

/* The test-only knob of docs/importer.rst: force the next engine timeouts. */
#define IMP_FORCE_TIMEOUTS	"/sys/kernel/debug/p2pbuf_importer/force_engine_timeouts"

/*
 * An engine command that does not complete in time: the transfer is
 * -ETIMEDOUT, the engine is disabled and every later transfer of the device
 * is -EIO, while imports still map; unbinding and binding the device again
 * brings the engine back (docs/importer.rst, DMA engine backends). The
 * timeout is forced through the debugfs knob: the first edu command of the
 * transfer is started, its wait gives up at once. The device finishes that
 * command (a copy into its internal buffer) on its own; the second command,
 * which would write the buffer, is never started, so nothing changes.
 */
TEST_F_TIMEOUT(imp, engine_timeout_until_rebind, 120)
{
	unsigned char in[300], out[300], *cpu;
	struct p2pbuf_imp_status st;
	struct p2pbuf_imp_map m;
	int dmabuf, memfd, fd2, kmsg;
	char drv[64], bdf[64], log[4096] = "";
	__u64 off = 4096 - 100;
	__u32 h;

	if (!p2pbuf_env("P2PBUF_INITIATOR_BDF"))
		SKIP(return, "rebinding is only done in the lab");
	ASSERT_TRUE(self->has_engine) TH_LOG("the lab's initiator is an edu");
	ASSERT_EQ(0, p2pbuf_debugfs_mount());
	ASSERT_EQ(0, access(IMP_FORCE_TIMEOUTS, W_OK))
		TH_LOG("%s: %s", IMP_FORCE_TIMEOUTS, strerror(errno));
	dmabuf = imp_udmabuf(BUF_SIZE, &memfd);
	ASSERT_LE(0, dmabuf) TH_LOG("udmabuf: %s", strerror(-dmabuf));
	cpu = mmap(NULL, BUF_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	ASSERT_NE(MAP_FAILED, cpu);
	memset(cpu, 0x5a, BUF_SIZE);
	ASSERT_EQ(0, imp_import(self->fd, dmabuf, 0, &h, NULL));
	ASSERT_EQ(0, imp_map(self->fd, h, &m, NULL, 0));

	kmsg = p2pbuf_kmsg_open();
	ASSERT_LE(0, kmsg);
	ASSERT_EQ(0, p2pbuf_sysfs_write(IMP_FORCE_TIMEOUTS, "1"));
	imp_pattern(in, sizeof(in), 21);
	EXPECT_EQ(-ETIMEDOUT, imp_dma(self->fd, h, P2PBUF_IMP_DMA_TO_BUF, off,
				      in, sizeof(in)));
	EXPECT_EQ(0, imp_sysfs_value(IMP_FORCE_TIMEOUTS)) TH_LOG("not consumed");
	ASSERT_LE(0, p2pbuf_kmsg_read(kmsg, log, sizeof(log)));
	close(kmsg);
	EXPECT_EQ(1, p2pbuf_log_count(log, "edu engine timed out: bus mastering off",
				      self->bdf)) TH_LOG("%s", log);

	/* Let the device finish the command it was left running. */
	usleep(500 * 1000);
	EXPECT_EQ(0U, imp_memchr_not(cpu, 0x5a, BUF_SIZE)) TH_LOG("written");

	/* Disabled: -EIO both ways, nothing moves; mapping still works. */
	EXPECT_EQ(-EIO, imp_dma(self->fd, h, P2PBUF_IMP_DMA_TO_BUF, off, in,
				sizeof(in)));
	memset(out, 0, sizeof(out));
	EXPECT_EQ(-EIO, imp_dma(self->fd, h, P2PBUF_IMP_DMA_FROM_BUF, off, out,
				sizeof(out)));
	EXPECT_EQ(0U, imp_memchr_not(out, 0, sizeof(out)));
	EXPECT_EQ(0U, imp_memchr_not(cpu, 0x5a, BUF_SIZE));
	ASSERT_EQ(0, imp_status(self->fd, h, &st));
	EXPECT_EQ(P2PBUF_IMP_STATE_MAPPED, st.state);
	EXPECT_EQ(0, imp_handle_op(self->fd, P2PBUF_IMP_UNMAP, h));
	EXPECT_EQ(0, imp_map(self->fd, h, &m, NULL, 0));
	ASSERT_EQ(0, imp_info(self->fd, &self->info));
	EXPECT_STREQ("edu", self->info.engine);

	/* A new file of the same binding: still disabled. */
	fd2 = imp_open(bdf, sizeof(bdf));
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, imp_import(fd2, dmabuf, 0, &h, NULL));
	ASSERT_EQ(0, imp_map(fd2, h, &m, NULL, 0));
	EXPECT_EQ(-EIO, imp_dma(fd2, h, P2PBUF_IMP_DMA_FROM_BUF, off, out,
				sizeof(out)));
	close(fd2);

	/* Rebind: the engine works again, both ways. */
	ASSERT_EQ(0, imp_rebind(self->bdf, false));
	EXPECT_EQ(0, imp_attach_count(dmabuf, self->bdf));
	ASSERT_EQ(0, imp_rebind(self->bdf, true));
	imp_pci_driver(self->bdf, drv, sizeof(drv));
	ASSERT_STREQ("p2pbuf_importer", drv);
	fd2 = imp_open(bdf, sizeof(bdf));
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, imp_import(fd2, dmabuf, 0, &h, NULL));
	ASSERT_EQ(0, imp_map(fd2, h, &m, NULL, 0));
	ASSERT_EQ(0, imp_dma(fd2, h, P2PBUF_IMP_DMA_TO_BUF, off, in, sizeof(in)));
	EXPECT_EQ(0, memcmp(cpu + off, in, sizeof(in)));
	imp_pattern(cpu + off, sizeof(out), 22);
	ASSERT_EQ(0, imp_dma(fd2, h, P2PBUF_IMP_DMA_FROM_BUF, off, out,
			     sizeof(out)));
	EXPECT_EQ(0, memcmp(cpu + off, out, sizeof(out)));
	close(fd2);
	EXPECT_EQ(0, imp_attach_count(dmabuf, self->bdf));
	EXPECT_EQ(-ENODEV, imp_status(self->fd, 1, &st));
	munmap(cpu, BUF_SIZE);
	close(dmabuf);
	close(memfd);
}

/* One transfer on its own thread, timed. */
struct imp_bg_dma {
	pthread_t thread;
	int fd;
	__u32 handle;
	__u32 flags;
	__u64 offset;
	void *data;
	__u64 length;
	int ret;
	long long start_ms;
	long long end_ms;
};

static void *imp_bg_dma_fn(void *arg)
{
	struct imp_bg_dma *b = arg;

	__atomic_store_n(&b->start_ms, imp_now_ms(), __ATOMIC_RELEASE);
	b->ret = imp_dma(b->fd, b->handle, b->flags, b->offset, b->data,
			 b->length);
	b->end_ms = imp_now_ms();
	return NULL;
}

/*
 * Unbind the importer while its engine writes into an import: remove()
 * takes the file's lock and so waits for the transfer in progress
 * (docs/importer.rst, Teardown). The transfer completes and its data lands,
 * the unbind returns after it, and then the import is gone: no attachment,
 * -ENODEV from the old file. Rebinds the device afterwards.
 *
 * "After it" is read from the buffer, not from the clocks: when the unbind
 * returns, before the transfer's thread is joined, every byte of the
 * transfer is there. The thread's own end time is taken once it is back
 * from the ioctl, which on one vCPU may be after the unbind returned
 * (remove() runs as soon as the transfer drops the lock).
 */
TEST_F_TIMEOUT(imp, unbind_during_transfer, 120)
{
	unsigned char data[4095], *cpu;
	struct imp_bg_dma b = { 0 };
	struct p2pbuf_imp_status st;
	struct p2pbuf_imp_map m;
	int dmabuf, memfd, fd2;
	long long unbind_start, unbind_end;
	bool landed;
	char bdf[64];
	__u32 h;

	if (!p2pbuf_env("P2PBUF_INITIATOR_BDF"))
		SKIP(return, "rebinding is only done in the lab");
	ASSERT_TRUE(self->has_engine) TH_LOG("the lab's initiator is an edu");
	ASSERT_EQ(sizeof(data), self->info.dma_max);
	dmabuf = imp_udmabuf(BUF_SIZE, &memfd);
	ASSERT_LE(0, dmabuf) TH_LOG("udmabuf: %s", strerror(-dmabuf));
	cpu = mmap(NULL, BUF_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	ASSERT_NE(MAP_FAILED, cpu);
	memset(cpu, 0, BUF_SIZE);
	ASSERT_EQ(0, imp_import(self->fd, dmabuf, 0, &h, NULL));
	ASSERT_EQ(0, imp_map(self->fd, h, &m, NULL, 0));

	/* Across a page boundary: two edu commands or more, 200 ms or more. */
	imp_pattern(data, sizeof(data), 23);
	b = (struct imp_bg_dma){
		.fd = self->fd, .handle = h, .flags = P2PBUF_IMP_DMA_TO_BUF,
		.offset = 4096 - 2000, .data = data, .length = sizeof(data),
	};
	ASSERT_EQ(0, pthread_create(&b.thread, NULL, imp_bg_dma_fn, &b));
	/* The thread is at its ioctl; 50 ms on, its first command runs. */
	while (!__atomic_load_n(&b.start_ms, __ATOMIC_ACQUIRE))
		usleep(1000);
	usleep(50 * 1000);
	unbind_start = imp_now_ms();
	ASSERT_EQ(0, imp_rebind(self->bdf, false));
	unbind_end = imp_now_ms();
	landed = !memcmp(cpu + b.offset, data, sizeof(data));
	ASSERT_EQ(0, pthread_join(b.thread, NULL));
	TH_LOG("transfer %lld..%lld ms, unbind %lld..%lld ms", 0LL,
	       b.end_ms - b.start_ms, unbind_start - b.start_ms,
	       unbind_end - b.start_ms);
	EXPECT_EQ(0, b.ret) TH_LOG("transfer: %s", strerror(-b.ret));
	EXPECT_TRUE(landed) TH_LOG("the unbind returned before the transfer's data landed");
	EXPECT_EQ(0, memcmp(cpu + b.offset, data, sizeof(data)));
	EXPECT_EQ(0U, imp_memchr_not(cpu, 0, b.offset));
	EXPECT_EQ(0U, imp_memchr_not(cpu + b.offset + sizeof(data), 0,
				     BUF_SIZE - b.offset - sizeof(data)));

	/* Gone: no attachment, the old file answers -ENODEV. */
	EXPECT_EQ(0, imp_attach_count(dmabuf, self->bdf));
	EXPECT_EQ(-ENODEV, imp_status(self->fd, h, &st));
	EXPECT_EQ(-ENODEV, imp_dma(self->fd, h, P2PBUF_IMP_DMA_TO_BUF, 0, data,
				   16));

	ASSERT_EQ(0, imp_rebind(self->bdf, true));
	fd2 = imp_open(bdf, sizeof(bdf));
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, imp_import(fd2, dmabuf, 0, &h, NULL));
	ASSERT_EQ(0, imp_map(fd2, h, &m, NULL, 0));
	ASSERT_EQ(0, imp_dma(fd2, h, P2PBUF_IMP_DMA_FROM_BUF, b.offset, data,
			     64));
	EXPECT_EQ(0, memcmp(cpu + b.offset, data, 64));
	close(fd2);
	EXPECT_EQ(0, imp_attach_count(dmabuf, self->bdf));
	munmap(cpu, BUF_SIZE);
	close(dmabuf);
	close(memfd);
}

/*
 * Memory accounting: what a file's imports make the importer allocate is
 * charged to the importing process's memory cgroup (GFP_KERNEL_ACCOUNT).
 * The process moves itself into a new cgroup v2 group (mounting cgroup2
 * under /tmp if it is not mounted), opens a file, and compares the group's
 * slab (memory.stat) before and after IMP_ACCT_IMPORTS imports of one
 * udmabuf: at least IMP_ACCT_MIN bytes per import (an import is more than
 * 64 bytes) must have been charged. The dma-buf core's attachments are not
 * charged, so without the accounting the group sees next to nothing.
 */
#define IMP_ACCT_IMPORTS	2048U
#define IMP_ACCT_MIN		64U
#define IMP_CG2_TMP		"/tmp/p2pbuf-cgroup2"

/* The root of a cgroup v2 hierarchy with "memory" usable below it. */
static int imp_cg2_root(char *root, size_t len)
{
	char dev[256], dir[PATH_MAX], type[64], path[PATH_MAX + 32];
	bool found = false;
	FILE *f;

	f = fopen("/proc/self/mounts", "re");
	if (!f)
		return -errno;
	while (fscanf(f, "%255s %4095s %63s %*[^\n]", dev, dir, type) == 3)
		if (!strcmp(type, "cgroup2")) {
			found = true;
			break;
		}
	fclose(f);
	if (!found) {
		snprintf(dir, sizeof(dir), "%s", IMP_CG2_TMP);
		mkdir(dir, 0755);
		if (mount("none", dir, "cgroup2", 0, NULL))
			return -errno;
	}
	snprintf(root, len, "%s", dir);
	snprintf(path, sizeof(path), "%s/cgroup.subtree_control", root);
	return p2pbuf_sysfs_write(path, "+memory");
}

/* A "memory.stat" value of the group @cg; -errno if unreadable. */
static long long imp_cg_stat(const char *cg, const char *key)
{
	char path[PATH_MAX + 16], name[64];
	long long val = -ENOENT, v;
	FILE *f;

	snprintf(path, sizeof(path), "%s/memory.stat", cg);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fscanf(f, "%63s %lld", name, &v) == 2)
		if (!strcmp(name, key))
			val = v;
	fclose(f);
	return val;
}

TEST_F_TIMEOUT(imp, imports_charged_to_memcg, 300)
{
	char root[PATH_MAX], cg[PATH_MAX + 32], procs[PATH_MAX + 48];
	char bdf[64], cmdline[4096] = "", orig[PATH_MAX] = "";
	long long before, after;
	int dmabuf, memfd, fd2, ret;
	FILE *f;
	__u32 i, h;

	f = fopen("/proc/cmdline", "re");
	if (f) {
		if (!fgets(cmdline, sizeof(cmdline), f))
			cmdline[0] = '\0';
		fclose(f);
	}
	if (strstr(cmdline, "nokmem"))
		SKIP(return, "kernel memory accounting is off (nokmem)");
	f = fopen("/proc/self/cgroup", "re");
	if (!f)
		SKIP(return, "kernel without cgroups (no /proc/self/cgroup)");
	while (fgets(procs, sizeof(procs), f))
		if (!strncmp(procs, "0::", 3))
			sscanf(procs + 3, "%4095s", orig);
	fclose(f);
	ret = imp_cg2_root(root, sizeof(root));
	if (ret)
		SKIP(return, "no cgroup v2 with the memory controller (%s)",
		     strerror(-ret));
	dmabuf = imp_udmabuf(4096, &memfd);
	if (dmabuf < 0)
		p2pbuf_feature_missing(return, "no udmabuf (%s)", strerror(-dmabuf));

	snprintf(cg, sizeof(cg), "%s/p2pbuf-imp-acct-%d", root, getpid());
	ASSERT_EQ(0, mkdir(cg, 0755));
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", cg);
	ret = p2pbuf_sysfs_write(procs, "0");
	if (ret) {
		rmdir(cg);
		SKIP(return, "cannot join a new memory cgroup (%s)",
		     strerror(-ret));
	}
	fd2 = imp_open(bdf, sizeof(bdf));
	EXPECT_LE(0, fd2);
	/* memcg statistics are flushed every 2 s. */
	sleep(3);
	before = imp_cg_stat(cg, "slab");
	for (i = 0; fd2 >= 0 && i < IMP_ACCT_IMPORTS; i++) {
		ret = imp_import(fd2, dmabuf, 0, &h, NULL);
		if (ret) {
			EXPECT_EQ(0, ret) TH_LOG("import %u", i);
			break;
		}
	}
	sleep(3);
	after = imp_cg_stat(cg, "slab");
	if (fd2 >= 0)
		close(fd2);

	/* Back where the test started, then the group can go. */
	snprintf(procs, sizeof(procs), "%s%s/cgroup.procs", root,
		 strcmp(orig, "/") ? orig : "");
	EXPECT_EQ(0, p2pbuf_sysfs_write(procs, "0"));
	EXPECT_EQ(0, rmdir(cg));
	EXPECT_LE(0, before);
	EXPECT_LE((long long)IMP_ACCT_IMPORTS * IMP_ACCT_MIN, after - before)
		TH_LOG("%u imports charged %lld bytes of slab to the cgroup",
		       IMP_ACCT_IMPORTS, after - before);
	close(dmabuf);
	close(memfd);
}

#endif /* P2PBUF_IMPORTER_FILE_TESTS_H */
