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
 */
#include <linux/capability.h>
#include <linux/dma-buf.h>
#include <linux/dma-resv.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/pci.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "p2pbuf_importer.h"

static void p2pbuf_imp_buf_unmap_locked(struct p2pbuf_imp_buf *buf)
{
	u64 t0;

	dma_resv_assert_held(buf->dmabuf->resv);

	if (!buf->sgt)
		return;
	t0 = ktime_get_ns();
	dma_buf_unmap_attachment(buf->attach, buf->sgt, DMA_BIDIRECTIONAL);
	buf->unmap_ns = ktime_get_ns() - t0;
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
 * the exporter's errno.
 */
static void p2pbuf_imp_invalidate_mappings(struct dma_buf_attachment *attach)
{
	struct p2pbuf_imp_buf *buf = attach->importer_priv;
	u64 t0 = ktime_get_ns();

	dma_resv_assert_held(attach->dmabuf->resv);

	p2pbuf_imp_buf_unmap_locked(buf);
	p2pbuf_imp_buf_unpin_locked(buf);
	buf->invalidated = true;
	buf->invalidations++;
	p2pbuf_imp_event_queue(buf->file, buf->handle, buf->invalidations);
	/* For P2PBUF_IMP_TIMING: the importer's share of a revoke. */
	buf->inval_start_ns = t0;
	buf->inval_ns = ktime_get_ns() - t0;
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

static void p2pbuf_imp_buf_destroy(struct p2pbuf_imp_buf *buf)
{
	struct dma_buf *dmabuf = buf->dmabuf;

	dma_resv_lock(dmabuf->resv, NULL);
	p2pbuf_imp_buf_unmap_locked(buf);
	p2pbuf_imp_buf_unpin_locked(buf);
	dma_resv_unlock(dmabuf->resv);

	/* After the detach the callback can no longer run for @buf. */
	dma_buf_detach(dmabuf, buf->attach);
	dma_buf_put(dmabuf);
	kfree(buf);
}

/**
 * p2pbuf_imp_buf_import() - P2PBUF_IMP_IMPORT
 * @file: the file
 * @arg: the validated argument; @arg->handle and @arg->size are set
 * @uarg: the user's argument, to which @arg is copied back
 *
 * Context: @file->lock held.
 * Return: 0, or a negative errno with nothing created: -EBADF, -EINVAL (not
 * a dma-buf), -ENOSPC (too many imports), -ENOMEM, -EFAULT, -EINTR, or the
 * exporter's refusal from its attach or pin callback.
 */
int p2pbuf_imp_buf_import(struct p2pbuf_imp_file *file,
			  struct p2pbuf_imp_import *arg, void __user *uarg)
{
	struct p2pbuf_imp_dev *idev = file->idev;
	struct dma_buf_attachment *attach;
	struct p2pbuf_imp_buf *buf;
	struct dma_buf *dmabuf;
	u32 handle;
	int ret;

	lockdep_assert_held(&file->lock);

	dmabuf = dma_buf_get(arg->fd);
	if (IS_ERR(dmabuf))
		return PTR_ERR(dmabuf);

	buf = kzalloc_obj(*buf);
	if (!buf) {
		ret = -ENOMEM;
		goto err_put_dmabuf;
	}
	buf->file = file;
	buf->dmabuf = dmabuf;
	buf->want_pin = arg->flags & P2PBUF_IMP_IMPORT_PINNED;

	/*
	 * Reserve the handle before attaching: the exporter may invalidate as
	 * soon as the attachment exists, and the event names the handle.
	 */
	if (file->nr_imports >= P2PBUF_IMP_MAX_IMPORTS) {
		ret = -ENOSPC;
		goto err_free_buf;
	}
	ret = xa_alloc_cyclic(&file->imports, &handle, NULL,
			      XA_LIMIT(1, U32_MAX),
			      &file->next_handle, GFP_KERNEL);
	if (ret < 0)
		goto err_free_buf;
	buf->handle = handle;

	attach = dma_buf_dynamic_attach(dmabuf, &idev->pdev->dev,
					&p2pbuf_imp_attach_ops, buf);
	if (IS_ERR(attach)) {
		ret = PTR_ERR(attach);
		goto err_erase_handle;
	}
	buf->attach = attach;

	ret = dma_resv_lock_interruptible(dmabuf->resv, NULL);
	if (ret)
		goto err_detach;
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
			dma_resv_unlock(dmabuf->resv);
			goto err_detach;
		}
		buf->pinned = true;
	}
	dma_resv_unlock(dmabuf->resv);

	arg->handle = handle;
	arg->size = dmabuf->size;
	if (copy_to_user(uarg, arg, sizeof(*arg))) {
		ret = -EFAULT;
		goto err_unpin;
	}
	/* Storing into the slot xa_alloc_cyclic() reserved does not allocate. */
	xa_store(&file->imports, handle, buf, GFP_KERNEL);
	file->nr_imports++;
	return 0;

err_unpin:
	dma_resv_lock(dmabuf->resv, NULL);
	p2pbuf_imp_buf_unpin_locked(buf);
	dma_resv_unlock(dmabuf->resv);
err_detach:
	dma_buf_detach(dmabuf, attach);
err_erase_handle:
	xa_erase(&file->imports, handle);
err_free_buf:
	kfree(buf);
err_put_dmabuf:
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
	xa_erase(&file->imports, handle);
	file->nr_imports--;
	p2pbuf_imp_buf_destroy(buf);
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

	xa_for_each(&file->imports, handle, buf) {
		xa_erase(&file->imports, handle);
		file->nr_imports--;
		p2pbuf_imp_buf_destroy(buf);
	}
}

