/* SPDX-License-Identifier: GPL-2.0 */
/*
 * importer_safety_test: pinning and credentials. IMPORT_PINNED needs
 * CAP_SYS_ADMIN of whoever opened the importer file (raw DMA addresses
 * likewise); pins and unpins are seen by an exporter that implements
 * .pin/.unpin (p2pbuf_labexp), and an invalidation unpins a pinned import
 * until the next MAP. No event names a handle that IMPORT did not return.
 * The sizes of a file's pinned imports are bounded by max_pinned_bytes.
 */
#ifndef P2PBUF_IMPORTER_PIN_TESTS_H
#define P2PBUF_IMPORTER_PIN_TESTS_H

#include "importer_safety_lib.h"

/* A child without CAP_SYS_ADMIN, through a file it opened or one we did. */
TEST_F_TIMEOUT(safe, pinned_import_needs_opener_cap, 60)
{
	int dmabuf, memfd, status;
	pid_t pid;

	dmabuf = imp_udmabuf(SAFE_BUF_SIZE, &memfd);
	if (dmabuf < 0)
		p2pbuf_feature_missing(return, "no udmabuf (%s)", strerror(-dmabuf));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		char bdf[64];
		int imp;
		__u32 h;

		if (safe_cap_drop(CAP_SYS_ADMIN))
			_exit(10);
		imp = imp_open(bdf, sizeof(bdf));
		if (imp < 0)
			_exit(11);
		if (imp_import(imp, dmabuf, P2PBUF_IMP_IMPORT_PINNED, &h,
			       NULL) != -EPERM)
			_exit(12);
		if (imp_import(imp, dmabuf, 0, &h, NULL))
			_exit(13);
		/* The fixture's file was opened with the capability. */
		if (imp_import(self->fd, dmabuf, P2PBUF_IMP_IMPORT_PINNED, &h,
			       NULL))
			_exit(14);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status))
		TH_LOG("child: 12 pinned without the opener's capability, 14 delegation refused");
	close(dmabuf);
	close(memfd);
}

/*
 * Raw DMA addresses follow the opener too: a file opened without
 * CAP_SYS_ADMIN and handed to a process that has it still reports 0.
 */
