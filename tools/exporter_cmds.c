// SPDX-License-Identifier: GPL-2.0
/*
 * p2pbuf tool: exporter commands - export, query, revoke, restore - and
 * peek, which reads an exporter's BAR with the CPU.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <linux/p2pbuf_exporter.h>

#include "p2pbuf.h"

static unsigned int nr_bufs;

int cmd_export(int argc, char **argv)
{
	struct p2pbuf_exp_range ranges[16];
	struct p2pbuf_exp_export arg;
	const char *name = take_as(&argc, argv);
	unsigned long long bar, off, len;
	char defname[NAME_LEN], *colon;
	struct obj *dev, *o;
	int i, n, ret;

	if (argc < 4 || argc - 3 > (int)ARRAY_SIZE(ranges))
		return usage_of(argv[0]);
	if (num_parse(argv[2], &bar) || bar >= P2PBUF_EXP_NUM_BARS)
		return usage_of(argv[0]);
	n = argc - 3;
	for (i = 0; i < n; i++) {
		colon = strchr(argv[3 + i], ':');
		if (!colon)
			return usage_of(argv[0]);
		*colon = '\0';
		ret = num_parse(argv[3 + i], &off);
		*colon = ':';
		if (ret || num_parse(colon + 1, &len))
			return usage_of(argv[0]);
		ranges[i].offset = off;
		ranges[i].length = len;
	}
	dev = dev_get(argv[1], OBJ_EXP);
	if (!dev)
		return -ENOENT;
	if (!name) {
		snprintf(defname, sizeof(defname), "buf%u", nr_bufs + 1);
		name = defname;
	}

	memset(&arg, 0, sizeof(arg));
	arg.argsz = sizeof(arg);
	arg.bar = bar;
	arg.open_flags = O_RDWR | O_CLOEXEC;
	arg.nr_ranges = n;
	arg.ranges = (__u64)(unsigned long)ranges;
	ret = xioctl(dev->fd, P2PBUF_EXP_EXPORT, &arg);
	if (ret)
		return fail(ret, "P2PBUF_EXP_EXPORT of BAR %llu of %s", bar,
			    dev->bdf);
	o = obj_new(OBJ_BUF, name, arg.fd);
	if (!o) {
		close(arg.fd);
		return -ENOSPC;
	}
	nr_bufs++;
	o->dev = dev;
	o->size = arg.size;
	printf("  %s: dma-buf fd %d, %s, BAR %llu of %s:", o->name, arg.fd,
	       size_str(arg.size), bar, dev->bdf);
	for (i = 0; i < n; i++)
		printf(" [0x%llx +%s]", (unsigned long long)ranges[i].offset,
		       size_str(ranges[i].length));
	printf("\n");
	return 0;
}

/* A buffer and the exporter file that can act on it. */
static struct obj *buf_with_exporter(const char *name)
{
	struct obj *o = obj_get(name, OBJ_BUF);

	if (o && !o->dev) {
		fail(-EBADF, "%s: its exporter file is closed", name);
		return NULL;
	}
	return o;
}

int cmd_query(int argc, char **argv)
{
	struct p2pbuf_exp_attach_state att[8];
	struct p2pbuf_exp_query q;
	struct obj *o;
	unsigned int i;
	int ret;

	if (argc != 2)
		return usage_of(argv[0]);
	o = buf_with_exporter(argv[1]);
	if (!o)
		return -ENOENT;
	memset(&q, 0, sizeof(q));
	memset(att, 0, sizeof(att));
	q.argsz = sizeof(q);
	q.fd = o->fd;
	q.nr_attachments = ARRAY_SIZE(att);
	q.attachments = (__u64)(unsigned long)att;
	ret = xioctl(o->dev->fd, P2PBUF_EXP_QUERY, &q);
	if (ret)
		return fail(ret, "P2PBUF_EXP_QUERY of %s", o->name);
	printf("  %s (exporter's view): %s, %s, BAR %u, %u range%s,",
	       o->name,
	       q.state == P2PBUF_EXP_BUF_REVOKED ? "REVOKED" : "live",
	       size_str(q.size), q.bar, q.nr_ranges,
	       str_plural(q.nr_ranges));
	printf(" revoked %u time%s, %u attachment%s\n", q.revokes,
	       str_plural(q.revokes), q.nr_attachments,
	       str_plural(q.nr_attachments));
	for (i = 0; i < q.nr_attachments && i < ARRAY_SIZE(att); i++)
		printf("    attached by %.*s: %u mapping%s, map type %s\n",
		       P2PBUF_EXP_NAME_LEN, att[i].importer,
		       att[i].nr_mappings, str_plural(att[i].nr_mappings),
		       att[i].nr_mappings || att[i].map_type ?
		       map_type_name(att[i].map_type) : "(never mapped)");
	return 0;
}

