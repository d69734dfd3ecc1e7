// SPDX-License-Identifier: GPL-2.0
/*
 * exporter_test: the p2pbuf exporter's uAPI, from bad arguments to revoke.
 *
 * Needs the lab: P2PBUF_PROVIDER_BDF bound to p2pbuf_exporter. Attaching and
 * mapping go through the p2pbuf importer bound to P2PBUF_INITIATOR_BDF; the
 * tests that need it SKIP when its node is missing. P2PBUF_EXPECT_MAP says
 * how the topology routes the provider to the initiator.
 *
 * One program in several files: this file holds the fixture and the tests of
 * the node and INFO, then includes the other tests in the order they run
 * (kselftest_harness.h supports one translation unit per program).
 * exporter_lib.c, linked in, holds the helpers that need no harness.
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

#include "p2pbuf_test.h"
#include "exporter_lib.h"

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

	self->expect = exp_expected_map_type();
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
	if (p2pbuf_env("P2PBUF_PROVIDER_BAR_BYTES"))
		EXPECT_EQ(strtoull(p2pbuf_env("P2PBUF_PROVIDER_BAR_BYTES"), NULL, 10),
			  self->bar_size)
			TH_LOG("the lab's provider BAR is P2PBUF_PROVIDER_BAR_BYTES");
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

#include "exporter_test_export.c"
#include "exporter_test_revoke.c"
#include "exporter_test_import.c"

TEST_HARNESS_MAIN
