// SPDX-License-Identifier: GPL-2.0
/*
 * lifetime_test: p2pbuf dma-bufs across processes and close orders.
 *
 * - A dma-buf fd passed to another process over a unix socket
 *   (SCM_RIGHTS) outlives the exporting process; when that process exits,
 *   its exporter file closes and revokes the buffer for good: the
 *   receiver's import is invalidated, cannot map again (-ENODEV) and a new
 *   import is refused (-ENODEV), while the fd itself stays a valid, closable
 *   file.
 * - fork() shares open files: imports belong to the importer's open file
 *   and buffers to the exporter's, not to a process, so a child sees and
 *   can use the parent's handles and nothing is revoked or released when it
 *   exits.
 * - The exporter file, the importer file and the dma-buf fd closed in each
 *   order: everything is released once the last one is closed, and a revoke
 *   reaches an importer that holds the only reference to the buffer.
 *
 * Needs the lab (P2PBUF_PROVIDER_BDF, P2PBUF_INITIATOR_BDF,
 * P2PBUF_EXPECT_MAP). Where p2pdma cannot route between the devices the
 * imports are refused and the steps that need a mapping are left out.
 */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <linux/p2pbuf_exporter.h>
#include <linux/p2pbuf_importer.h>

#include "p2pbuf_test.h"
#include "exporter_lib.h"

/* What both fixtures hold. */
struct life {
	struct exp_pair p;
	bool routable;		/* the importer can map the provider's memory */
	int dmabufs;		/* p2pbuf dma-bufs before the test */
	int expbufs;		/* exporter debugfs buffers before the test */
};

/* 0, or -1 with @why set: the fixture SKIPs. */
static int life_open(struct life *l, char *why, size_t len)
{
	if (exp_pair_open(&l->p, why, len))
		return -1;
	if (l->p.expect == P2PBUF_MAP_UNKNOWN) {
		snprintf(why, len, "P2PBUF_EXPECT_MAP unset or unknown");
		exp_pair_close(&l->p);
		return -1;
	}
	l->routable = l->p.expect != P2PBUF_MAP_NOT_SUPPORTED;
	l->dmabufs = p2pbuf_count_dmabufs(EXP_NAME);
	l->expbufs = exp_debugfs_bufs(l->p.pbdf, NULL);
	return 0;
}

FIXTURE(life) {
	struct life l;
};

FIXTURE_SETUP(life)
{
	char why[200];

	if (life_open(&self->l, why, sizeof(why)))
		SKIP(return, "%s", why);
}

FIXTURE_TEARDOWN(life)
{
	exp_pair_close(&self->l.p);
}

FIXTURE(order) {
	struct life l;
};

FIXTURE_VARIANT(order) {
	/* Close order: 'e'xporter file, 'i'mporter file, 'b'uffer fd. */
	const char *order;
};

FIXTURE_VARIANT_ADD(order, exporter_importer_buffer) { .order = "eib" };
FIXTURE_VARIANT_ADD(order, exporter_buffer_importer) { .order = "ebi" };
FIXTURE_VARIANT_ADD(order, importer_exporter_buffer) { .order = "ieb" };
FIXTURE_VARIANT_ADD(order, buffer_exporter_importer) { .order = "bei" };
FIXTURE_VARIANT_ADD(order, buffer_importer_exporter) { .order = "bie" };

FIXTURE_SETUP(order)
{
	char why[200];

	if (life_open(&self->l, why, sizeof(why)))
		SKIP(return, "%s", why);
}

FIXTURE_TEARDOWN(order)
{
	exp_pair_close(&self->l.p);
}

/* Everything the test created is gone. */
static void all_released(struct __test_metadata *_metadata,
			 const struct life *l)
{
	EXPECT_EQ(l->dmabufs, p2pbuf_count_dmabufs(EXP_NAME));
	EXPECT_EQ(l->expbufs, exp_debugfs_bufs(l->p.pbdf, NULL));
}

static int send_fd(int sock, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	char byte = 'f';
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -1;
}

