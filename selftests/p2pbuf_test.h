/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the p2pbuf selftests: device discovery from the lab's
 * environment, sysfs binding, and errno assertions.
 */
#ifndef P2PBUF_TEST_H
#define P2PBUF_TEST_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"

/* The call must fail with errno e (iommufd_utils.h style). */
#define EXPECT_ERRNO(e, cmd)			\
	({					\
		errno = 0;			\
		ASSERT_EQ(-1, (cmd));		\
		EXPECT_EQ((e), errno);		\
	})

/* Environment set by the lab's guest init (see lab/guest/init.sh). */
static inline const char *p2pbuf_env(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

/* Write a string to a sysfs file; returns 0 or -errno. */
static inline int p2pbuf_sysfs_write(const char *path, const char *val)
{
	int fd, ret = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/* Bind PCI device @bdf to @driver through driver_override; "" unbinds only. */
static inline int p2pbuf_pci_bind(const char *bdf, const char *driver)
{
	char path[256];

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver/unbind", bdf);
	if (access(path, F_OK) == 0)
		p2pbuf_sysfs_write(path, bdf);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override", bdf);
	if (p2pbuf_sysfs_write(path, *driver ? driver : "\n"))
		return -errno;
	if (!*driver)
		return 0;
	return p2pbuf_sysfs_write("/sys/bus/pci/drivers_probe", bdf);
}

#endif /* P2PBUF_TEST_H */