/* revoke|restore BUF, or revoke|restore all DEV. */
int cmd_revoke(int argc, char **argv)
{
	bool restore = !strcmp(argv[0], "restore");
	struct p2pbuf_exp_revoke arg;
	struct obj *dev, *o = NULL;
	int ret;

	memset(&arg, 0, sizeof(arg));
	arg.argsz = sizeof(arg);
	if (argc == 3 && !strcmp(argv[1], "all")) {
		dev = dev_get(argv[2], OBJ_EXP);
		if (!dev)
			return -ENOENT;
		arg.flags = P2PBUF_EXP_REVOKE_ALL;
		arg.fd = -1;
	} else if (argc == 2) {
		o = buf_with_exporter(argv[1]);
		if (!o)
			return -ENOENT;
		dev = o->dev;
		arg.fd = o->fd;
	} else {
		return usage_of(argv[0]);
	}
	ret = xioctl(dev->fd, restore ? P2PBUF_EXP_RESTORE : P2PBUF_EXP_REVOKE,
		     &arg);
	if (ret)
		return fail(ret, "%s", restore ? "P2PBUF_EXP_RESTORE" :
			    "P2PBUF_EXP_REVOKE");
	printf("  %s %s: %u buffer%s changed state%s\n",
	       o ? o->name : "all buffers of", o ? "" : dev->bdf, arg.count,
	       str_plural(arg.count),
	       restore ? "" : "; no importer maps them any more");
	return 0;
}

/* ------------------------------------------------------------------ */
/* The BAR as the CPU sees it, through sysfs resourceN                 */

/* peek BDF BAR OFF LEN [expect TEXT] */
int cmd_peek(int argc, char **argv)
{
	unsigned long long bar, off, len, pgoff;
	long page = sysconf(_SC_PAGESIZE);
	const unsigned char *mmio;
	char path[PATH_MAX];
	unsigned char *data;
	struct stat sb;
	void *map;
	size_t i, maplen;
	int fd, ret;

	if ((argc != 5 && argc != 7) || (argc == 7 && strcmp(argv[5], "expect")))
		return usage_of(argv[0]);
	if (num_parse(argv[2], &bar) || bar >= P2PBUF_EXP_NUM_BARS ||
	    num_parse(argv[3], &off) || num_parse(argv[4], &len) || !len ||
	    len > 1U << 20)
		return usage_of(argv[0]);
	if (strchr(argv[1], '/'))
		return fail(-EINVAL, "PCI address '%s'", argv[1]);
	snprintf(path, sizeof(path), SYSFS_PCI "/%s/resource%llu", argv[1],
		 bar);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail(-errno, "open %s", path);
	if (fstat(fd, &sb) || off + len > (unsigned long long)sb.st_size) {
		close(fd);
		return fail(-EINVAL, "0x%llx+%llu outside %s", off, len, path);
	}
	pgoff = off & ~(unsigned long long)(page - 1);
	maplen = off + len - pgoff;
	map = mmap(NULL, maplen, PROT_READ, MAP_SHARED, fd, pgoff);
	ret = map == MAP_FAILED ? -errno : 0;
	close(fd);
	if (ret)
		return fail(ret, "mmap %s", path);
	data = malloc(len);
	if (!data) {
		munmap(map, maplen);
		return fail(-ENOMEM, "%llu bytes", len);
	}
	/*
	 * One load per byte, as readb() would: MMIO must not be read with
	 * wider or repeated accesses the compiler might choose for memcpy().
	 */
	mmio = (const unsigned char *)map + (off - pgoff);
	for (i = 0; i < len; i++)
		data[i] = __atomic_load_n(&mmio[i], __ATOMIC_RELAXED);
	munmap(map, maplen);

	printf("  BAR %llu of %s read by the CPU (%s), offset 0x%llx:\n", bar,
	       argv[1], path, off);
	hexdump(data, len, off);
	ret = argc == 7 ? check_expect(path, data, len, argv[6]) : 0;
	free(data);
	return ret;
}
