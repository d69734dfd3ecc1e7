// SPDX-License-Identifier: GPL-2.0
/*
 * Conformance adapters of two exporters of system memory, run beside the
 * peer-to-peer ones to show what the checks expect where no BAR is
 * involved: udmabuf (ranges of a sealed memfd, read back through the
 * memfd's own mapping) and the system dma-heap (one allocation, read back
 * through the dma-buf's mmap). Neither revokes; an importer of either sees
 * NOT_P2P.
 */
#define _GNU_SOURCE
/* Helpers of p2pbuf_test.h without the harness (one unit has it). */
#define P2PBUF_NO_HARNESS
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <linux/dma-buf.h>

#include "conform.h"
#include "importer_lib.h"

/* The memfd behind udmabuf buffers. */
#define CONF_MEMFD_SIZE	(16ULL << 20)

struct conf_udmabuf {
	int memfd;			/* the owner of the pages */
	unsigned char *mem;		/* its mapping */
	struct conf_range r[CONF_MAX_RANGES];
	unsigned int n;
};

static void conf_udmabuf_close(void *priv)
{
	struct conf_udmabuf *p = priv;

	if (p->mem != MAP_FAILED)
		munmap(p->mem, CONF_MEMFD_SIZE);
	if (p->memfd >= 0)
		close(p->memfd);
	free(p);
}