/* Count the DMA segments of @sgt and copy up to @max of them to @segs. */
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
		p2pbuf_imp_buf_unmap_locked(buf);
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
 *
 * A pinned import that an invalidation unpinned is pinned again first. The
 * segments are collected under the dma_resv lock and copied out after it is
 * dropped (mmap_lock nests outside dma_resv locks). Raw DMA addresses are
 * reported only to CAP_SYS_ADMIN.
 *
 * Context: @file->lock held.
 * Return: 0; -ENOENT; -EBUSY (mapped); -ENOMEM; -EFAULT; -EINTR; the
 * exporter's errno from pin or map (-ENODEV when revoked, -EINVAL when p2pdma
 * cannot route between the devices). Nothing stays mapped on error.
 */
int p2pbuf_imp_buf_map(struct p2pbuf_imp_file *file,
		       struct p2pbuf_imp_map *arg, void __user *uarg)
{
	struct p2pbuf_imp_seg *segs = NULL;
	struct p2pbuf_imp_map_undo undo = {};
	struct p2pbuf_imp_buf *buf;
	struct dma_resv *resv;
	struct sg_table *sgt;
	u32 nr, max = 0;
	u64 length, t0, map_ns;
	bool raw;
	int ret;

	lockdep_assert_held(&file->lock);

	buf = p2pbuf_imp_buf_lookup(file, arg->handle);
	if (!buf)
		return -ENOENT;
	resv = buf->dmabuf->resv;
	raw = arg->max_segs && capable(CAP_SYS_ADMIN);

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
			goto out_unlock;
		buf->pinned = true;
		undo.pinned_now = true;
	}

	t0 = ktime_get_ns();
	sgt = dma_buf_map_attachment(buf->attach, DMA_BIDIRECTIONAL);
	map_ns = ktime_get_ns() - t0;
	if (IS_ERR(sgt)) {
		ret = PTR_ERR(sgt);
		goto err_unpin;
	}

	/* Allocating under dma_resv is allowed: it nests outside fs_reclaim. */
	nr = p2pbuf_imp_sgt_segs(sgt, NULL, 0, false, &length);
	if (arg->max_segs && nr) {
		max = min(arg->max_segs, nr);
		segs = kvmalloc_objs(*segs, max);
		if (!segs) {
			ret = -ENOMEM;
			goto err_unmap;
		}
		p2pbuf_imp_sgt_segs(sgt, segs, max, raw, &length);
	}

	buf->sgt = sgt;
	buf->nr_segs = nr;
	buf->length = length;
	buf->map_type = p2pbuf_imp_map_type(file->idev->pdev, sgt);
	buf->invalidated = false;
	buf->map_ns = map_ns;

	arg->map_type = buf->map_type;
	arg->nr_segs = nr;
	arg->length = length;
	dma_resv_unlock(resv);

	if ((max && copy_to_user(u64_to_user_ptr(arg->segs), segs,
				 array_size(max, sizeof(*segs)))) ||
	    copy_to_user(uarg, arg, sizeof(*arg))) {
		p2pbuf_imp_buf_map_undo(buf, &undo);
		ret = -EFAULT;
	}
	kvfree(segs);
	return ret;

err_unmap:
	dma_buf_unmap_attachment(buf->attach, sgt, DMA_BIDIRECTIONAL);
err_unpin:
	if (undo.pinned_now)
		p2pbuf_imp_buf_unpin_locked(buf);
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
		p2pbuf_imp_buf_unmap_locked(buf);
	else
		ret = -ENXIO;
	dma_resv_unlock(buf->dmabuf->resv);
	return ret;
}

/**
 * p2pbuf_imp_buf_status() - P2PBUF_IMP_STATUS
 * @file: the file
 * @arg: the validated argument; output fields are set
 *
 * Context: @file->lock held.
 * Return: 0, -ENOENT or -EINTR.
 */
int p2pbuf_imp_buf_status(struct p2pbuf_imp_file *file,
			  struct p2pbuf_imp_status *arg)
{
	struct p2pbuf_imp_buf *buf;
	int ret;

	lockdep_assert_held(&file->lock);

	buf = p2pbuf_imp_buf_lookup(file, arg->handle);
	if (!buf)
		return -ENOENT;
	ret = dma_resv_lock_interruptible(buf->dmabuf->resv, NULL);
	if (ret)
		return ret;
	arg->state = 0;
	if (buf->sgt)
		arg->state |= P2PBUF_IMP_STATE_MAPPED;
	if (buf->invalidated)
		arg->state |= P2PBUF_IMP_STATE_INVALIDATED;
	if (buf->pinned)
		arg->state |= P2PBUF_IMP_STATE_PINNED;
	arg->map_type = buf->map_type;
	arg->nr_segs = buf->nr_segs;
	arg->length = buf->length;
	arg->invalidations = buf->invalidations;
	dma_resv_unlock(buf->dmabuf->resv);
	return 0;
}
