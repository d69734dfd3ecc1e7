// SPDX-License-Identifier: GPL-2.0
/*
 * p2pbuf importer: import, map, unmap and release dma-bufs, and the
 * invalidate_mappings callback.
 *
 * Every import is a dynamic, peer-to-peer capable attachment of the bound
 * PCI device. Its mapping state lives under the buffer's dma_resv lock, which
 * the exporter holds when it calls invalidate_mappings; the callback unmaps
 * right there, so the exporter's revoke completes as soon as the callback
 * returns. That is bounded because nothing the importer does with the mapping
 * happens outside the dma_resv lock: the DMA engine is synchronous and runs
 * only with the lock held (dma.c), so no transfer can be in flight while the
 * callback runs and there is no fence to publish or wait for.
 *
 * What the importer does under that foreign lock is bounded too: the
 * mapping's classification looks at a bounded part of it (maptype.c), and
 * fences are waited for before the lock is taken (dma.c).
 */
#include <linux/dma-buf.h>
#include <linux/dma-resv.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/pci.h>
#include <linux/sched.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "p2pbuf_importer.h"
#include "trace.h"

static unsigned long p2pbuf_imp_max_pinned_bytes = P2PBUF_IMP_MAX_PINNED_BYTES;
module_param_named(max_pinned_bytes, p2pbuf_imp_max_pinned_bytes, ulong, 0644);
MODULE_PARM_DESC(max_pinned_bytes,
		 "bytes of pinned imports all open files together may hold, as the sum of their dma-buf sizes (0: none; default 1 GiB)");

/* The dma-buf sizes of every live pinned import, of every file and device. */
static atomic64_t p2pbuf_imp_pinned_bytes = ATOMIC64_INIT(0);

/* ktime_get_ns() when @on (the tracepoint that reports it is enabled). */
static u64 p2pbuf_imp_stamp(bool on)
{
	return on ? ktime_get_ns() : 0;
}

static void p2pbuf_imp_buf_unmap_locked(struct p2pbuf_imp_buf *buf,
					const char *why)
{
	bool trace = trace_p2pbuf_imp_unmap_enabled();
	u64 t0;

	dma_resv_assert_held(buf->dmabuf->resv);

	if (!buf->sgt)
		return;
	t0 = p2pbuf_imp_stamp(trace);
	dma_buf_unmap_attachment(buf->attach, buf->sgt,
				 p2pbuf_imp_buf_dir(buf));
	trace_p2pbuf_imp_unmap(&buf->file->idev->pdev->dev, buf->handle,
			       trace ? ktime_get_ns() - t0 : 0, why);
	buf->sgt = NULL;
	buf->nr_segs = 0;
	buf->length = 0;
}

static void p2pbuf_imp_buf_unpin_locked(struct p2pbuf_imp_buf *buf)
{
	dma_resv_assert_held(buf->dmabuf->resv);

	if (!buf->pinned)
		return;
	dma_buf_unpin(buf->attach);
	buf->pinned = false;
}

/*
 * Called by the exporter with the buffer's dma_resv lock held, when it moves
 * or revokes the buffer. Pinned imports are treated as revocable the way
 * RDMA's pinned-revocable umems are (ib_umem_dmabuf_revoke_locked()): unmap
 * and unpin, so that a revoking exporter that waits for its mappings to go
 * away (vfio-pci, p2pbuf_exporter) completes. The next MAP maps again, and
 * pins again first for a pinned import; a revoked buffer refuses that with
 * the exporter's errno. An import whose IMPORT has not returned its handle
 * yet queues no event: IMPORT queues it once the handle is out.
 */