static int conf_udmabuf_open(void **priv, char *why, size_t whylen)
{
	struct conf_udmabuf *p;
	int ret;

	if (access("/dev/udmabuf", F_OK)) {
		snprintf(why, whylen, "no /dev/udmabuf (CONFIG_UDMABUF)");
		return -ENOENT;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->mem = MAP_FAILED;
	p->memfd = memfd_create("p2pbuf-conform",
				MFD_ALLOW_SEALING | MFD_CLOEXEC);
	if (p->memfd < 0 || ftruncate(p->memfd, CONF_MEMFD_SIZE) ||
	    fcntl(p->memfd, F_ADD_SEALS, F_SEAL_SHRINK)) {
		ret = -errno;
		snprintf(why, whylen, "sealed memfd of %llu bytes failed",
			 CONF_MEMFD_SIZE);
		goto err_close;
	}
	p->mem = mmap(NULL, CONF_MEMFD_SIZE, PROT_READ | PROT_WRITE,
		      MAP_SHARED, p->memfd, 0);
	if (p->mem == MAP_FAILED) {
		ret = -errno;
		snprintf(why, whylen, "mmap of the memfd failed");
		goto err_close;
	}
	*priv = p;
	return 0;
err_close:
	conf_udmabuf_close(p);
	return ret;
}

static __u64 conf_udmabuf_space(void *priv)
{
	return CONF_MEMFD_SIZE;
}

static int conf_udmabuf_create(void *priv, const struct conf_range *r,
			       unsigned int n)
{
	/* The list header and its items, 8-byte aligned. */
	__u64 arg[(sizeof(struct udmabuf_create_list) +
		   CONF_MAX_RANGES * sizeof(struct udmabuf_create_item) + 7) / 8];
	struct udmabuf_create_list *list = (void *)arg;
	struct conf_udmabuf *p = priv;
	unsigned int i;
	int dev, buf, err;

	if (!n || n > CONF_MAX_RANGES || p->memfd < 0)
		return -EINVAL;
	memset(arg, 0, sizeof(arg));
	list->flags = UDMABUF_FLAGS_CLOEXEC;
	list->count = n;
	for (i = 0; i < n; i++) {
		list->list[i].memfd = p->memfd;
		list->list[i].offset = r[i].offset;
		list->list[i].size = r[i].length;
	}
	dev = open("/dev/udmabuf", O_RDWR | O_CLOEXEC);
	if (dev < 0)
		return -errno;
	buf = ioctl(dev, UDMABUF_CREATE_LIST, list);
	err = -errno;
	close(dev);
	if (buf < 0)
		return err;
	memcpy(p->r, r, n * sizeof(*r));
	p->n = n;
	return buf;
}

/* The memfd goes; the buffer keeps its pages, nothing is revoked. */
static int conf_udmabuf_close_owner(void *priv)
{
	struct conf_udmabuf *p = priv;
	int ret = close(p->memfd) ? -errno : 0;

	p->memfd = -1;
	return ret;
}

static int conf_udmabuf_cpu_rw(void *priv, __u64 off, void *data, size_t len,
			       bool write)
{
	struct conf_udmabuf *p = priv;

	return conf_copy(p->mem, p->r, p->n, off, data, len, write);
}

static const char * const conf_udmabuf_frames[] = { "udmabuf", NULL };

const struct conf_exporter conf_udmabuf = {
	.name = "udmabuf",
	.exp_name = "udmabuf",
	.caps = CONF_CAP_MULTI_RANGE,
	.map_type = P2PBUF_MAP_NOT_P2P,
	.leak_frames = conf_udmabuf_frames,
	.open = conf_udmabuf_open,
	.close = conf_udmabuf_close,
	.space = conf_udmabuf_space,
	.create = conf_udmabuf_create,
	.close_owner = conf_udmabuf_close_owner,
	.cpu_rw = conf_udmabuf_cpu_rw,
};

/* The system heap's buffers are allocations of their own: no offsets. */
#define CONF_HEAP_SIZE	(16ULL << 20)

struct conf_heap {
	int buf;			/* the last buffer, its own view */
	unsigned char *mem;
	size_t len;
};

static void conf_heap_unmap(struct conf_heap *p)
{
	if (p->mem != MAP_FAILED)
		munmap(p->mem, p->len);
	p->mem = MAP_FAILED;
}

static void conf_heap_close(void *priv)
{
	struct conf_heap *p = priv;

	conf_heap_unmap(p);
	if (p->buf >= 0)
		close(p->buf);
	free(p);
}

static int conf_heap_open(void **priv, char *why, size_t whylen)
{
	struct conf_heap *p;

	if (access("/dev/dma_heap/system", F_OK)) {
		snprintf(why, whylen, "no /dev/dma_heap/system (CONFIG_DMABUF_HEAPS_SYSTEM)");
		return -ENOENT;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->buf = -1;
	p->mem = MAP_FAILED;
	*priv = p;
	return 0;
}

static __u64 conf_heap_space(void *priv)
{
	return CONF_HEAP_SIZE;
}

static int conf_heap_create(void *priv, const struct conf_range *r,
			    unsigned int n)
{
	struct conf_heap *p = priv;
	int buf, err;

	/* One range; its offset means nothing to an allocation of its own. */
	if (n != 1)
		return -EINVAL;
	buf = imp_heap_buf(r[0].length);
	if (buf < 0)
		return buf;
	conf_heap_unmap(p);
	if (p->buf >= 0)
		close(p->buf);
	p->len = r[0].length;
	p->buf = dup(buf);
	p->mem = mmap(NULL, p->len, PROT_READ | PROT_WRITE, MAP_SHARED, buf, 0);
	if (p->mem == MAP_FAILED || p->buf < 0) {
		err = -errno;
		conf_heap_unmap(p);
		if (p->buf >= 0)
			close(p->buf);
		p->buf = -1;
		close(buf);
		return err;
	}
	return buf;
}

/* CPU access through the dma-buf's own mmap, bracketed by SYNC. */
static int conf_heap_cpu_rw(void *priv, __u64 off, void *data, size_t len,
			    bool write)
{
	struct dma_buf_sync sync = {
		.flags = DMA_BUF_SYNC_START |
			 (write ? DMA_BUF_SYNC_WRITE : DMA_BUF_SYNC_READ),
	};
	struct conf_heap *p = priv;

	if (p->mem == MAP_FAILED || off > p->len || len > p->len - off)
		return -EINVAL;
	if (ioctl(p->buf, DMA_BUF_IOCTL_SYNC, &sync))
		return -errno;
	if (write)
		memcpy(p->mem + off, data, len);
	else
		memcpy(data, p->mem + off, len);
	sync.flags ^= DMA_BUF_SYNC_START | DMA_BUF_SYNC_END;
	return ioctl(p->buf, DMA_BUF_IOCTL_SYNC, &sync) ? -errno : 0;
}

static const char * const conf_heap_frames[] = { "system_heap", NULL };

const struct conf_exporter conf_heap = {
	.name = "heap",
	.exp_name = "system",
	.caps = 0,
	.map_type = P2PBUF_MAP_NOT_P2P,
	.leak_frames = conf_heap_frames,
	.open = conf_heap_open,
	.close = conf_heap_close,
	.space = conf_heap_space,
	.create = conf_heap_create,
	.cpu_rw = conf_heap_cpu_rw,
};