static int recv_fd(int sock)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	char byte;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm;
	int fd;

	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != 1)
		return -1;
	cm = CMSG_FIRSTHDR(&msg);
	if (!cm || cm->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

/*
 * The exporting process: its own exporter file, one buffer sent to the
 * parent, then wait for the parent's go and exit (closing the file).
 */
static int exporter_process(const char *node, __u32 bar, int sock)
{
	struct p2pbuf_exp_range r = { 0, 4 * PAGE };
	char go;
	int exp, buf;

	exp = open(node, O_RDWR | O_CLOEXEC);
	if (exp < 0)
		return 10;
	buf = exp_export(exp, bar, &r, 1, O_RDWR | O_CLOEXEC, NULL);
	if (buf < 0)
		return 11;
	if (send_fd(sock, buf))
		return 12;
	close(buf);
	if (read(sock, &go, 1) != 1)
		return 13;
	return 0;	/* exit closes @exp: the buffer is revoked for good */
}

TEST_F(life, scm_rights_exporter_exits)
{
	struct p2pbuf_imp_status st;
	struct p2pbuf_imp_event ev;
	struct p2pbuf_imp_map m;
	struct p2pbuf_exp_query q;
	int sv[2], buf, h = -1, status, orphans, revoked;
	struct stat sb;
	pid_t pid;

	orphans = exp_debugfs_bufs(self->l.p.pbdf, "orphaned");
	revoked = exp_debugfs_bufs(self->l.p.pbdf, "revoked");
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(sv[0]);
		_exit(exporter_process(self->l.p.exp_node, self->l.p.bar, sv[1]));
	}
	close(sv[1]);
	buf = recv_fd(sv[0]);
	ASSERT_LE(0, buf);

	/* The buffer is not ours to query: another exporter file made it. */
	EXPECT_ERRNO(EINVAL, exp_query(self->l.p.exp, buf, NULL, 0, &q));
	if (self->l.routable) {
		h = imp_import(self->l.p.imp, buf, 0);
		ASSERT_LE(0, h) TH_LOG("IMPORT: %s", strerror(errno));
		ASSERT_EQ(0, imp_map(self->l.p.imp, h, &m));
		EXPECT_EQ(self->l.p.expect, m.map_type);
	} else {
		EXPECT_ERRNO(EXDEV, imp_import(self->l.p.imp, buf, 0));
	}

	/* Let the exporting process exit; its exporter file is released. */
	ASSERT_EQ(1, write(sv[0], "x", 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	close(sv[0]);

	if (h >= 0) {
		ASSERT_EQ(0, imp_status(self->l.p.imp, h, &st));
		EXPECT_EQ(P2PBUF_IMP_STATE_INVALIDATED, st.state);
		EXPECT_EQ(1U, st.invalidations);
		ASSERT_EQ((ssize_t)sizeof(ev), read(self->l.p.imp, &ev, sizeof(ev)));
		EXPECT_EQ((__u32)P2PBUF_IMP_EVENT_INVALIDATED, ev.type);
		EXPECT_EQ((__u32)h, ev.handle);
		EXPECT_ERRNO(ENODEV, imp_map(self->l.p.imp, h, &m));
	}
	/* Revoked for good: nobody may attach any more. */
	EXPECT_ERRNO(ENODEV, imp_import(self->l.p.imp, buf, 0));
	EXPECT_EQ(orphans + 1, exp_debugfs_bufs(self->l.p.pbdf, "orphaned"));
	EXPECT_EQ(revoked + 1, exp_debugfs_bufs(self->l.p.pbdf, "revoked"));

	/* The fd is still a dma-buf file; closing it releases the buffer. */
	EXPECT_EQ(0, fstat(buf, &sb));
	EXPECT_EQ(self->l.dmabufs + 1, p2pbuf_count_dmabufs(EXP_NAME));
	if (h >= 0)
		EXPECT_EQ(0, imp_handle_op(self->l.p.imp, P2PBUF_IMP_RELEASE, h));
	close(buf);
	all_released(_metadata, &self->l);
}

/* The steps of the child in fork_shares_handles; returns its exit code. */
static int fork_child(const struct life *l, int buf, int h)
{
	struct p2pbuf_exp_range r = { 8 * PAGE, PAGE };
	struct p2pbuf_imp_status st;
	struct p2pbuf_exp_query q;
	struct p2pbuf_imp_map m;
	int other;

	/* The parent's buffer, through the inherited exporter file. */
	if (exp_query(l->p.exp, buf, NULL, 0, &q) ||
	    q.state != P2PBUF_EXP_BUF_LIVE)
		return 20;
	/* A buffer of its own, which its exit releases. */
	other = exp_export(l->p.exp, l->p.bar, &r, 1, O_RDWR, NULL);
	if (other < 0)
		return 21;
	if (h < 0)
		return 0;
	/* The parent's import, mapped: same open file, same handle. */
	if (imp_status(l->p.imp, h, &st) ||
	    st.state != P2PBUF_IMP_STATE_MAPPED)
		return 22;
	if (imp_handle_op(l->p.imp, P2PBUF_IMP_UNMAP, h))
		return 23;
	if (imp_map(l->p.imp, h, &m) || m.map_type != l->p.expect)
		return 24;
	return 0;
}

TEST_F(life, fork_shares_handles)
{
	struct p2pbuf_exp_range r = { 0, 2 * PAGE };
	struct p2pbuf_imp_status st;
	struct p2pbuf_exp_query q;
	struct p2pbuf_imp_map m;
	int buf, h = -1, status;
	pid_t pid;

	buf = exp_export(self->l.p.exp, self->l.p.bar, &r, 1, O_RDWR | O_CLOEXEC,
			 NULL);
	ASSERT_LE(0, buf);
	if (self->l.routable) {
		h = imp_import(self->l.p.imp, buf, 0);
		ASSERT_LE(0, h) TH_LOG("IMPORT: %s", strerror(errno));
		ASSERT_EQ(0, imp_map(self->l.p.imp, h, &m));
	}

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(fork_child(&self->l, buf, h));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("child step %d failed",
						 WEXITSTATUS(status));

	/* The child's exit revoked nothing and left its remap in place. */
	ASSERT_EQ(0, exp_query(self->l.p.exp, buf, NULL, 0, &q));
	EXPECT_EQ((__u32)P2PBUF_EXP_BUF_LIVE, q.state);
	EXPECT_EQ(0U, q.revokes);
	/* Its own buffer went with its last fd. */
	EXPECT_EQ(self->l.dmabufs + 1, p2pbuf_count_dmabufs(EXP_NAME));
	if (h >= 0) {
		ASSERT_EQ(0, imp_status(self->l.p.imp, h, &st));
		EXPECT_EQ(P2PBUF_IMP_STATE_MAPPED, st.state);
		EXPECT_EQ(0U, st.invalidations);
		EXPECT_EQ(0, imp_handle_op(self->l.p.imp, P2PBUF_IMP_RELEASE, h));
	}
	close(buf);
	all_released(_metadata, &self->l);
}

/*
 * Export, import and map, then close the exporter file, the importer file
 * and the dma-buf fd in the variant's order. Closing the exporter first
 * revokes the mapping; the buffer goes when the last of the importer's
 * reference and the fd is gone. Where p2pdma cannot route, the import is
 * refused and holds nothing: the buffer goes with its fd, and the refusal
 * turns from the route's (-EXDEV) to the revoke's (-ENODEV) once the
 * exporter file is closed.
 */
TEST_F(order, close_order)
{
	struct p2pbuf_exp_range r = { 0, 2 * PAGE };
	struct p2pbuf_imp_status st;
	struct p2pbuf_imp_map m;
	bool exp_open = true, imp_open = true, buf_open = true;
	bool held;		/* the importer holds a reference */
	int buf, h = -1, revoked;
	const char *c;

	revoked = exp_debugfs_bufs(self->l.p.pbdf, "revoked");
	buf = exp_export(self->l.p.exp, self->l.p.bar, &r, 1, O_RDWR | O_CLOEXEC,
			 NULL);
	ASSERT_LE(0, buf);
	if (self->l.routable) {
		h = imp_import(self->l.p.imp, buf, 0);
		ASSERT_LE(0, h) TH_LOG("IMPORT: %s", strerror(errno));
		ASSERT_EQ(0, imp_map(self->l.p.imp, h, &m));
	} else {
		EXPECT_ERRNO(EXDEV, imp_import(self->l.p.imp, buf, 0));
	}

	for (c = variant->order; *c; c++) {
		switch (*c) {
		case 'e':
			close(self->l.p.exp);
			self->l.p.exp = -1;
			exp_open = false;
			/* The revoke reached the importer, if it still maps. */
			if (imp_open && h >= 0) {
				ASSERT_EQ(0, imp_status(self->l.p.imp, h, &st));
				EXPECT_EQ(P2PBUF_IMP_STATE_INVALIDATED, st.state);
				EXPECT_ERRNO(ENODEV, imp_map(self->l.p.imp, h, &m));
			}
			/* Revoked for good: no new attachment either. */
			if (imp_open && buf_open)
				EXPECT_ERRNO(ENODEV, imp_import(self->l.p.imp, buf, 0));
			break;
		case 'i':
			close(self->l.p.imp);
			self->l.p.imp = -1;
			imp_open = false;
			break;
		case 'b':
			close(buf);
			buf_open = false;
			break;
		}
		held = imp_open && h >= 0;
		/* Alive while the fd or the importer's attachment holds it. */
		EXPECT_EQ(self->l.dmabufs + (held || buf_open),
			  p2pbuf_count_dmabufs(EXP_NAME))
			TH_LOG("after closing '%c' of \"%s\"", *c, variant->order);
		/* Live only while its exporter file is open. */
		if (held || buf_open)
			EXPECT_EQ(revoked + !exp_open,
				  exp_debugfs_bufs(self->l.p.pbdf, "revoked"));
		/* Without a route nothing is attached: still -EXDEV. */
		if (exp_open && imp_open && buf_open && h < 0)
			EXPECT_ERRNO(EXDEV, imp_import(self->l.p.imp, buf, 0));
	}
	all_released(_metadata, &self->l);
}

TEST_HARNESS_MAIN
