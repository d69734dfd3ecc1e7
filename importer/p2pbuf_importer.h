/* SPDX-License-Identifier: GPL-2.0 */
/*
 * p2pbuf importer: private definitions shared by the importer's files.
 *
 * Lock order, outermost first (docs/importer.rst has the reasoning):
 *
 *   p2pbuf_imp_dev.lock
 *     p2pbuf_imp_file.lock
 *       mmap_lock (user copies; never taken below a dma_resv lock)
 *       dma_resv lock of an imported buffer
 *         p2pbuf_imp_engine.lock
 *         p2pbuf_imp_file.ev_lock (spinlock, also taken in the
 *                                  invalidate_mappings callback)
 */
#ifndef P2PBUF_IMPORTER_H
#define P2PBUF_IMPORTER_H

#include <linux/kref.h>
#include <linux/list.h>
#include <linux/miscdevice.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/xarray.h>

#include <linux/p2pbuf_importer.h>

#include "engine.h"

struct dma_buf;
struct dma_buf_attachment;
struct pci_dev;
struct sg_table;

/* Events queued per open file before the oldest are dropped. */
#define P2PBUF_IMP_EVENT_QUEUE	64
/* Imports per open file (each can pin a buffer; dma_buf_pin() kdoc). */
#define P2PBUF_IMP_MAX_IMPORTS	4096

/**
 * struct p2pbuf_imp_dev - one bound PCI device
 * @kref: held by the driver binding and by every open file; the structure
 *	outlives remove() while files are open.
 * @pdev: the device (reference held until the last kref is gone).
 * @misc: the character device /dev/p2pbuf-imp-<BDF>.
 * @lock: protects @files and @dead.
 * @files: open files, struct p2pbuf_imp_file.node.
 * @dead: set by remove(); no file is added afterwards.
 * @engine: the device's DMA engine (@engine.ops NULL if it has none).
 */
struct p2pbuf_imp_dev {
	struct kref kref;
	struct pci_dev *pdev;
	struct miscdevice misc;
	struct mutex lock;	/* @files, @dead */
	struct list_head files;
	bool dead;
	struct p2pbuf_imp_engine engine;
};

/**
 * struct p2pbuf_imp_file - one open file of the character device
 * @idev: the device (kref held).
 * @node: entry in &p2pbuf_imp_dev.files, under &p2pbuf_imp_dev.lock.
 * @lock: serialises the ioctls of this file against each other and against
 *	teardown (close, unbind). Outside every dma_resv lock.
 * @dead: the device was unbound; written under @lock and @ev_lock, read
 *	under either.
 * @imports: handle -> struct p2pbuf_imp_buf; changed under @lock.
 * @nr_imports: entries in @imports, under @lock.
 * @next_handle: cursor of the cyclic handle allocation, under @lock; a
 *	released handle is not reused until the 32-bit space wraps, so queued
 *	events of a released import do not name a new one.
 * @ev_lock: protects the event ring below; taken inside dma_resv locks.
 * @ev_wait: readers and pollers of events.
 * @ev: the event ring.
 * @ev_head: index of the oldest queued event.
 * @ev_count: number of queued events.
 * @ev_seq: sequence number of the latest event generated (dropped or not).
 */
struct p2pbuf_imp_file {
	struct p2pbuf_imp_dev *idev;
	struct list_head node;
	struct mutex lock;	/* ioctls, teardown */
	bool dead;
	struct xarray imports;
	unsigned int nr_imports;
	u32 next_handle;
	spinlock_t ev_lock;	/* event ring, @dead */
	wait_queue_head_t ev_wait;
	struct p2pbuf_imp_event ev[P2PBUF_IMP_EVENT_QUEUE];
	unsigned int ev_head;
	unsigned int ev_count;
	u64 ev_seq;
};