static void p2pbuf_imp_invalidate_mappings(struct dma_buf_attachment *attach)
{
	struct p2pbuf_imp_buf *buf = attach->importer_priv;
	bool trace = trace_p2pbuf_imp_invalidate_enabled();
	bool mapped = buf->sgt, pinned = buf->pinned;
	u64 t0 = p2pbuf_imp_stamp(trace);

	dma_resv_assert_held(attach->dmabuf->resv);

	p2pbuf_imp_buf_unmap_locked(buf, "invalidate");
	p2pbuf_imp_buf_unpin_locked(buf);
	buf->invalidated = true;
	buf->invalidations++;
	if (buf->handle)
		p2pbuf_imp_event_queue(buf->file, buf->handle,
				       buf->invalidations);
	trace_p2pbuf_imp_invalidate(&buf->file->idev->pdev->dev, buf->handle,
				    buf->invalidations, mapped, pinned, t0,
				    trace ? ktime_get_ns() - t0 : 0);
}

static const struct dma_buf_attach_ops p2pbuf_imp_attach_ops = {
	.allow_peer2peer	= true,
	.invalidate_mappings	= p2pbuf_imp_invalidate_mappings,
};

/**
 * p2pbuf_imp_buf_lookup() - find an import by handle
 * @file: the file
 * @handle: the handle
 *
 * Context: @file->lock held; the import stays valid while it is.
 * Return: the import, or NULL.
 */
struct p2pbuf_imp_buf *p2pbuf_imp_buf_lookup(struct p2pbuf_imp_file *file,
					     u32 handle)
{
	lockdep_assert_held(&file->lock);

	return xa_load(&file->imports, handle);
}

static void p2pbuf_imp_buf_destroy(struct p2pbuf_imp_buf *buf, const char *why)
{
	struct dma_buf *dmabuf = buf->dmabuf;

	dma_resv_lock(dmabuf->resv, NULL);
	p2pbuf_imp_buf_unmap_locked(buf, why);
	p2pbuf_imp_buf_unpin_locked(buf);
	dma_resv_unlock(dmabuf->resv);

	/* After the detach the callback can no longer run for @buf. */
	dma_buf_detach(dmabuf, buf->attach);
	dma_buf_put(dmabuf);
	kfree(buf);
}

/* Take a published import out of @file and destroy it. */
static void p2pbuf_imp_buf_remove(struct p2pbuf_imp_file *file,
				  struct p2pbuf_imp_buf *buf, const char *why)
{
	lockdep_assert_held(&file->lock);

	xa_erase(&file->imports, buf->handle);
	file->nr_imports--;
	if (buf->want_pin)
		atomic64_sub(buf->dmabuf->size, &p2pbuf_imp_pinned_bytes);
	p2pbuf_imp_buf_destroy(buf, why);
}

/*
 * Count a pinned import of @size bytes against max_pinned_bytes, which
 * bounds all files together: a budget per file would let an opener with
 * CAP_SYS_ADMIN pin it once per file it opens. False, with nothing
 * counted, if the sum would exceed the parameter; it cannot overflow, as
 * each addition keeps it at most the parameter. A parameter lowered at
 * runtime refuses new pins only (the sum may stay above it).
 */
static bool p2pbuf_imp_pin_reserve(u64 size)
{
	u64 max = READ_ONCE(p2pbuf_imp_max_pinned_bytes);
	s64 old = atomic64_read(&p2pbuf_imp_pinned_bytes);

	do {
		if (size > max || (u64)old > max - size)
			return false;
	} while (!atomic64_try_cmpxchg(&p2pbuf_imp_pinned_bytes, &old, old + size));
	return true;
}

/*
 * Attach (and pin) @buf->dmabuf; on failure *@why says which step refused.
 * Nothing names the import yet: buf->handle is 0.
 */
static int p2pbuf_imp_buf_attach(struct p2pbuf_imp_file *file,
				 struct p2pbuf_imp_buf *buf, const char **why)
{
	struct p2pbuf_imp_dev *idev = file->idev;
	struct dma_buf_attachment *attach;
	int ret;

	attach = dma_buf_dynamic_attach(buf->dmabuf, &idev->pdev->dev,
					&p2pbuf_imp_attach_ops, buf);
	if (IS_ERR(attach)) {
		*why = "exporter refused attach";
		return PTR_ERR(attach);
	}
	buf->attach = attach;

