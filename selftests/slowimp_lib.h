/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Opening the lab's misbehaving importer p2pbuf_slowimp (lab/test-modules/,
 * ABI in p2pbuf_slowimp.h) and importing through it, for revoke_slow_test
 * and conform_test.
 */
#ifndef P2PBUF_SLOWIMP_LIB_H
#define P2PBUF_SLOWIMP_LIB_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>

#include "p2pbuf_slowimp.h"

/*
 * Open /dev/p2pbuf-slowimp; if it is missing, load p2pbuf_slowimp.ko from
 * $P2PBUF_TEST_MODDIR first (the lab's build of lab/test-modules) and leave
 * it loaded for later runs. Returns the fd, or -errno with @why set.
 */
static inline int slow_open(char *why, size_t len)
{
	const char *dir = getenv("P2PBUF_TEST_MODDIR");
	char path[512];
	int fd, ko;

	fd = open(P2PBUF_SLOWIMP_NODE, O_RDWR | O_CLOEXEC);
	if (fd >= 0 || errno != ENOENT)
		goto out;
	if (!dir || !*dir) {
		snprintf(why, len, "%s missing and P2PBUF_TEST_MODDIR unset: not in the lab",
			 P2PBUF_SLOWIMP_NODE);
		return -ENOENT;
	}
	snprintf(path, sizeof(path), "%s/p2pbuf_slowimp.ko", dir);
	ko = open(path, O_RDONLY | O_CLOEXEC);
	if (ko < 0 || (syscall(__NR_finit_module, ko, "", 0) && errno != EEXIST)) {
		snprintf(why, len, "cannot load %.160s: %s", path, strerror(errno));
		if (ko >= 0)
			close(ko);
		return -ENODEV;
	}
	close(ko);
	fd = open(P2PBUF_SLOWIMP_NODE, O_RDWR | O_CLOEXEC);
out:
	if (fd < 0) {
		snprintf(why, len, "%s: %s", P2PBUF_SLOWIMP_NODE, strerror(errno));
		return -errno;
	}
	return fd;
}

/* P2PBUF_SLOWIMP_IMPORT of @buf as PCI device @dev; 0 or -1 with errno. */
static inline int slow_import(int fd, int buf, const char *dev, __u32 flags,
			      __u32 hold_ms)
{
	struct p2pbuf_slowimp_import arg = {
		.flags = flags, .fd = buf, .hold_ms = hold_ms,
	};

	snprintf(arg.dev, sizeof(arg.dev), "%s", dev);
	return ioctl(fd, P2PBUF_SLOWIMP_IMPORT, &arg);
}

/* P2PBUF_SLOWIMP_STATUS; 0 or -1 with errno. */
static inline int slow_status(int fd, struct p2pbuf_slowimp_status *st)
{
	memset(st, 0, sizeof(*st));
	return ioctl(fd, P2PBUF_SLOWIMP_STATUS, st);
}

#endif /* P2PBUF_SLOWIMP_LIB_H */
