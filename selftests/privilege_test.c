// SPDX-License-Identifier: GPL-2.0
/*
 * privilege_test: what an unprivileged process can reach.
 *
 * The tests run as root in the lab; each forks a child that becomes
 * uid/gid 65534 (nobody/nogroup) with no supplementary groups and, as a
 * result, no capabilities. That child
 * - cannot open /dev/p2pbuf-exp-<BDF> or /dev/p2pbuf-imp-<BDF> (EACCES:
 *   the drivers create them 0600 root:root, udev/60-p2pbuf.rules keeps
 *   them so) nor the exporter's debugfs state (debugfs is root-only);
 * - given files root opened for it (fork, or SCM_RIGHTS), can use them -
 *   the permission check is at open() - but never sees a CPU physical or
 *   DMA address: INFO, QUERY, IMPORT, MAP (segments), STATUS and the
 *   event records of both modules are searched for the provider BAR's CPU
 *   addresses and for every DMA address root's MAP reported. The importer
 *   judges CAP_SYS_ADMIN by the file's opener (file->f_cred), so the
 *   importer file nobody gets is one root opened with CAP_SYS_ADMIN
 *   dropped, as a group member of the udev option would.
 *
 * Needs the lab (P2PBUF_PROVIDER_BDF, P2PBUF_INITIATOR_BDF,
 * P2PBUF_EXPECT_MAP) and root.
 */
#define _GNU_SOURCE
#include <grp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <linux/capability.h>
#include <linux/p2pbuf_exporter.h>
#include <linux/p2pbuf_importer.h>

#include "p2pbuf_test.h"
#include "exporter_lib.h"

#define NOBODY		65534
#define NR_SEGS		8U
#define MAX_SECRETS	(NR_SEGS + 1)

static const struct p2pbuf_exp_range priv_ranges[] = {
	{ 0, 2 * PAGE }, { 16 * PAGE, PAGE }, { 4 * PAGE, 3 * PAGE },
};

#define NR_RANGES	ARRAY_SIZE(priv_ranges)

/* Become nobody:nogroup with no groups; 0 only if no capability is left. */
static int drop_to_nobody(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2];

	if (setgroups(0, NULL) || setresgid(NOBODY, NOBODY, NOBODY) ||
	    setresuid(NOBODY, NOBODY, NOBODY))
		return -1;
	if (syscall(SYS_capget, &hdr, data))
		return -1;
	if (data[0].effective || data[1].effective || data[0].permitted ||
	    data[1].permitted)
		return -1;
	return 0;
}

/* Run @fn in a child that dropped to nobody; returns its exit status. */
static int as_nobody(int (*fn)(void *), void *arg)
{
	int status;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid)
		_exit(drop_to_nobody() ? 100 : fn(arg));
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/*
 * Open @path with CAP_SYS_ADMIN out of the effective set (uid 0 still
 * passes the node's 0600), then raise it again; the fd or -1.
 */
static int open_without_cap_sys_admin(const char *path)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2], saved[2];
	int fd;

	if (syscall(SYS_capget, &hdr, data))
		return -1;
	memcpy(saved, data, sizeof(saved));
	data[CAP_SYS_ADMIN / 32].effective &= ~(1u << (CAP_SYS_ADMIN % 32));
	if (syscall(SYS_capset, &hdr, data))
		return -1;
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (syscall(SYS_capset, &hdr, saved) && fd >= 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

#define PRIV_SELF FIXTURE_DATA(priv)

FIXTURE(priv) {
	struct exp_pair p;
	int imp_nocap;		/* importer file opened without CAP_SYS_ADMIN */
	__u64 bar_phys;		/* CPU address of the provider BAR */
	__u64 secrets[MAX_SECRETS];	/* DMA addresses root saw */
	unsigned int nr_secrets;
	int buf;		/* a dma-buf of the provider */
};

FIXTURE_SETUP(priv)
{
	char why[200];

	self->buf = -1;
	self->imp_nocap = -1;
	if (getuid() != 0)
		SKIP(return, "needs root to drop from");
	if (exp_pair_open(&self->p, why, sizeof(why)))
		SKIP(return, "%s", why);
	self->bar_phys = exp_bar_phys(self->p.pbdf, self->p.bar);
	ASSERT_NE(0U, self->bar_phys);
	self->buf = exp_export(self->p.exp, self->p.bar, priv_ranges, NR_RANGES,
			       O_RDWR | O_CLOEXEC, NULL);
	ASSERT_LE(0, self->buf) TH_LOG("EXPORT: %s", strerror(errno));
	self->imp_nocap = open_without_cap_sys_admin(self->p.imp_node);
	ASSERT_LE(0, self->imp_nocap) TH_LOG("%s: %s", self->p.imp_node,
					     strerror(errno));
}

FIXTURE_TEARDOWN(priv)
{
	if (self->imp_nocap >= 0)
		close(self->imp_nocap);
	if (self->buf >= 0)
		close(self->buf);
	exp_pair_close(&self->p);
}

/* Open @path with @flags and expect EACCES; 0 if so. */
static int refused(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC);

	if (fd >= 0) {
		close(fd);
		return -1;
	}
	return errno == EACCES ? 0 : -1;
}

