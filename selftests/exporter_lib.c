// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers that need no test harness: ioctl wrappers for the p2pbuf exporter
 * and importer, the lab's provider/initiator pair, device node paths and a
 * foreign dma-buf. A translation unit of its own, linked into exporter_test
 * and the programs that drive both modules (fault_test, lifetime_test,
 * privilege_test, leak_test, uabi_test); it must not include
 * kselftest_harness.h (see exporter_lib.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <linux/udmabuf.h>

#include "exporter_lib.h"
#define P2PBUF_NO_HARNESS
#include "p2pbuf_test.h"

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif

int exp_info(int fd, struct p2pbuf_exp_info *info)
{
	memset(info, 0, sizeof(*info));
	info->argsz = sizeof(*info);
	return ioctl(fd, P2PBUF_EXP_INFO, info);
}

/* EXPORT ranges; returns the dma-buf fd or -1 with errno. */
int exp_export(int fd, __u32 bar, const struct p2pbuf_exp_range *r,
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

int exp_query(int fd, int buf, struct p2pbuf_exp_attach_state *st,
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
int exp_revoke(int fd, unsigned long cmd, __u32 flags, int buf)
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
int imp_import(int imp, int buf, __u32 flags)
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

int imp_map(int imp, __u32 handle, struct p2pbuf_imp_map *m)
{
	memset(m, 0, sizeof(*m));
	m->argsz = sizeof(*m);
	m->handle = handle;
	return ioctl(imp, P2PBUF_IMP_MAP, m);
}

int imp_handle_op(int imp, unsigned long cmd, __u32 handle)
{
	struct p2pbuf_imp_handle h = {
		.argsz = sizeof(h),
		.handle = handle,
	};

	return ioctl(imp, cmd, &h);
}

int imp_status(int imp, __u32 handle, struct p2pbuf_imp_status *s)
{
	memset(s, 0, sizeof(*s));
	s->argsz = sizeof(*s);
	s->handle = handle;
	return ioctl(imp, P2PBUF_IMP_STATUS, s);
}

char *node_path(char *path, size_t len, const char *pfx, const char *bdf)
{
	snprintf(path, len, "/dev/%s%s", pfx, bdf);
	return path;
}

/* A dma-buf of another exporter (udmabuf), or -1. */
int foreign_dmabuf(void)
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

__u32 exp_expected_map_type(void)
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
	const char *v = getenv("P2PBUF_EXPECT_MAP");
	size_t i;

	for (i = 0; v && i < ARRAY_SIZE(names); i++)
		if (!strcmp(v, names[i].name))
			return names[i].type;
	return P2PBUF_MAP_UNKNOWN;
}

void exp_pair_close(struct exp_pair *p)
{
	if (p->imp >= 0)
		close(p->imp);
	if (p->exp >= 0)
		close(p->exp);
	p->imp = -1;
	p->exp = -1;
}

int exp_pair_open(struct exp_pair *p, char *why, size_t whylen)
{
	struct p2pbuf_exp_info info;
	int i, err;

	memset(p, 0, sizeof(*p));
	p->exp = -1;
	p->imp = -1;
	p->pbdf = getenv("P2PBUF_PROVIDER_BDF");
	p->ibdf = getenv("P2PBUF_INITIATOR_BDF");
	if (!p->pbdf || !*p->pbdf || !p->ibdf || !*p->ibdf) {
		snprintf(why, whylen, "not in the lab: %s unset",
			 "P2PBUF_PROVIDER_BDF or P2PBUF_INITIATOR_BDF");
		return -ENOENT;
	}
	node_path(p->exp_node, sizeof(p->exp_node), "p2pbuf-exp-", p->pbdf);
	node_path(p->imp_node, sizeof(p->imp_node), "p2pbuf-imp-", p->ibdf);
	p->exp = open(p->exp_node, O_RDWR | O_CLOEXEC);
	if (p->exp < 0) {
		err = -errno;
		snprintf(why, whylen, "%s: %s", p->exp_node, strerror(errno));
		exp_pair_close(p);
		return err;
	}
	p->imp = open(p->imp_node, O_RDWR | O_CLOEXEC);
	if (p->imp < 0 || exp_info(p->exp, &info)) {
		err = -errno;
		snprintf(why, whylen, "%s: %s", p->imp < 0 ? p->imp_node :
			 "INFO", strerror(errno));
		exp_pair_close(p);
		return err;
	}
	for (i = 0; i < P2PBUF_EXP_NUM_BARS; i++) {
		if ((info.bars[i].flags & P2PBUF_EXP_BAR_PROVIDER) &&
		    info.bars[i].size > p->bar_size) {
			p->bar = i;
			p->bar_size = info.bars[i].size;
		}
	}
	if (p->bar_size < 64 * PAGE) {
		snprintf(why, whylen, "%s has no provider BAR of 256 KiB", p->pbdf);
		exp_pair_close(p);
		return -ENODEV;
	}
	p->expect = exp_expected_map_type();
	return 0;
}

__u64 exp_bar_phys(const char *bdf, __u32 bar)
{
	unsigned long long start = 0, end, flags;
	char path[256];
	FILE *f;
	__u32 i;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource", bdf);
	f = fopen(path, "re");
	if (!f)
		return 0;
	for (i = 0; i <= bar; i++)
		if (fscanf(f, "%llx %llx %llx", &start, &end, &flags) != 3)
			start = 0;
	fclose(f);
	return start;
}

int exp_debugfs_bufs(const char *bdf, const char *word)
{
	return p2pbuf_exp_state_lines(bdf, "buffer ", word);
}

long exp_debugfs_refused(const char *bdf, const char *reason)
{
	FILE *f = p2pbuf_exp_state_open(bdf);
	char line[256], word[64];
	long n = -ENOENT;
	const char *p;

	if (!f)
		return -errno;
	snprintf(word, sizeof(word), " %s ", reason);
	while (fgets(line, sizeof(line), f)) {
		p = strstr(line, word);
		if (!strncmp(line, "refused attaches:", 17) && p)
			n = strtol(p + strlen(word), NULL, 10);
	}
	fclose(f);
	return n;
}