TEST_F_TIMEOUT(safe, raw_addresses_follow_opener, 60)
{
	struct p2pbuf_imp_seg segs[SAFE_MAX_SEGS];
	int sv[2], dmabuf, memfd, status, imp;
	struct p2pbuf_imp_map m;
	pid_t pid;
	__u32 h, i;

	if (safe_ram_unreachable(self->bdf))
		SKIP(return, "%s", safe_ram_unreachable(self->bdf));
	dmabuf = imp_udmabuf(SAFE_BUF_SIZE, &memfd);
	if (dmabuf < 0)
		p2pbuf_feature_missing(return, "no udmabuf (%s)", strerror(-dmabuf));
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		char bdf[64];
		int fd;

		if (safe_cap_drop(CAP_SYS_ADMIN))
			_exit(10);
		fd = imp_open(bdf, sizeof(bdf));
		if (fd < 0)
			_exit(11);
		_exit(safe_send_fd(sv[1], fd) ? 12 : 0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	imp = safe_recv_fd(sv[0]);
	ASSERT_LE(0, imp);

	ASSERT_EQ(0, imp_import(imp, dmabuf, 0, &h, NULL));
	memset(segs, 0xa5, sizeof(segs));
	ASSERT_EQ(0, imp_map(imp, h, &m, segs, SAFE_MAX_SEGS));
	for (i = 0; i < m.nr_segs && i < SAFE_MAX_SEGS; i++)
		EXPECT_EQ(0U, segs[i].addr)
			TH_LOG("raw address for a file opened without CAP_SYS_ADMIN");
	EXPECT_EQ(0, imp_handle_op(imp, P2PBUF_IMP_RELEASE, h));
	close(imp);

	/* Our own file, opened with the capability. */
	ASSERT_EQ(0, imp_import(self->fd, dmabuf, 0, &h, NULL));
	ASSERT_EQ(0, imp_map(self->fd, h, &m, segs, SAFE_MAX_SEGS));
	EXPECT_NE(0U, segs[0].addr);
	EXPECT_EQ(0, imp_handle_op(self->fd, P2PBUF_IMP_RELEASE, h));
	close(sv[0]);
	close(sv[1]);
	close(dmabuf);
	close(memfd);
}

/* An exporter with .pin sees exactly one pin per pinned import. */
TEST_F(safe, pin_counted_by_exporter)
{
	struct p2pbuf_imp_status st;
	struct p2pbuf_imp_map m;
	long long p0, calls0;
	int dev, dmabuf;
	__u32 h, h2;

	dev = labexp_open();
	if (dev < 0)
		p2pbuf_feature_missing(return, "no lab test exporter %s (%s)", LABEXP_NODE,
				       strerror(-dev));
	if (safe_ram_unreachable(self->bdf))
		SKIP(return, "%s", safe_ram_unreachable(self->bdf));
	dmabuf = labexp_ioctl(dev, LABEXP_CREATE, SAFE_BUF_SIZE);
	ASSERT_LE(0, dmabuf);
	p0 = labexp_counter("pinned");
	calls0 = labexp_counter("pin_calls");
	ASSERT_LE(0, p0);

	ASSERT_EQ(0, imp_import(self->fd, dmabuf, 0, &h2, NULL));
	ASSERT_EQ(0, imp_map(self->fd, h2, &m, NULL, 0));
	EXPECT_EQ(p0, labexp_counter("pinned"));

	ASSERT_EQ(0, imp_import(self->fd, dmabuf, P2PBUF_IMP_IMPORT_PINNED, &h,
				NULL));
	EXPECT_EQ(p0 + 1, labexp_counter("pinned"));
	EXPECT_EQ(calls0 + 1, labexp_counter("pin_calls"));
	ASSERT_EQ(0, imp_map(self->fd, h, &m, NULL, 0));
	ASSERT_EQ(0, imp_status(self->fd, h, &st));
	EXPECT_EQ(P2PBUF_IMP_STATE_MAPPED | P2PBUF_IMP_STATE_PINNED,
		  st.state & ~P2PBUF_IMP_STATE_READONLY);
	EXPECT_EQ(0, imp_handle_op(self->fd, P2PBUF_IMP_UNMAP, h));
	EXPECT_EQ(p0 + 1, labexp_counter("pinned"));
	EXPECT_EQ(0, imp_handle_op(self->fd, P2PBUF_IMP_RELEASE, h));
	EXPECT_EQ(p0, labexp_counter("pinned"));
	EXPECT_EQ(0, imp_handle_op(self->fd, P2PBUF_IMP_RELEASE, h2));
	close(dmabuf);
	close(dev);
}

/* An invalidation unpins a pinned import; the next MAP pins again. */
TEST_F(safe, invalidate_unpins_pinned)
{
	struct p2pbuf_imp_status st;
	struct p2pbuf_imp_event ev;
	struct p2pbuf_imp_map m;
	int dev, dmabuf;
	long long p0;
	__u32 h;

	dev = labexp_open();
	if (dev < 0)
		p2pbuf_feature_missing(return, "no lab test exporter %s (%s)", LABEXP_NODE,
				       strerror(-dev));
	if (safe_ram_unreachable(self->bdf))
		SKIP(return, "%s", safe_ram_unreachable(self->bdf));
	dmabuf = labexp_ioctl(dev, LABEXP_CREATE, SAFE_BUF_SIZE);
	ASSERT_LE(0, dmabuf);
	p0 = labexp_counter("pinned");
	imp_drain_events(self->fd);
	ASSERT_EQ(0, imp_import(self->fd, dmabuf, P2PBUF_IMP_IMPORT_PINNED, &h,
				NULL));
	ASSERT_EQ(0, imp_map(self->fd, h, &m, NULL, 0));
	EXPECT_EQ(p0 + 1, labexp_counter("pinned"));

	ASSERT_EQ(0, labexp_ioctl(dev, LABEXP_INVALIDATE, dmabuf));
	ASSERT_EQ(0, imp_read_event(self->fd, &ev, 1000));
	EXPECT_EQ(h, ev.handle);
	EXPECT_EQ(1U, ev.invalidations);
	ASSERT_EQ(0, imp_status(self->fd, h, &st));
	EXPECT_EQ(P2PBUF_IMP_STATE_INVALIDATED,
		  st.state & ~P2PBUF_IMP_STATE_READONLY);
	EXPECT_EQ(p0, labexp_counter("pinned"));

	ASSERT_EQ(0, imp_map(self->fd, h, &m, NULL, 0));
	EXPECT_EQ(p0 + 1, labexp_counter("pinned"));
	ASSERT_EQ(0, imp_status(self->fd, h, &st));
	EXPECT_EQ(P2PBUF_IMP_STATE_MAPPED | P2PBUF_IMP_STATE_PINNED,
		  st.state & ~P2PBUF_IMP_STATE_READONLY);
	EXPECT_EQ(0, imp_handle_op(self->fd, P2PBUF_IMP_RELEASE, h));
	EXPECT_EQ(p0, labexp_counter("pinned"));
	close(dmabuf);
	close(dev);
}

/*
 * An exporter that invalidates while IMPORT is still setting up (here from
 * inside .pin), and an IMPORT whose result cannot be copied out: no event
 * may name the handle userspace never got. When IMPORT succeeds, the event
 * names the handle it returned.
 */
TEST_F(safe, no_event_for_handle_never_returned)
{
	struct p2pbuf_imp_import *arg;
	struct p2pbuf_imp_status st;
	struct p2pbuf_imp_event ev;
	int dev, dmabuf, ret;
	long long p0;
	__u32 h;

	dev = labexp_open();
	if (dev < 0)
		p2pbuf_feature_missing(return, "no lab test exporter %s (%s)", LABEXP_NODE,
				       strerror(-dev));
	dmabuf = labexp_ioctl(dev, LABEXP_CREATE, SAFE_BUF_SIZE);
	ASSERT_LE(0, dmabuf);
	p0 = labexp_counter("pinned");
	imp_drain_events(self->fd);
	arg = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, arg);
	arg->argsz = sizeof(*arg);
	arg->flags = P2PBUF_IMP_IMPORT_PINNED;
	arg->fd = dmabuf;
	ASSERT_EQ(0, mprotect(arg, 4096, PROT_READ));

	ASSERT_EQ(0, labexp_set("invalidate_in_pin", "1"));
	ret = imp_errno(ioctl(self->fd, P2PBUF_IMP_IMPORT, arg));
	EXPECT_EQ(-EFAULT, ret);
	ret = imp_read_event(self->fd, &ev, 0);
	EXPECT_EQ(-ETIMEDOUT, ret)
		TH_LOG("an event names handle %u, which IMPORT never returned",
		       ev.handle);
	EXPECT_EQ(p0, labexp_counter("pinned"));

	ASSERT_EQ(0, imp_import(self->fd, dmabuf, P2PBUF_IMP_IMPORT_PINNED, &h,
				NULL));
	labexp_set("invalidate_in_pin", "0");
	ASSERT_EQ(0, imp_read_event(self->fd, &ev, 1000));
	EXPECT_EQ(h, ev.handle);
	EXPECT_EQ(-ETIMEDOUT, imp_read_event(self->fd, &ev, 0));
	ASSERT_EQ(0, imp_status(self->fd, h, &st));
	EXPECT_NE(0U, st.state & P2PBUF_IMP_STATE_INVALIDATED);
	EXPECT_EQ(0, imp_handle_op(self->fd, P2PBUF_IMP_RELEASE, h));
	EXPECT_EQ(p0, labexp_counter("pinned"));
	labexp_set("invalidate_in_pin", "0");
	munmap(arg, 4096);
	close(dmabuf);
	close(dev);
}