	ret = dma_resv_lock_interruptible(buf->dmabuf->resv, NULL);
	if (ret) {
		*why = "interrupted";
		goto err_detach;
	}
	/*
	 * The engine lock nests inside dma_resv locks (dma.c); teach lockdep
	 * now rather than on the first transfer.
	 */
	if (IS_ENABLED(CONFIG_LOCKDEP) && idev->engine.ops) {
		mutex_lock(&idev->engine.lock);
		mutex_unlock(&idev->engine.lock);
	}
	if (buf->want_pin) {
		ret = dma_buf_pin(attach);
		if (ret) {
			dma_resv_unlock(buf->dmabuf->resv);
			*why = "exporter refused pin";
			goto err_detach;
		}
		buf->pinned = true;
	}
	dma_resv_unlock(buf->dmabuf->resv);
	return 0;

err_detach:
	dma_buf_detach(buf->dmabuf, attach);
	return ret;
}

/**
 * p2pbuf_imp_buf_import() - P2PBUF_IMP_IMPORT
 * @file: the file
 * @arg: the validated argument; @arg->handle and @arg->size are set
 * @uarg: the user's argument, to which @arg is copied back
 * @fault: set when that copy would have faulted
 *
 * The import is attached (and pinned) first, then a handle is allocated and
 * copied out, and only then published: events name it from that point on,
 * one is queued at once if the exporter invalidated in between. A failure
 * anywhere leaves nothing behind and no event.
 *
 * The import's access follows the dma-buf file's mode: the device reads the
 * buffer only if it was opened for reading, writes it only if it was opened
 * for writing; a file opened for neither is refused.
 *
 * Context: @file->lock held.
 * Return: 0, or a negative errno with nothing created: -EBADF, -EINVAL (not
 * a dma-buf), -EACCES (the dma-buf file was opened neither for reading nor
 * for writing), -EPERM (pinned, and the opener lacked CAP_SYS_ADMIN),
 * -EDQUOT (pinned, beyond max_pinned_bytes), -ENOSPC (too many
 * imports), -ENOMEM, -EFAULT (with @fault set), -EINTR, or the exporter's
 * refusal from its attach or pin callback.
 */
int p2pbuf_imp_buf_import(struct p2pbuf_imp_file *file,
			  struct p2pbuf_imp_import *arg, void __user *uarg,
			  struct p2pbuf_imp_fault *fault)
{
	struct device *dev = &file->idev->pdev->dev;
	bool want_pin = arg->flags & P2PBUF_IMP_IMPORT_PINNED;
	const char *why = "ok";
	struct p2pbuf_imp_buf *buf;
	struct dma_buf *dmabuf;
	bool pin_counted = false;
	u32 handle = 0;
	int ret;

	lockdep_assert_held(&file->lock);

	dmabuf = dma_buf_get(arg->fd);
	if (IS_ERR(dmabuf)) {
		ret = PTR_ERR(dmabuf);
		trace_p2pbuf_imp_attach(dev, NULL, 0, want_pin, ret,
					ret == -EBADF ? "fd not open" :
					"not a dma-buf");
		return ret;
	}
	/*
	 * Pinning keeps an exporter from moving the buffer (amdgpu, xe pin
	 * VRAM): dma_buf_pin() is not for userspace to use at will, so only
	 * an opener with CAP_SYS_ADMIN may ask for it.
	 */
	if (!(dmabuf->file->f_mode & (FMODE_READ | FMODE_WRITE))) {
		why = "dma-buf file opened for neither reading nor writing";
		ret = -EACCES;
		goto err_put_dmabuf;
	}
	if (want_pin && !file->admin) {
		why = "pin needs CAP_SYS_ADMIN of the opener";
		ret = -EPERM;
		goto err_put_dmabuf;
	}
	if (want_pin && !p2pbuf_imp_pin_reserve(dmabuf->size)) {
		why = "beyond max_pinned_bytes";
		ret = -EDQUOT;
		goto err_put_dmabuf;
	}
	pin_counted = want_pin;
	if (file->nr_imports >= P2PBUF_IMP_MAX_IMPORTS) {
		why = "too many imports";
		ret = -ENOSPC;
		goto err_put_dmabuf;
	}
	buf = kzalloc_obj(*buf, GFP_KERNEL_ACCOUNT);
	if (!buf) {
		why = "out of memory";
		ret = -ENOMEM;
		goto err_put_dmabuf;
	}
	buf->file = file;
	buf->dmabuf = dmabuf;
	buf->want_pin = want_pin;
	/* The descriptor's file is the dma-buf's one file: its mode. */
	buf->readable = dmabuf->file->f_mode & FMODE_READ;
	buf->writable = dmabuf->file->f_mode & FMODE_WRITE;