/**
 * struct p2pbuf_imp_buf - one imported dma-buf
 * @file: the owning file.
 * @handle: the handle in @file->imports.
 * @want_pin: imported with P2PBUF_IMP_IMPORT_PINNED.
 * @dmabuf: the buffer (reference held).
 * @attach: the dynamic attachment of the file's PCI device.
 * @sgt: the current mapping, NULL when unmapped.
 * @pinned: dma_buf_pin() is in effect.
 * @invalidated: an invalidation unmapped or unpinned the import and no MAP
 *	succeeded since.
 * @map_type: enum p2pbuf_map_type of the current or last mapping.
 * @nr_segs: DMA segments of @sgt.
 * @length: DMA length of @sgt.
 * @invalidations: invalidation callbacks received.
 * @map_ns: time the last successful MAP spent in dma_buf_map_attachment().
 * @unmap_ns: time the last unmap spent in dma_buf_unmap_attachment().
 * @inval_start_ns: ktime_get_ns() at the entry of the last invalidation.
 * @inval_ns: time from that entry until the import was unmapped, unpinned
 *	and its event queued.
 *
 * The fields from @sgt on are protected by the buffer's dma_resv lock: they
 * change in ioctls (which also hold @file->lock) and in the invalidate_mappings
 * callback (which holds only the dma_resv lock).
 */
struct p2pbuf_imp_buf {
	struct p2pbuf_imp_file *file;
	u32 handle;
	bool want_pin;
	struct dma_buf *dmabuf;
	struct dma_buf_attachment *attach;

	struct sg_table *sgt;
	bool pinned;
	bool invalidated;
	u32 map_type;
	u32 nr_segs;
	u64 length;
	u64 invalidations;
	u64 map_ns;
	u64 unmap_ns;
	u64 inval_start_ns;
	u64 inval_ns;
};

/* main.c */
void p2pbuf_imp_dev_put(struct p2pbuf_imp_dev *idev);

/* cdev.c */
extern const struct file_operations p2pbuf_imp_fops;
void p2pbuf_imp_event_queue(struct p2pbuf_imp_file *file, u32 handle,
			    u64 invalidations);
void p2pbuf_imp_file_kill(struct p2pbuf_imp_file *file);

/* attach.c */
int p2pbuf_imp_buf_import(struct p2pbuf_imp_file *file,
			  struct p2pbuf_imp_import *arg, void __user *uarg);
int p2pbuf_imp_buf_release(struct p2pbuf_imp_file *file, u32 handle);
int p2pbuf_imp_buf_map(struct p2pbuf_imp_file *file,
		       struct p2pbuf_imp_map *arg, void __user *uarg);
int p2pbuf_imp_buf_unmap(struct p2pbuf_imp_file *file, u32 handle);
int p2pbuf_imp_buf_status(struct p2pbuf_imp_file *file,
			  struct p2pbuf_imp_status *arg);
void p2pbuf_imp_buf_release_all(struct p2pbuf_imp_file *file);
struct p2pbuf_imp_buf *p2pbuf_imp_buf_lookup(struct p2pbuf_imp_file *file,
					     u32 handle);

/* timing.c */
int p2pbuf_imp_buf_map_cycles(struct p2pbuf_imp_file *file,
			      struct p2pbuf_imp_map_cycles *arg);
int p2pbuf_imp_buf_timing(struct p2pbuf_imp_file *file,
			  struct p2pbuf_imp_timing *arg);

/* dma.c */
int p2pbuf_imp_engine_probe(struct p2pbuf_imp_engine *eng,
			    struct pci_dev *pdev);
void p2pbuf_imp_engine_remove(struct p2pbuf_imp_engine *eng);
int p2pbuf_imp_buf_dma(struct p2pbuf_imp_file *file,
		       struct p2pbuf_imp_dma *arg);

/* maptype.c */
u32 p2pbuf_imp_map_type(struct pci_dev *pdev, struct sg_table *sgt);

#endif /* P2PBUF_IMPORTER_H */