static int try_open_nodes(void *arg)
{
	PRIV_SELF *self = arg;
	char path[256];

	if (refused(self->p.exp_node, O_RDWR) ||
	    refused(self->p.exp_node, O_RDONLY))
		return 1;
	if (refused(self->p.imp_node, O_RDWR) ||
	    refused(self->p.imp_node, O_RDONLY))
		return 2;
	snprintf(path, sizeof(path), "/sys/kernel/debug/p2pbuf_exporter/%s/state",
		 self->p.pbdf);
	if (refused(path, O_RDONLY))
		return 3;
	if (refused("/sys/kernel/debug/dma_buf/bufinfo", O_RDONLY))
		return 4;
	return 0;
}

static void root_only(struct __test_metadata *_metadata, const char *node)
{
	struct stat st;

	ASSERT_EQ(0, stat(node, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(0600U, st.st_mode & 07777) TH_LOG("%s", node);
	EXPECT_EQ(0U, st.st_uid);
	EXPECT_EQ(0U, st.st_gid);
}

/* The nodes are 0600 root:root and refuse nobody. */
TEST_F(priv, nodes_refuse_unprivileged)
{
	root_only(_metadata, self->p.exp_node);
	root_only(_metadata, self->p.imp_node);
	EXPECT_EQ(0, as_nobody(try_open_nodes, self))
		TH_LOG("exit 1: exporter node, 2: importer node, 3: exporter debugfs, %s",
		       "4: dma-buf debugfs, 100: could not drop privileges");
}

/*
 * Zero the fields of @s from @first up to, not including, @next: __u32
 * counts, flags, handles and enums. The uapi carries addresses only in
 * __aligned_u64 fields, and two such __u32 side by side read as one
 * 8-byte word can look like one: handle 1 next to map type BUS_ADDR (2)
 * is 0x200000001, inside the lab's 8 GiB BAR at 8 GiB.
 */
#define PRIV_CLEAR(s, first, next)					\
	priv_clear(&(s), offsetof(typeof(s), first), offsetof(typeof(s), next))

static void priv_clear(void *s, size_t from, size_t to)
{
	memset((char *)s + from, 0, to - from);
}

/* Any 8-byte word of @p[0..@len) that is a secret address; true if so. */
static bool leaks(const PRIV_SELF *self, const void *p, size_t len)
{
	const unsigned char *b = p;
	unsigned int i;
	size_t off;
	__u64 v;

	/*
	 * Addresses are __aligned_u64 fields: every 8-byte word, once the
	 * caller has cleared the __u32 fields (PRIV_CLEAR).
	 */
	for (off = 0; off + sizeof(v) <= len; off += sizeof(v)) {
		memcpy(&v, b + off, sizeof(v));
		if (v >= self->bar_phys && v < self->bar_phys + self->p.bar_size)
			return true;
		for (i = 0; i < self->nr_secrets; i++)
			if (v == self->secrets[i])
				return true;
	}
	return false;
}

static int nobody_uses_fds(void *arg)
{
	PRIV_SELF *self = arg;
	struct p2pbuf_exp_attach_state att[2];
	struct p2pbuf_imp_seg segs[NR_SEGS];
	struct p2pbuf_exp_info einfo;
	struct p2pbuf_imp_info iinfo;
	struct p2pbuf_imp_status st;
	struct p2pbuf_imp_event ev;
	struct p2pbuf_exp_query q;
	struct p2pbuf_imp_map m;
	unsigned int i;
	int h;

	/*
	 * The files work: the check was at open(). INFO's BAR sizes are sizes,
	 * not addresses, and one may equal the BAR's address (the lab's 8 GiB
	 * BAR at 8 GiB): they are left out of the scan.
	 */
	if (exp_info(self->p.exp, &einfo) || einfo.reserved)
		return 1;
	PRIV_CLEAR(einfo, argsz, bars);
	for (i = 0; i < P2PBUF_EXP_NUM_BARS; i++) {
		/* A reserved field is zero: nothing can hide in it. */
		if (einfo.bars[i].reserved)
			return 1;
		einfo.bars[i].size = 0;
		einfo.bars[i].flags = 0;
	}
	if (leaks(self, &einfo, sizeof(einfo)))
		return 1;
	memset(&iinfo, 0, sizeof(iinfo));
	iinfo.argsz = sizeof(iinfo);
	if (ioctl(self->imp_nocap, P2PBUF_IMP_INFO, &iinfo))
		return 2;
	/* The engine's name is text, not an address. */
	PRIV_CLEAR(iinfo, argsz, dma_max);
	if (leaks(self, &iinfo, sizeof(iinfo)))
		return 2;
	if (self->p.expect == P2PBUF_MAP_NOT_SUPPORTED)
		return 0;

	h = imp_import(self->imp_nocap, self->buf, 0);
	if (h < 0)
		return 3;
	memset(segs, 0, sizeof(segs));
	memset(&m, 0, sizeof(m));
	m.argsz = sizeof(m);
	m.handle = h;
	m.max_segs = NR_SEGS;
	m.segs = (uintptr_t)segs;
	if (ioctl(self->imp_nocap, P2PBUF_IMP_MAP, &m) || !m.nr_segs)
		return 4;
	for (i = 0; i < m.nr_segs && i < NR_SEGS; i++)
		if (segs[i].addr || !segs[i].len)
			return 5;
	PRIV_CLEAR(m, argsz, length);
	if (leaks(self, &m, sizeof(m)) || leaks(self, segs, sizeof(segs)))
		return 6;
	if (imp_status(self->imp_nocap, h, &st))
		return 7;
	PRIV_CLEAR(st, argsz, length);
	if (leaks(self, &st, sizeof(st)))
		return 7;
	/* The second entry stays unwritten: no stack garbage in the scan. */
	memset(att, 0, sizeof(att));
	if (exp_query(self->p.exp, self->buf, att, 2, &q) ||
	    q.nr_attachments != 1)
		return 8;
	PRIV_CLEAR(q, argsz, size);
	PRIV_CLEAR(q, bar, attachments);
	if (q.reserved2)
		return 8;
	q.revoke_reasons = 0;
	for (i = 0; i < ARRAY_SIZE(att); i++)
		PRIV_CLEAR(att[i], importer, reserved);
	if (leaks(self, &q, sizeof(q)) || leaks(self, att, sizeof(att)))
		return 8;
	if (exp_revoke(self->p.exp, P2PBUF_EXP_REVOKE, 0, self->buf) != 1 ||
	    read(self->imp_nocap, &ev, sizeof(ev)) != sizeof(ev))
		return 9;
	PRIV_CLEAR(ev, type, seq);
	if (leaks(self, &ev, sizeof(ev)))
		return 9;
	if (exp_revoke(self->p.exp, P2PBUF_EXP_RESTORE, 0, self->buf) != 1 ||
	    imp_handle_op(self->imp_nocap, P2PBUF_IMP_RELEASE, h))
		return 10;
	return 0;
}

/*
 * Root maps first and records the DMA addresses; nobody, using the same
 * open files, sees none of them nor the BAR's CPU addresses.
 */
TEST_F(priv, no_addresses_without_cap_sys_admin)
{
	struct p2pbuf_imp_seg segs[NR_SEGS];
	struct p2pbuf_imp_map m = { .argsz = sizeof(m), .max_segs = NR_SEGS };
	unsigned int i;
	int h;

	if (self->p.expect != P2PBUF_MAP_NOT_SUPPORTED) {
		h = imp_import(self->p.imp, self->buf, 0);
		ASSERT_LE(0, h) TH_LOG("IMPORT: %s", strerror(errno));
		m.handle = h;
		m.segs = (uintptr_t)segs;
		ASSERT_EQ(0, ioctl(self->p.imp, P2PBUF_IMP_MAP, &m));
		ASSERT_GE(NR_SEGS, m.nr_segs);
		for (i = 0; i < m.nr_segs; i++) {
			/* Root does see them: the search below means something. */
			ASSERT_NE(0U, segs[i].addr);
			self->secrets[self->nr_secrets++] = segs[i].addr;
		}
		ASSERT_EQ(0, imp_handle_op(self->p.imp, P2PBUF_IMP_RELEASE, h));
	}
	/* The provider BAR's CPU address is the other secret. */
	EXPECT_TRUE(leaks(self, &self->bar_phys, sizeof(self->bar_phys)));

	EXPECT_EQ(0, as_nobody(nobody_uses_fds, self))
		TH_LOG("exit 1-2: INFO, 3: IMPORT, 4-6: MAP, 7: STATUS, 8: QUERY, %s",
		       "9-10: REVOKE/RESTORE, 100: could not drop privileges");
}

TEST_HARNESS_MAIN