	ret = p2pbuf_imp_buf_attach(file, buf, &why);
	if (ret)
		goto err_free_buf;

	/* Reserved, not stored: a lookup of @handle finds nothing yet. */
	ret = xa_alloc_cyclic(&file->imports, &handle, NULL,
			      XA_LIMIT(1, U32_MAX), &file->next_handle,
			      GFP_KERNEL_ACCOUNT);
	if (ret < 0) {
		why = "no handle";
		goto err_destroy;
	}
	arg->handle = handle;
	arg->size = dmabuf->size;
	ret = p2pbuf_imp_copy_out_locked(fault, uarg, arg, sizeof(*arg));
	if (ret) {
		why = "result not writable";
		goto err_erase_handle;
	}

	/* Storing into the slot xa_alloc_cyclic() reserved does not allocate. */
	xa_store(&file->imports, handle, buf, GFP_KERNEL_ACCOUNT);
	file->nr_imports++;
	dma_resv_lock(dmabuf->resv, NULL);
	buf->handle = handle;
	if (buf->invalidations)
		p2pbuf_imp_event_queue(file, handle, buf->invalidations);
	dma_resv_unlock(dmabuf->resv);
	trace_p2pbuf_imp_attach(dev, dmabuf, handle, want_pin, 0, why);
	return 0;

err_erase_handle:
	xa_erase(&file->imports, handle);
err_destroy:
	trace_p2pbuf_imp_attach(dev, dmabuf, 0, want_pin, ret, why);
	if (pin_counted)
		atomic64_sub(dmabuf->size, &p2pbuf_imp_pinned_bytes);
	/* The destroy puts the dma-buf reference. */
	p2pbuf_imp_buf_destroy(buf, "undo");
	return ret;

err_free_buf:
	kfree(buf);
err_put_dmabuf:
	trace_p2pbuf_imp_attach(dev, dmabuf, 0, want_pin, ret, why);
	if (pin_counted)
		atomic64_sub(dmabuf->size, &p2pbuf_imp_pinned_bytes);
	dma_buf_put(dmabuf);
	return ret;
}

/**
 * p2pbuf_imp_buf_release() - P2PBUF_IMP_RELEASE: unmap and detach an import
 * @file: the file
 * @handle: the import
 *
 * Events already queued for @handle stay queued.
 *
 * Context: @file->lock held.
 * Return: 0 or -ENOENT.
 */
int p2pbuf_imp_buf_release(struct p2pbuf_imp_file *file, u32 handle)
{
	struct p2pbuf_imp_buf *buf;

	lockdep_assert_held(&file->lock);

	buf = p2pbuf_imp_buf_lookup(file, handle);
	if (!buf)
		return -ENOENT;
	p2pbuf_imp_buf_remove(file, buf, "release");
	return 0;
}

/**
 * p2pbuf_imp_buf_release_all() - unmap and detach every import of a file
 * @file: the file, being closed or losing its device
 *
 * Context: @file->lock held.
 */
void p2pbuf_imp_buf_release_all(struct p2pbuf_imp_file *file)
{
	struct p2pbuf_imp_buf *buf;
	unsigned long handle;

	lockdep_assert_held(&file->lock);

	xa_for_each(&file->imports, handle, buf)
		p2pbuf_imp_buf_remove(file, buf, "release");
}

