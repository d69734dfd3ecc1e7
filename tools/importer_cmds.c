// SPDX-License-Identifier: GPL-2.0
/*
 * p2pbuf tool: importer commands - import, map, unmap, release, status,
 * dma - and watch, which prints invalidation events.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/p2pbuf.h>
#include <linux/p2pbuf_importer.h>

#include "p2pbuf.h"

static unsigned int nr_imports;

int cmd_import(int argc, char **argv)
{
	const char *name = take_as(&argc, argv);
	struct p2pbuf_imp_import arg;
	char defname[NAME_LEN];
	struct obj *dev, *buf, *o;
	bool pinned = false;
	int ret;

	if (argc == 4 && !strcmp(argv[3], "pinned")) {
		pinned = true;
		argc--;
	}
	if (argc != 3)
		return usage_of(argv[0]);
	dev = dev_get(argv[1], OBJ_IMP);
	buf = dev ? obj_get(argv[2], OBJ_BUF) : NULL;
	if (!buf)
		return -ENOENT;
	if (!name) {
		snprintf(defname, sizeof(defname), "imp%u", nr_imports + 1);
		name = defname;
	}
	memset(&arg, 0, sizeof(arg));
	arg.argsz = sizeof(arg);
	arg.flags = pinned ? P2PBUF_IMP_IMPORT_PINNED : 0;
	arg.fd = buf->fd;
	ret = xioctl(dev->fd, P2PBUF_IMP_IMPORT, &arg);
	if (ret)
		return fail(ret, "P2PBUF_IMP_IMPORT of %s into %s", buf->name,
			    dev->bdf);
	o = obj_new(OBJ_IMPORT, name, -1);
	if (!o)
		return -ENOSPC;
	nr_imports++;
	o->dev = dev;
	o->handle = arg.handle;
	o->size = arg.size;
	printf("  %s: %s attached to %s, handle %u, %s, %s attachment\n",
	       o->name, buf->name, dev->bdf, arg.handle, size_str(arg.size),
	       pinned ? "pinned revocable" : "dynamic revocable");
	return 0;
}

static struct obj *import_get(const char *name)
{
	struct obj *o = obj_get(name, OBJ_IMPORT);

	if (o && !o->dev) {
		fail(-EBADF, "%s: its importer file is closed", name);
		return NULL;
	}
	return o;
}

int cmd_map(int argc, char **argv)
{
	struct p2pbuf_imp_seg segs[MAX_SEGS];
	struct p2pbuf_imp_map m;
	int expect = -1, ret;
	struct obj *o;
	unsigned int i;

	if (argc == 4 && !strcmp(argv[2], "expect")) {
		for (i = P2PBUF_MAP_UNKNOWN; i <= P2PBUF_MAP_NOT_SUPPORTED; i++)
			if (!strcmp(argv[3], map_type_name(i)))
				expect = i;
		if (expect < 0)
			return fail(-EINVAL, "map type '%s'", argv[3]);
		argc -= 2;
	}
	if (argc != 2)
		return usage_of(argv[0]);
	o = import_get(argv[1]);
	if (!o)
		return -ENOENT;
	memset(&m, 0, sizeof(m));
	memset(segs, 0, sizeof(segs));
	m.argsz = sizeof(m);
	m.handle = o->handle;
	m.max_segs = MAX_SEGS;
	m.segs = (__u64)(unsigned long)segs;
	ret = xioctl(o->dev->fd, P2PBUF_IMP_MAP, &m);
	if (ret)
		return fail(ret, "P2PBUF_IMP_MAP of %s", o->name);
	printf("  %s (importer's view): mapped for %s as %s (%s), %u segment%s, %s\n",
	       o->name, o->dev->bdf, map_type_name(m.map_type),
	       map_type_meaning(m.map_type), m.nr_segs,
	       str_plural(m.nr_segs), size_str(m.length));
	for (i = 0; i < m.nr_segs && i < MAX_SEGS; i++) {
		if (segs[i].addr)
			printf("    segment %u: DMA address 0x%llx, %s\n", i,
			       (unsigned long long)segs[i].addr,
			       size_str(segs[i].len));
		else
			printf("    segment %u: %s (address needs CAP_SYS_ADMIN)\n",
			       i, size_str(segs[i].len));
	}
	if (expect >= 0 && m.map_type != (__u32)expect) {
		printf("  expected %s\n", map_type_name(expect));
		return fail(-EBADMSG, "%s: map type %s, expected %s", o->name,
			    map_type_name(m.map_type), map_type_name(expect));
	}
	return 0;
}

static int handle_op(struct obj *o, unsigned long cmd)
{
	struct p2pbuf_imp_handle arg;

	memset(&arg, 0, sizeof(arg));
	arg.argsz = sizeof(arg);
	arg.handle = o->handle;
	return xioctl(o->dev->fd, cmd, &arg);
}

int cmd_unmap(int argc, char **argv)
{
	struct obj *o;
	int ret;

	if (argc != 2)
		return usage_of(argv[0]);
	o = import_get(argv[1]);
	if (!o)
		return -ENOENT;
	ret = handle_op(o, P2PBUF_IMP_UNMAP);
	if (ret)
		return fail(ret, "P2PBUF_IMP_UNMAP of %s", o->name);
	printf("  %s: unmapped\n", o->name);
	return 0;
}

int cmd_release(int argc, char **argv)
{
	struct obj *o;
	int ret;

	if (argc != 2)
		return usage_of(argv[0]);
	o = import_get(argv[1]);
	if (!o)
		return -ENOENT;
	ret = handle_op(o, P2PBUF_IMP_RELEASE);
	if (ret)
		return fail(ret, "P2PBUF_IMP_RELEASE of %s", o->name);
	printf("  %s: released (unmapped and detached)\n", o->name);
	obj_free(o);
	return 0;
}

int cmd_status(int argc, char **argv)
{
	struct p2pbuf_imp_status st;
	struct obj *o;
	int ret;

	if (argc != 2)
		return usage_of(argv[0]);
	o = import_get(argv[1]);
	if (!o)
		return -ENOENT;
	memset(&st, 0, sizeof(st));
	st.argsz = sizeof(st);
	st.handle = o->handle;
	ret = xioctl(o->dev->fd, P2PBUF_IMP_STATUS, &st);
	if (ret)
		return fail(ret, "P2PBUF_IMP_STATUS of %s", o->name);
	printf("  %s (importer's view): %s%s%s, map type %s,", o->name,
	       st.state & P2PBUF_IMP_STATE_MAPPED ? "mapped" : "not mapped",
	       st.state & P2PBUF_IMP_STATE_INVALIDATED ? ", INVALIDATED" : "",
	       st.state & P2PBUF_IMP_STATE_PINNED ? ", pinned" : "",
	       map_type_name(st.map_type));
	printf(" %u segment%s, %s mapped, %llu invalidation%s\n", st.nr_segs,
	       str_plural(st.nr_segs), size_str(st.length),
	       (unsigned long long)st.invalidations,
	       str_plural(st.invalidations));
	return 0;
}

static int dma_xfer(struct obj *o, __u32 flags, __u64 off, void *data,
		    __u64 len)
{
	struct p2pbuf_imp_dma arg;

	memset(&arg, 0, sizeof(arg));
	arg.argsz = sizeof(arg);
	arg.flags = flags;
	arg.handle = o->handle;
	arg.offset = off;
	arg.length = len;
	arg.data = (__u64)(unsigned long)data;
	return xioctl(o->dev->fd, P2PBUF_IMP_DMA, &arg);
}

static int dma_write(struct obj *o, __u64 off, const char *text, __u64 len)
{
	int ret;

	ret = dma_xfer(o, P2PBUF_IMP_DMA_TO_BUF, off, (void *)text, len);
	if (ret)
		return fail(ret, "P2PBUF_IMP_DMA to %s", o->name);
	printf("  %s: DMA write of %llu bytes at offset 0x%llx, %s's engine -> dma-buf: \"%s\"\n",
	       o->name, (unsigned long long)len, (unsigned long long)off,
	       o->dev->bdf, text);
	return 0;
}

/* dma IMPORT write OFF TEXT | dma IMPORT read OFF LEN [expect TEXT] */
int cmd_dma(int argc, char **argv)
{
	unsigned long long off, len;
	unsigned char *data;
	bool write;
	struct obj *o;
	int ret;

	if (argc < 5)
		return usage_of(argv[0]);
	write = !strcmp(argv[2], "write");
	if ((!write && strcmp(argv[2], "read")) || (write && argc != 5) ||
	    (!write && argc != 5 && (argc != 7 || strcmp(argv[5], "expect"))))
		return usage_of(argv[0]);
	if (num_parse(argv[3], &off))
		return fail(-EINVAL, "offset '%s'", argv[3]);
	if (write)
		len = strlen(argv[4]);
	else if (num_parse(argv[4], &len) || !len || len > 1U << 20)
		return fail(-EINVAL, "length '%s'", argv[4]);
	o = import_get(argv[1]);
	if (!o)
		return -ENOENT;
	if (write)
		return dma_write(o, off, argv[4], len);

	data = calloc(1, len);
	if (!data)
		return fail(-ENOMEM, "%llu bytes", len);
	ret = dma_xfer(o, P2PBUF_IMP_DMA_FROM_BUF, off, data, len);
	if (ret) {
		free(data);
		return fail(ret, "P2PBUF_IMP_DMA from %s", o->name);
	}
	printf("  %s: DMA read of %llu bytes at offset 0x%llx, dma-buf -> %s's engine:\n",
	       o->name, len, off, o->dev->bdf);
	hexdump(data, len, off);
	ret = argc == 7 ? check_expect(o->name, data, len, argv[6]) : 0;
	free(data);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Events                                                             */

static const char *import_name(struct obj *dev, __u32 handle)
{
	unsigned int i;

	for (i = 0; i < MAX_OBJS; i++)
		if (objs[i].kind == OBJ_IMPORT && objs[i].dev == dev &&
		    objs[i].handle == handle)
			return objs[i].name;
	return "(released)";
}

/* watch IMP|DEV [TIMEOUT_MS]: wait for events, print all queued. */
int cmd_watch(int argc, char **argv)
{
	struct p2pbuf_imp_event ev[MAX_EVENTS];
	unsigned long long ms = 5000;
	struct pollfd pfd;
	struct obj *o;
	ssize_t n;
	int i, ret;

	if (argc < 2 || argc > 3 || (argc == 3 && num_parse(argv[2], &ms)) ||
	    ms > INT_MAX)
		return usage_of(argv[0]);
	o = obj_find(argv[1]);
	if (o && o->kind == OBJ_IMPORT)
		o = o->dev;
	else
		o = dev_get(argv[1], OBJ_IMP);
	if (!o)
		return -ENOENT;

	pfd.fd = o->fd;
	pfd.events = POLLIN;
	ret = poll(&pfd, 1, ms);
	if (ret < 0)
		return fail(-errno, "poll");
	if (!ret)
		return fail(-ETIMEDOUT, "no event from %s in %llu ms", o->bdf,
			    ms);
	if (!(pfd.revents & POLLIN))
		return fail(-ENODEV, "%s: device gone (poll 0x%x)", o->bdf,
			    pfd.revents);
	n = read(o->fd, ev, sizeof(ev));
	if (n < 0)
		return fail(-errno, "read events of %s", o->bdf);
	for (i = 0; i < n / (ssize_t)sizeof(ev[0]); i++)
		printf("  event %llu from %s: %s of %s (handle %u), invalidation #%llu\n",
		       (unsigned long long)ev[i].seq, o->bdf,
		       ev[i].type == P2PBUF_IMP_EVENT_INVALIDATED ?
		       "INVALIDATED" : "unknown event",
		       import_name(o, ev[i].handle), ev[i].handle,
		       (unsigned long long)ev[i].invalidations);
	return 0;
}
