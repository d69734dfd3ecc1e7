/* SPDX-License-Identifier: GPL-2.0 */
/*
 * importer_test: the "imp" fixture, an open p2pbuf_importer device, and what
 * its tests share: the buffer size, the segment array size and the
 * CAP_SYS_ADMIN helpers.
 */
#ifndef P2PBUF_IMPORTER_FIXTURE_H
#define P2PBUF_IMPORTER_FIXTURE_H

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
	char drv[64];

	if (self->fd < 0)
		return;
	close(self->fd);
	/* A test that unbinds and failed midway: leave the lab bound. */
	if (!p2pbuf_env("P2PBUF_INITIATOR_BDF"))
		return;
	imp_pci_driver(self->bdf, drv, sizeof(drv));
	if (strcmp(drv, "p2pbuf_importer"))
		p2pbuf_pci_bind(self->bdf, "p2pbuf_importer");
}

#endif /* P2PBUF_IMPORTER_FIXTURE_H */