/*
 * Count the DMA segments of @sgt and copy up to @max of them to @segs. A
 * mapping may have hundreds of thousands of segments (1 GiB of 4 KiB pages
 * without an IOMMU); this runs under the exporter's dma_resv lock, a
 * sleeping lock, so it yields now and then.
 */
static u32 p2pbuf_imp_sgt_segs(struct sg_table *sgt, struct p2pbuf_imp_seg *segs,
			       u32 max, bool raw, u64 *length)
{
	struct scatterlist *sg;
	unsigned int i;
	u32 n = 0;

	*length = 0;
	for_each_sgtable_dma_sg(sgt, sg, i) {
		if (n < max) {
			segs[n].addr = raw ? sg_dma_address(sg) : 0;
			segs[n].len = sg_dma_len(sg);
		}
		*length += sg_dma_len(sg);
		n++;
		if (!(n % 4096))
			cond_resched();
	}
	return n;
}

/* The state a MAP changes, to put back when it cannot report success. */
struct p2pbuf_imp_map_undo {
	bool pinned_now;
	bool invalidated;
	u32 map_type;
};

static void p2pbuf_imp_buf_map_undo(struct p2pbuf_imp_buf *buf,
				    const struct p2pbuf_imp_map_undo *undo)
{
	dma_resv_lock(buf->dmabuf->resv, NULL);
	/* An invalidation since the MAP already unmapped; leave its state. */
	if (buf->sgt) {
		p2pbuf_imp_buf_unmap_locked(buf, "undo");
		if (undo->pinned_now)
			p2pbuf_imp_buf_unpin_locked(buf);
		buf->invalidated = undo->invalidated;
		buf->map_type = undo->map_type;
	}
	dma_resv_unlock(buf->dmabuf->resv);
}

/**
 * p2pbuf_imp_buf_map() - P2PBUF_IMP_MAP: map an import for the device
 * @file: the file
 * @arg: the validated argument; output fields are set
 * @uarg: the user's argument, to which @arg is copied back
 * @fault: set when a copy-out would have faulted
 *
 * A pinned import that an invalidation unpinned is pinned again first. The
 * direction asked of the exporter is what the import allows the device:
 * DMA_TO_DEVICE for a read-only import, DMA_FROM_DEVICE for a write-only
 * one, DMA_BIDIRECTIONAL otherwise. A
 * mapping with an address the device's DMA mask does not cover is refused:
 * the device would reach another address. The segments are collected under
 * the dma_resv lock and copied out after it is dropped. Raw DMA addresses
 * are reported only when the opener had CAP_SYS_ADMIN.
 *
 * Context: @file->lock held.
 * Return: 0; -ENOENT; -EBUSY (mapped); -ERANGE (beyond the device's DMA
 * mask); -ENOMEM; -EFAULT (with @fault set); -EINTR; the exporter's errno
 * from pin or map (-ENODEV when revoked, -EINVAL when p2pdma cannot route
 * between the devices). Nothing stays mapped on error.
 */
int p2pbuf_imp_buf_map(struct p2pbuf_imp_file *file,
		       struct p2pbuf_imp_map *arg, void __user *uarg,
		       struct p2pbuf_imp_fault *fault)
{
	struct device *dev = &file->idev->pdev->dev;
	bool trace = trace_p2pbuf_imp_map_enabled();
	struct p2pbuf_imp_seg *segs = NULL;
	struct p2pbuf_imp_map_undo undo = {};
	u64 length, t0, map_ns = 0, classify_ns = 0;
	struct p2pbuf_imp_buf *buf;
	struct dma_resv *resv;
	struct sg_table *sgt;
	u32 nr, max = 0;
	int ret;

	lockdep_assert_held(&file->lock);

	buf = p2pbuf_imp_buf_lookup(file, arg->handle);
	if (!buf)
		return -ENOENT;
	resv = buf->dmabuf->resv;