#define PIN_BUDGET_PARAM	IMP_PARAMS "/max_pinned_bytes"

/*
 * The pinned imports of all files may add up to max_pinned_bytes: beyond,
 * IMPORT with IMPORT_PINNED is -EDQUOT and creates nothing. Unpinned imports
 * do not count, another file shares the budget (a budget per file bounded
 * nothing: one more open() gave one more), a release or a close gives its
 * bytes back, and 0 allows no pinned import at all. The parameter is
 * restored.
 */
TEST_F(safe, pin_budget_edquot)
{
	struct p2pbuf_imp_status st;
	int dmabuf, memfd, fd2, ret;
	__u32 h1 = 0, h2 = 0, h3 = 0, h = 0;
	char val[32], bdf[64];
	long long old;

	old = safe_read_num(PIN_BUDGET_PARAM);
	if (old < 0)
		p2pbuf_feature_missing(return, "no %s (%s)", PIN_BUDGET_PARAM, strerror(-old));
	dmabuf = imp_udmabuf(SAFE_BUF_SIZE, &memfd);
	if (dmabuf < 0)
		p2pbuf_feature_missing(return, "no udmabuf (%s)", strerror(-dmabuf));
	snprintf(val, sizeof(val), "%u", 2 * SAFE_BUF_SIZE);
	ASSERT_EQ(0, safe_write_str(PIN_BUDGET_PARAM, val));

	ret = imp_import(self->fd, dmabuf, P2PBUF_IMP_IMPORT_PINNED, &h1, NULL);
	if (ret == -EPERM) {
		snprintf(val, sizeof(val), "%lld", old);
		safe_write_str(PIN_BUDGET_PARAM, val);
		SKIP(return, "the importer file was opened without CAP_SYS_ADMIN");
	}
	EXPECT_EQ(0, ret);
	EXPECT_EQ(0, imp_import(self->fd, dmabuf, P2PBUF_IMP_IMPORT_PINNED,
				&h2, NULL));
	EXPECT_EQ(-EDQUOT, imp_import(self->fd, dmabuf,
				      P2PBUF_IMP_IMPORT_PINNED, &h, NULL));
	/* The refused import took no handle: the next one is h2 + 1. */
	EXPECT_EQ(0, imp_import(self->fd, dmabuf, 0, &h3, NULL));
	EXPECT_EQ(h2 + 1, h3);
	EXPECT_EQ(-ENOENT, imp_status(self->fd, h3 + 1, &st));

	fd2 = imp_open(bdf, sizeof(bdf));
	EXPECT_LE(0, fd2);
	if (fd2 >= 0)
		EXPECT_EQ(-EDQUOT, imp_import(fd2, dmabuf, P2PBUF_IMP_IMPORT_PINNED,
					      &h, NULL));
	EXPECT_EQ(0, imp_handle_op(self->fd, P2PBUF_IMP_RELEASE, h1));
	if (fd2 >= 0) {
		EXPECT_EQ(0, imp_import(fd2, dmabuf, P2PBUF_IMP_IMPORT_PINNED,
					&h, NULL));
		close(fd2);
	}

	EXPECT_EQ(0, imp_import(self->fd, dmabuf, P2PBUF_IMP_IMPORT_PINNED,
				&h1, NULL));
	EXPECT_EQ(-EDQUOT, imp_import(self->fd, dmabuf,
				      P2PBUF_IMP_IMPORT_PINNED, &h, NULL));

	EXPECT_EQ(0, imp_handle_op(self->fd, P2PBUF_IMP_RELEASE, h1));
	EXPECT_EQ(0, imp_handle_op(self->fd, P2PBUF_IMP_RELEASE, h2));
	EXPECT_EQ(0, safe_write_str(PIN_BUDGET_PARAM, "0"));
	EXPECT_EQ(-EDQUOT, imp_import(self->fd, dmabuf,
				      P2PBUF_IMP_IMPORT_PINNED, &h, NULL));
	EXPECT_EQ(0, imp_import(self->fd, dmabuf, 0, &h, NULL));

	snprintf(val, sizeof(val), "%lld", old);
	EXPECT_EQ(0, safe_write_str(PIN_BUDGET_PARAM, val));
	close(dmabuf);
	close(memfd);
}

#endif /* P2PBUF_IMPORTER_PIN_TESTS_H */
