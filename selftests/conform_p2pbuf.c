// SPDX-License-Identifier: GPL-2.0
/*
 * Conformance adapter of p2pbuf_exporter: buffers of BAR 2 of the lab's
 * provider (P2PBUF_PROVIDER_BDF), revoked with P2PBUF_EXP_REVOKE, owned by
 * the exporter's file, read back through the BAR mapped from sysfs.
 */
#define _GNU_SOURCE
/* Helpers of p2pbuf_test.h without the harness (one unit has it). */
#define P2PBUF_NO_HARNESS
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/p2pbuf_exporter.h>
#include <linux/p2pbuf_importer.h>

#include "conform.h"
#include "p2pbuf_test.h"

#define CONF_P2PBUF_BAR	2

struct conf_p2pbuf {
	char bdf[32];
	int exp;			/* the exporter's file, owner of buffers */
	unsigned char *bar;		/* the BAR through sysfs resource2 */
	__u64 bar_size;
	struct conf_range r[CONF_MAX_RANGES];
	unsigned int n;
};

static void conf_p2pbuf_close(void *priv)
{
	struct conf_p2pbuf *p = priv;

	if (p->bar != MAP_FAILED)
		munmap(p->bar, p->bar_size);
	if (p->exp >= 0)
		close(p->exp);
	free(p);
}

static int conf_p2pbuf_open(void **priv, char *why, size_t whylen)
{
	const char *bdf = p2pbuf_env("P2PBUF_PROVIDER_BDF");
	struct p2pbuf_exp_info info = { .argsz = sizeof(info) };
	char path[PATH_MAX];
	struct conf_p2pbuf *p;
	int fd, ret;

	if (!bdf) {
		snprintf(why, whylen, "P2PBUF_PROVIDER_BDF not set");
		return -ENOENT;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->bar = MAP_FAILED;
	snprintf(p->bdf, sizeof(p->bdf), "%s", bdf);
	snprintf(path, sizeof(path), "/dev/p2pbuf-exp-%s", bdf);
	p->exp = open(path, O_RDWR | O_CLOEXEC);
	if (p->exp < 0) {
		ret = -errno;
		snprintf(why, whylen, "no %s", path);
		goto err_free;
	}
	if (ioctl(p->exp, P2PBUF_EXP_INFO, &info)) {
		ret = -errno;
		snprintf(why, whylen, "P2PBUF_EXP_INFO failed");
		goto err_free;
	}
	if (!(info.bars[CONF_P2PBUF_BAR].flags & P2PBUF_EXP_BAR_PROVIDER)) {
		ret = -EOPNOTSUPP;
		snprintf(why, whylen, "BAR %d of %s is no p2pdma provider",
			 CONF_P2PBUF_BAR, bdf);
		goto err_free;
	}
	p->bar_size = info.bars[CONF_P2PBUF_BAR].size;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource%d",
		 bdf, CONF_P2PBUF_BAR);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		snprintf(why, whylen, "cannot open %s", path);
		goto err_free;
	}
	p->bar = mmap(NULL, p->bar_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      fd, 0);
	ret = -errno;
	close(fd);
	if (p->bar == MAP_FAILED) {
		/* Debian's CONFIG_IO_STRICT_DEVMEM wants iomem=relaxed. */
		snprintf(why, whylen, "cannot mmap %s (iomem=relaxed?)", path);
		goto err_free;
	}
	*priv = p;
	return 0;
err_free:
	conf_p2pbuf_close(p);
	return ret;
}

static __u64 conf_p2pbuf_space(void *priv)
{
	struct conf_p2pbuf *p = priv;

	return p->bar_size;
}

static int conf_p2pbuf_create(void *priv, const struct conf_range *r,
			      unsigned int n)
{
	struct p2pbuf_exp_range ranges[CONF_MAX_RANGES];
	struct p2pbuf_exp_export arg = {
		.argsz = sizeof(arg), .bar = CONF_P2PBUF_BAR,
		.open_flags = O_RDWR | O_CLOEXEC, .nr_ranges = n,
		.ranges = (uintptr_t)ranges,
	};
	struct conf_p2pbuf *p = priv;
	unsigned int i;

	if (!n || n > CONF_MAX_RANGES)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		ranges[i].offset = r[i].offset;
		ranges[i].length = r[i].length;
	}
	if (ioctl(p->exp, P2PBUF_EXP_EXPORT, &arg))
		return -errno;
	memcpy(p->r, r, n * sizeof(*r));
	p->n = n;
	return arg.fd;
}

static int conf_p2pbuf_revoke_cmd(void *priv, int buf, unsigned long cmd)
{
	struct p2pbuf_exp_revoke arg = { .argsz = sizeof(arg), .fd = buf };
	struct conf_p2pbuf *p = priv;

	return ioctl(p->exp, cmd, &arg) < 0 ? -errno : 0;
}

static int conf_p2pbuf_revoke(void *priv, int buf)
{
	return conf_p2pbuf_revoke_cmd(priv, buf, P2PBUF_EXP_REVOKE);
}

static int conf_p2pbuf_restore(void *priv, int buf)
{
	return conf_p2pbuf_revoke_cmd(priv, buf, P2PBUF_EXP_RESTORE);
}

static int conf_p2pbuf_close_owner(void *priv)
{
	struct conf_p2pbuf *p = priv;
	int ret = close(p->exp) ? -errno : 0;

	p->exp = -1;
	return ret;
}

static int conf_p2pbuf_cpu_rw(void *priv, __u64 off, void *data, size_t len,
			      bool write)
{
	struct conf_p2pbuf *p = priv;

	return conf_copy(p->bar, p->r, p->n, off, data, len, write);
}

static const char * const conf_p2pbuf_frames[] = { "p2pbuf_exp_", NULL };

const struct conf_exporter conf_p2pbuf = {
	.name = "p2pbuf",
	.exp_name = "p2pbuf_exporter",
	.caps = CONF_CAP_P2P | CONF_CAP_REVOKE | CONF_CAP_OWNER_REVOKES |
		CONF_CAP_MULTI_RANGE,
	.map_type = P2PBUF_MAP_UNKNOWN,
	.leak_frames = conf_p2pbuf_frames,
	.revoked_errno = ENODEV,
	.open = conf_p2pbuf_open,
	.close = conf_p2pbuf_close,
	.space = conf_p2pbuf_space,
	.create = conf_p2pbuf_create,
	.revoke = conf_p2pbuf_revoke,
	.restore = conf_p2pbuf_restore,
	.close_owner = conf_p2pbuf_close_owner,
	.cpu_rw = conf_p2pbuf_cpu_rw,
};