	ret = dma_resv_lock_interruptible(resv, NULL);
	if (ret)
		return ret;
	if (buf->sgt) {
		ret = -EBUSY;
		goto out_unlock;
	}
	undo.invalidated = buf->invalidated;
	undo.map_type = buf->map_type;
	if (buf->want_pin && !buf->pinned) {
		ret = dma_buf_pin(buf->attach);
		if (ret)
			goto out_trace;
		buf->pinned = true;
		undo.pinned_now = true;
	}

	t0 = p2pbuf_imp_stamp(trace);
	sgt = dma_buf_map_attachment(buf->attach, p2pbuf_imp_buf_dir(buf));
	if (trace)
		map_ns = ktime_get_ns() - t0;
	if (IS_ERR(sgt)) {
		ret = PTR_ERR(sgt);
		goto err_unpin;
	}
	ret = p2pbuf_imp_check_reach(file->idev->pdev, sgt);
	if (ret)
		goto err_unmap;

	/* Allocating under dma_resv is allowed: it nests outside fs_reclaim. */
	nr = p2pbuf_imp_sgt_segs(sgt, NULL, 0, false, &length);
	if (arg->max_segs && nr) {
		max = min(arg->max_segs, nr);
		segs = kvmalloc_objs(*segs, max, GFP_KERNEL_ACCOUNT);
		if (!segs) {
			ret = -ENOMEM;
			goto err_unmap;
		}
		p2pbuf_imp_sgt_segs(sgt, segs, max, file->admin, &length);
	}

	buf->sgt = sgt;
	buf->nr_segs = nr;
	buf->length = length;
	t0 = p2pbuf_imp_stamp(trace);
	buf->map_type = p2pbuf_imp_map_type(file->idev->pdev, sgt);
	if (trace)
		classify_ns = ktime_get_ns() - t0;
	buf->invalidated = false;

	arg->map_type = buf->map_type;
	arg->nr_segs = nr;
	arg->length = length;
	trace_p2pbuf_imp_map(dev, arg->handle, arg->map_type, nr, length,
			     p2pbuf_imp_buf_dir(buf), map_ns, classify_ns, 0);
	dma_resv_unlock(resv);

	if ((max && p2pbuf_imp_copy_out_locked(fault, u64_to_user_ptr(arg->segs),
					       segs, array_size(max, sizeof(*segs)))) ||
	    p2pbuf_imp_copy_out_locked(fault, uarg, arg, sizeof(*arg))) {
		p2pbuf_imp_buf_map_undo(buf, &undo);
		ret = -EFAULT;
	}
	kvfree(segs);
	return ret;

err_unmap:
	dma_buf_unmap_attachment(buf->attach, sgt, p2pbuf_imp_buf_dir(buf));
err_unpin:
	if (undo.pinned_now)
		p2pbuf_imp_buf_unpin_locked(buf);
out_trace:
	trace_p2pbuf_imp_map(dev, arg->handle, 0, 0, 0, p2pbuf_imp_buf_dir(buf),
			     map_ns, 0, ret);
out_unlock:
	dma_resv_unlock(resv);
	return ret;
}

/**
 * p2pbuf_imp_buf_unmap() - P2PBUF_IMP_UNMAP
 * @file: the file
 * @handle: the import
 *
 * A pinned import stays pinned.
 *
 * Context: @file->lock held.
 * Return: 0; -ENOENT; -ENXIO when not mapped (never mapped, unmapped, or
 * unmapped by an invalidation); -EINTR.
 */
int p2pbuf_imp_buf_unmap(struct p2pbuf_imp_file *file, u32 handle)
{
	struct p2pbuf_imp_buf *buf;
	int ret;

	lockdep_assert_held(&file->lock);

	buf = p2pbuf_imp_buf_lookup(file, handle);
	if (!buf)
		return -ENOENT;
	ret = dma_resv_lock_interruptible(buf->dmabuf->resv, NULL);
	if (ret)
		return ret;
	if (buf->sgt)
		p2pbuf_imp_buf_unmap_locked(buf, "unmap");
	else
		ret = -ENXIO;
	dma_resv_unlock(buf->dmabuf->resv);
	return ret;
}
