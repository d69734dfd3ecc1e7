// SPDX-License-Identifier: GPL-2.0
/*
 * p2pbuf tool: commands on devices of either driver - list, info, open,
 * close.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/p2pbuf_exporter.h>
#include <linux/p2pbuf_importer.h>

#include "p2pbuf.h"

/* ------------------------------------------------------------------ */
/* Device information                                                 */

static int exp_info(int fd, struct p2pbuf_exp_info *info)
{
	memset(info, 0, sizeof(*info));
	info->argsz = sizeof(*info);
	return xioctl(fd, P2PBUF_EXP_INFO, info);
}

static int imp_info(int fd, struct p2pbuf_imp_info *info)
{
	memset(info, 0, sizeof(*info));
	info->argsz = sizeof(*info);
	return xioctl(fd, P2PBUF_IMP_INFO, info);
}

static void print_bars(const struct p2pbuf_exp_info *info)
{
	const struct p2pbuf_exp_bar_info *b;
	unsigned int i;

	for (i = 0; i < info->nr_bars && i < P2PBUF_EXP_NUM_BARS; i++) {
		b = &info->bars[i];
		if (!b->size)
			continue;
		printf("    BAR%u  %-9s %s%s%s%s\n", i, size_str(b->size),
		       b->flags & P2PBUF_EXP_BAR_MEM ? "memory" : "I/O",
		       b->flags & P2PBUF_EXP_BAR_MEM64 ? ", 64-bit" : "",
		       b->flags & P2PBUF_EXP_BAR_PREFETCH ? ", prefetchable" : "",
		       b->flags & P2PBUF_EXP_BAR_PROVIDER ?
		       ", p2pdma provider: exportable" : "");
	}
}

static void print_engine(const struct p2pbuf_imp_info *info)
{
	if (info->engine[0])
		printf("    DMA engine \"%.*s\", up to %llu bytes a transfer\n",
		       P2PBUF_IMP_NAME_LEN, info->engine,
		       (unsigned long long)info->dma_max);
	else
		printf("    no DMA engine: imports and maps only\n");
}

/* "vendor:device" of a PCI device from sysfs, "?" if unreadable. */
static void pci_id(const char *bdf, char *buf, size_t len)
{
	char path[PATH_MAX], v[16] = "?", d[16] = "?";
	FILE *f;

	snprintf(path, sizeof(path), SYSFS_PCI "/%s/vendor", bdf);
	f = fopen(path, "re");
	if (f) {
		if (fscanf(f, "0x%15s", v) != 1)
			snprintf(v, sizeof(v), "?");
		fclose(f);
	}
	snprintf(path, sizeof(path), SYSFS_PCI "/%s/device", bdf);
	f = fopen(path, "re");
	if (f) {
		if (fscanf(f, "0x%15s", d) != 1)
			snprintf(d, sizeof(d), "?");
		fclose(f);
	}
	snprintf(buf, len, "%s:%s", v, d);
}

/* INFO of the device @bdf bound to @driver, printed under its name. */
static int list_one(const char *driver, const char *bdf)
{
	struct p2pbuf_exp_info einfo;
	struct p2pbuf_imp_info iinfo;
	char path[PATH_MAX], id[40];
	bool exporter = !strcmp(driver, EXP_DRIVER);
	int fd, ret;

	pci_id(bdf, id, sizeof(id));
	snprintf(path, sizeof(path), "%s%s", exporter ? EXP_NODE : IMP_NODE,
		 bdf);
	printf("  %s  [%s]  %s\n", bdf, id, path);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return fail(-errno, "open %s", path);
	if (exporter) {
		ret = exp_info(fd, &einfo);
		if (!ret)
			print_bars(&einfo);
	} else {
		ret = imp_info(fd, &iinfo);
		if (!ret)
			print_engine(&iinfo);
	}
	close(fd);
	return ret ? fail(ret, "INFO of %s", bdf) : 0;
}

static int list_driver(const char *driver)
{
	char path[PATH_MAX];
	struct dirent **names;
	int i, n, ret = 0, found = 0;

	snprintf(path, sizeof(path), SYSFS_DRIVERS "/%s", driver);
	n = scandir(path, &names, NULL, alphasort);
	if (n < 0) {
		printf("%s: not loaded\n", driver);
		return 0;
	}
	printf("%s:\n", driver);
	for (i = 0; i < n; i++) {
		/* Bound devices are the entries named by PCI address. */
		if (strchr(names[i]->d_name, ':') &&
		    strchr(names[i]->d_name, '.')) {
			found++;
			if (list_one(driver, names[i]->d_name))
				ret = -EIO;
		}
		free(names[i]);
	}
	free(names);
	if (!found)
		printf("  no device bound\n");
	return ret;
}

int cmd_list(int argc, char **argv)
{
	int ret;

	if (argc != 1)
		return usage_of(argv[0]);
	ret = list_driver(EXP_DRIVER);
	if (list_driver(IMP_DRIVER))
		ret = -EIO;
	return ret;
}

int cmd_info(int argc, char **argv)
{
	struct p2pbuf_exp_info einfo;
	struct p2pbuf_imp_info iinfo;
	struct obj *o;
	int ret;

	if (argc != 2)
		return usage_of(argv[0]);
	o = obj_find(argv[1]);
	if (!o)
		o = dev_open(argv[1], argv[1]);
	if (!o)
		return -ENOENT;
	if (o->kind == OBJ_EXP) {
		ret = exp_info(o->fd, &einfo);
		if (ret)
			return fail(ret, "P2PBUF_EXP_INFO");
		printf("  %s: exporter of %u BARs\n", o->bdf, einfo.nr_bars);
		print_bars(&einfo);
	} else if (o->kind == OBJ_IMP) {
		ret = imp_info(o->fd, &iinfo);
		if (ret)
			return fail(ret, "P2PBUF_IMP_INFO");
		printf("  %s: importer (DMA initiator)\n", o->bdf);
		print_engine(&iinfo);
	} else {
		return fail(-EINVAL, "%s is not a device", argv[1]);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Files                                                              */

int cmd_open(int argc, char **argv)
{
	const char *name = take_as(&argc, argv);
	struct obj *o;

	if (argc != 2)
		return usage_of(argv[0]);
	o = dev_open(argv[1], name ? name : argv[1]);
	if (!o)
		return -ENOENT;
	printf("  %s: %s%s\n", o->name,
	       o->kind == OBJ_EXP ? EXP_NODE : IMP_NODE, o->bdf);
	return 0;
}

int cmd_close(int argc, char **argv)
{
	struct obj *o;
	unsigned int i;

	if (argc != 2)
		return usage_of(argv[0]);
	o = obj_find(argv[1]);
	if (!o)
		return fail(-ENOENT, "nothing named '%s'", argv[1]);
	switch (o->kind) {
	case OBJ_EXP:
		/* The exporter revokes every buffer exported through it. */
		close(o->fd);
		printf("  closed exporter file %s%s", EXP_NODE, o->bdf);
		for (i = 0; i < MAX_OBJS; i++)
			if (objs[i].kind == OBJ_BUF && objs[i].dev == o)
				printf("; %s revoked for good", objs[i].name);
		printf("\n");
		break;
	case OBJ_IMP:
		close(o->fd);
		printf("  closed importer file %s%s; its imports are released\n",
		       IMP_NODE, o->bdf);
		break;
	case OBJ_BUF:
		close(o->fd);
		printf("  closed dma-buf %s; imports hold their own reference\n",
		       o->name);
		break;
	default:
		return fail(-EINVAL, "%s is an import: use release", o->name);
	}
	obj_free(o);
	return 0;
}
