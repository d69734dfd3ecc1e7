/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The exporter conformance kit: the adapter interface.
 *
 * conform_test checks a dma-buf exporter of peer-to-peer memory (and, for
 * comparison, exporters of system memory) through p2pbuf_importer, bound
 * to a DMA initiator, and through a small adapter per exporter that knows
 * what only the exporter knows: how to make a buffer of given ranges, how
 * to revoke and restore it, what owns it, and how to read and write the
 * memory behind it without going through any importer. An exporter's author
 * writes one struct conf_exporter (conform_p2pbuf.c is the shortest
 * example), adds a FIXTURE_VARIANT_ADD(conform, ...) line for it in
 * conform_test.c and its file to CONFORM_SRCS in the Makefile, and runs the kit;
 * docs/conformance.rst walks through a first run.
 *
 * Every callback returns 0 (or a file descriptor) on success and -errno on
 * failure. A check the exporter cannot take part in (revoke for an exporter
 * without revocation, for example) is not run: it is reported as SKIP with
 * the reason, never as a pass.
 */
#ifndef P2PBUF_CONFORM_H
#define P2PBUF_CONFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

/* Most ranges one buffer of the kit has. */
#define CONF_MAX_RANGES	8

/*
 * The revoke checks hold one importer's mapping CONF_HOLD_MS after the
 * invalidation (a slow importer); ->revoke must have waited for it and
 * returned within CONF_HOLD_MS + CONF_BOUND_MS.
 */
#define CONF_HOLD_MS	300
#define CONF_BOUND_MS	2000

/* One range of a buffer: where its bytes lie in the exporter's memory. */
struct conf_range {
	__u64 offset;	/* in the exporter's memory (BAR, memfd) */
	__u64 length;	/* page aligned */
};

/* struct conf_exporter.caps */
/* Peer-to-peer memory: importers without peer2peer or revocation refused. */
#define CONF_CAP_P2P		0x1U
/* ->revoke and ->restore exist. */
#define CONF_CAP_REVOKE		0x2U
/* ->close_owner revokes the buffers it owned. */
#define CONF_CAP_OWNER_REVOKES	0x4U
/* Buffers of several ranges (->create with n > 1). */
#define CONF_CAP_MULTI_RANGE	0x8U

/*
 * One exporter under test. @priv is the adapter's, allocated by ->open.
 * The buffer passed to ->revoke, ->restore and ->cpu_rw is the last one
 * ->create made; its ranges stay in the adapter.
 */
struct conf_exporter {
	const char *name;
	/* the dma-buf's exp_name (/sys/kernel/debug/dma_buf/bufinfo) */
	const char *exp_name;
	unsigned int caps;
	/*
	 * map type (enum p2pbuf_map_type) an importer on the lab's initiator
	 * must see; P2PBUF_MAP_UNKNOWN: from P2PBUF_EXPECT_MAP (the route of
	 * the lab's provider), for exporters of the provider's BAR.
	 */
	unsigned int map_type;
	/*
	 * NULL-terminated names (or parts of names) of the exporter's own
	 * functions: a leaked object whose allocation backtrace passes
	 * through one of them is the exporter's (kmemleak_cycles). Required.
	 */
	const char * const *leak_frames;
	/* errno of a map of a revoked buffer (positive, e.g. ENODEV). */
	int revoked_errno;
	/*
	 * Take hold of the exporter (bind the device, open files). 0, or
	 * -errno with @why set: the exporter is not available here, and every
	 * check of it SKIPs with @why.
	 */
	int (*open)(void **priv, char *why, size_t whylen);
	/* Undo ->open, including any buffer still owned. */
	void (*close)(void *priv);
	/*
	 * Largest byte count a single range may have (the BAR's size for a BAR
	 * exporter); ranges are placed below it.
	 */
	__u64 (*space)(void *priv);
	/* A dma-buf of @n ranges (O_RDWR | O_CLOEXEC): its fd or -errno. */
	int (*create)(void *priv, const struct conf_range *r, unsigned int n);
	/* Revoke or restore the buffer @buf (CONF_CAP_REVOKE). */
	int (*revoke)(void *priv, int buf);
	int (*restore)(void *priv, int buf);
	/*
	 * Close what owns the buffers (the exporter's file, the vfio device,
	 * the memfd); ->create works again after the next ->open only.
	 */
	int (*close_owner)(void *priv);
	/*
	 * Copy @len bytes at offset @off of the buffer to (@write false) or
	 * from @data through the exporter's own view of its memory (a CPU
	 * mapping of the BAR, the memfd), not through any importer.
	 */
	int (*cpu_rw)(void *priv, __u64 off, void *data, size_t len,
		      bool write);
};

extern const struct conf_exporter conf_p2pbuf;
extern const struct conf_exporter conf_vfio;
extern const struct conf_exporter conf_udmabuf;
extern const struct conf_exporter conf_heap;

/*
 * Helpers the adapters share (conform_lib.c): the byte at offset @off of a
 * buffer of ranges @r lies at conf_range_off() in the exporter's memory.
 */
__u64 conf_range_off(const struct conf_range *r, unsigned int n, __u64 off,
		     __u64 *left);
/*
 * Copy through a CPU mapping @base of the exporter's memory, range by range;
 * 0, or -EINVAL if [@off, @off + @len) is not all in the buffer.
 */
int conf_copy(unsigned char *base, const struct conf_range *r,
	      unsigned int n, __u64 off, void *data, size_t len, bool write);

#endif /* P2PBUF_CONFORM_H */
