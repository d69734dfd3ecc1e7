/* SPDX-License-Identifier: GPL-2.0 */
/*
 * p2pbuf importer: private definitions shared by the importer's files.
 *
 * Lock order, outermost first (docs/importer.rst has the reasoning):
 *
 *   p2pbuf_imp_dev.lock
 *     p2pbuf_imp_file.lock
 *       dma_resv lock of an imported buffer
 *         p2pbuf_imp_engine.lock
 *         p2pbuf_imp_file.ev_lock (spinlock, also taken in the
 *                                  invalidate_mappings callback)
 *
 * User memory is never faulted in under p2pbuf_imp_file.lock: arguments are
 * copied in and DMA data staged before it is taken, results copied out
 * after it is dropped, or, where a failed copy-out must undo the work
 * (IMPORT, MAP), copied with page faults disabled and retried after the
 * lock was dropped and the pages faulted in (cdev.c).
 */
#ifndef P2PBUF_IMPORTER_H
#define P2PBUF_IMPORTER_H

#include <linux/dma-direction.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/miscdevice.h>
#include <linux/mutex.h>
#include <linux/sizes.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/xarray.h>

#include <linux/p2pbuf_importer.h>

#include "engine.h"

struct dentry;
struct dma_buf;
struct dma_buf_attachment;
struct pci_dev;
struct sg_table;

/* Events queued per open file before the oldest are dropped. */
#define P2PBUF_IMP_EVENT_QUEUE	64
/* Imports per open file. */
#define P2PBUF_IMP_MAX_IMPORTS	4096
/* Default of the max_pinned_bytes parameter: pinned bytes of the module. */
#define P2PBUF_IMP_MAX_PINNED_BYTES	SZ_1G

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
 * @debugfs: the device's directory under p2pbuf_importer/ in debugfs.
 */
struct p2pbuf_imp_dev {
	struct kref kref;
	struct pci_dev *pdev;
	struct miscdevice misc;
	struct mutex lock;	/* @files, @dead */
	struct list_head files;
	bool dead;
	struct p2pbuf_imp_engine engine;
	struct dentry *debugfs;
};

/**
 * struct p2pbuf_imp_file - one open file of the character device
 * @idev: the device (kref held).
 * @admin: the opener had CAP_SYS_ADMIN (file->f_cred): pinned imports and
 *	raw DMA addresses are allowed.
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
	bool admin;
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
 * @handle: the handle in @file->imports; 0 until IMPORT has copied it out,
 *	which keeps events from naming a handle userspace never got. Written
 *	under the dma_resv lock, which the invalidation callback holds.
 * @want_pin: imported with P2PBUF_IMP_IMPORT_PINNED; its size counts
 *	against the max_pinned_bytes parameter until the import is released.
 * @readable: the dma-buf's file was opened for reading; without it the
 *	device never reads the buffer: P2PBUF_IMP_DMA_FROM_BUF is refused.
 * @writable: the dma-buf's file was opened for writing; without it the
 *	device never writes the buffer: P2PBUF_IMP_DMA_TO_BUF is refused.
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
 *
 * The fields from @sgt on are protected by the buffer's dma_resv lock: they
 * change in ioctls (which also hold @file->lock) and in the invalidate_mappings
 * callback (which holds only the dma_resv lock).
 */
struct p2pbuf_imp_buf {
	struct p2pbuf_imp_file *file;
	u32 handle;
	bool want_pin;
	bool readable;
	bool writable;
	struct dma_buf *dmabuf;
	struct dma_buf_attachment *attach;

	struct sg_table *sgt;
	bool pinned;
	bool invalidated;
	u32 map_type;
	u32 nr_segs;
	u64 length;
	u64 invalidations;
};

/**
 * struct p2pbuf_imp_fault - where a copy-out with page faults disabled failed
 * @addr: user address to fault in before the ioctl is retried
 * @len: bytes; 0 when no copy failed
 */
struct p2pbuf_imp_fault {
	void __user *addr;
	size_t len;
};

/*
 * The direction a dma-buf opened @readable and/or @writable is mapped in:
 * what the device may do with the buffer, so that an exporter (or an
 * IOMMU) can refuse the access the dma-buf's mode does not allow. A file
 * with neither mode is refused before (IMPORT, debugfs map_cycles).
 */
static inline enum dma_data_direction p2pbuf_imp_mode_dir(bool readable,
							  bool writable)
{
	if (!writable)
		return DMA_TO_DEVICE;
	return readable ? DMA_BIDIRECTIONAL : DMA_FROM_DEVICE;
}

/* The direction an import is mapped in. */
static inline enum dma_data_direction
p2pbuf_imp_buf_dir(const struct p2pbuf_imp_buf *buf)
{
	return p2pbuf_imp_mode_dir(buf->readable, buf->writable);
}

/* main.c */
void p2pbuf_imp_dev_put(struct p2pbuf_imp_dev *idev);

/* cdev.c */
extern const struct file_operations p2pbuf_imp_fops;
void p2pbuf_imp_event_queue(struct p2pbuf_imp_file *file, u32 handle,
			    u64 invalidations);
void p2pbuf_imp_file_kill(struct p2pbuf_imp_file *file);
int p2pbuf_imp_copy_out_locked(struct p2pbuf_imp_fault *fault,
			       void __user *dst, const void *src, size_t len);
int p2pbuf_imp_buf_status(struct p2pbuf_imp_file *file,
			  struct p2pbuf_imp_status *arg);

/* attach.c */
int p2pbuf_imp_buf_import(struct p2pbuf_imp_file *file,
			  struct p2pbuf_imp_import *arg, void __user *uarg,
			  struct p2pbuf_imp_fault *fault);
int p2pbuf_imp_buf_release(struct p2pbuf_imp_file *file, u32 handle);
int p2pbuf_imp_buf_map(struct p2pbuf_imp_file *file,
		       struct p2pbuf_imp_map *arg, void __user *uarg,
		       struct p2pbuf_imp_fault *fault);
int p2pbuf_imp_buf_unmap(struct p2pbuf_imp_file *file, u32 handle);
void p2pbuf_imp_buf_release_all(struct p2pbuf_imp_file *file);
struct p2pbuf_imp_buf *p2pbuf_imp_buf_lookup(struct p2pbuf_imp_file *file,
					     u32 handle);

/* debugfs.c */
void p2pbuf_imp_debugfs_add(struct p2pbuf_imp_dev *idev);
void p2pbuf_imp_debugfs_remove(struct p2pbuf_imp_dev *idev);
void p2pbuf_imp_debugfs_init(void);
void p2pbuf_imp_debugfs_exit(void);

/* dma.c */
int p2pbuf_imp_engine_probe(struct p2pbuf_imp_engine *eng,
			    struct pci_dev *pdev);
void p2pbuf_imp_engine_remove(struct p2pbuf_imp_engine *eng);
int p2pbuf_imp_buf_dma(struct p2pbuf_imp_file *file,
		       struct p2pbuf_imp_dma *arg, void *kbuf);

/* maptype.c */
u32 p2pbuf_imp_map_type(struct pci_dev *pdev, struct sg_table *sgt);
int p2pbuf_imp_check_reach(struct pci_dev *pdev, struct sg_table *sgt);

#endif /* P2PBUF_IMPORTER_H */
