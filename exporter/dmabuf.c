// SPDX-License-Identifier: GPL-2.0
/*
 * p2pbuf exporter: dma-buf operations, export, revoke and restore.
 *
 * A buffer is a list of CPU physical ranges of one memory BAR. Importers
 * must attach dynamically, accept peer-to-peer memory and implement
 * invalidate_mappings, because the exporter revokes buffers: when the
 * exporter file that created them is closed, when the device is unbound,
 * and on request (REVOKE). A revoke marks the buffer revoked, invalidates
 * every importer's mappings, waits for the buffer's fences and then until
 * every mapping has been unmapped (dma_buf_invalidate_mappings() explains
 * why both waits are needed). Only then may the MMIO go away.
 */
#include <linux/dma-buf.h>
#include <linux/dma-resv.h>
#include <linux/err.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/jiffies.h>
#include <linux/lockdep.h>
#include <linux/pci.h>
#include <linux/pci-p2pdma.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>

#include "p2pbuf_exporter.h"

static const struct dma_buf_ops p2pbuf_exp_dmabuf_ops;

static int p2pbuf_exp_refuse(struct p2pbuf_exp_buf *buf,
			     struct dma_buf_attachment *attach,
			     enum p2pbuf_exp_refusal why, int err)
{
	atomic_inc(&buf->edev->refused[why]);
	dev_dbg(&buf->edev->pdev->dev, "buffer %llu: refused attach of %s: %d\n",
		buf->id, dev_name(attach->dev), err);
	return err;
}

static int p2pbuf_exp_attach(struct dma_buf *dmabuf,
			     struct dma_buf_attachment *attach)
{
	struct p2pbuf_exp_buf *buf = dmabuf->priv;
	struct p2pbuf_exp_attach *state;
	bool revoked;
	int route;

	if (!attach->peer2peer)
		return p2pbuf_exp_refuse(buf, attach, P2PBUF_EXP_REFUSED_NO_P2P,
					 -EOPNOTSUPP);
	if (!dma_buf_attach_revocable(attach))
		return p2pbuf_exp_refuse(buf, attach,
					 P2PBUF_EXP_REFUSED_NOT_REVOCABLE,
					 -EOPNOTSUPP);

	/* The core calls .attach without the resv lock; we may take it. */
	dma_resv_lock(dmabuf->resv, NULL);
	revoked = buf->revoked;
	dma_resv_unlock(dmabuf->resv);
	if (revoked)
		return p2pbuf_exp_refuse(buf, attach, P2PBUF_EXP_REFUSED_REVOKED,
					 -ENODEV);

	/*
	 * Refuse at attach what mapping would refuse anyway, with an errno
	 * that says why: dma_buf_phys_vec_to_sgt() fails with a bare -EINVAL
	 * for a route p2pdma cannot use.
	 */
	route = p2pbuf_exp_route(buf->edev, attach->dev);
	if (route < 0)
		return p2pbuf_exp_refuse(buf, attach, P2PBUF_EXP_REFUSED_NO_ROUTE,
					 route);

	state = kzalloc_obj(*state);
	if (!state)
		return -ENOMEM;
	state->route = route;
	/* See the top of sgt.c: no IOVA is ever used for BUS_ADDR. */
	state->split = route == PCI_P2PDMA_MAP_THRU_HOST_BRIDGE &&
		       buf->nr_ranges > 1;
	state->map_type = P2PBUF_MAP_UNKNOWN;
	attach->priv = state;
	return 0;
}

static void p2pbuf_exp_detach(struct dma_buf *dmabuf,
			      struct dma_buf_attachment *attach)
{
	struct p2pbuf_exp_attach *state = attach->priv;

	/* The core unlinked the attachment; the importer unmapped it all. */
	WARN_ON_ONCE(state->nr_mappings);
	if (state->bus_sgt) {
		/* Bus addresses only: no DMA mapping, the provider unused. */
		dma_resv_lock(dmabuf->resv, NULL);
		p2pbuf_exp_sgt_unmap(attach, state->bus_sgt, false,
				     DMA_BIDIRECTIONAL);
		dma_resv_unlock(dmabuf->resv);
	}
	kfree(state);
}

static void p2pbuf_exp_maps_drained(struct kref *kref)
{
	struct p2pbuf_exp_buf *buf =
		container_of(kref, struct p2pbuf_exp_buf, maps);

	complete(&buf->maps_done);
}

static struct sg_table *p2pbuf_exp_map(struct dma_buf_attachment *attach,
				       enum dma_data_direction dir)
{
	struct p2pbuf_exp_buf *buf = attach->dmabuf->priv;
	struct p2pbuf_exp_attach *state = attach->priv;
	struct sg_table *sgt;

	dma_resv_assert_held(buf->dmabuf->resv);

	if (buf->revoked)
		return ERR_PTR(-ENODEV);

	/* A BUS_ADDR table never changes: build it once (sgt.c). */
	sgt = state->bus_sgt;
	if (!sgt) {
		sgt = p2pbuf_exp_sgt_map(buf, attach, state->split, dir);
		if (IS_ERR(sgt))
			return sgt;
		state->map_type = p2pbuf_exp_map_type(buf, state->route, sgt);
		if (state->route == PCI_P2PDMA_MAP_BUS_ADDR)
			state->bus_sgt = sgt;
	}
	state->nr_mappings++;
	kref_get(&buf->maps);
	return sgt;
}

static void p2pbuf_exp_unmap(struct dma_buf_attachment *attach,
			     struct sg_table *sgt,
			     enum dma_data_direction dir)
{
	struct p2pbuf_exp_buf *buf = attach->dmabuf->priv;
	struct p2pbuf_exp_attach *state = attach->priv;

	dma_resv_assert_held(buf->dmabuf->resv);

	/* The BUS_ADDR table stays with the attachment until detach. */
	if (sgt != state->bus_sgt)
		p2pbuf_exp_sgt_unmap(attach, sgt, state->split, dir);
	if (!WARN_ON_ONCE(!state->nr_mappings))
		state->nr_mappings--;
	/* Last use of @buf by this mapping: a revoke may be waiting for it. */
	kref_put(&buf->maps, p2pbuf_exp_maps_drained);
}

static void p2pbuf_exp_dmabuf_release(struct dma_buf *dmabuf)
{
	struct p2pbuf_exp_buf *buf = dmabuf->priv;
	struct p2pbuf_exp_dev *edev = buf->edev;

	/*
	 * No attachment is left, so nothing maps the buffer; a revoke never
	 * waits for us either, because it holds a file reference.
	 */
	mutex_lock(&edev->lock);
	list_del(&buf->node);
	mutex_unlock(&edev->lock);

	kfree(buf);
	p2pbuf_exp_dev_put(edev);
}

static const struct dma_buf_ops p2pbuf_exp_dmabuf_ops = {
	.attach		= p2pbuf_exp_attach,
	.detach		= p2pbuf_exp_detach,
	.map_dma_buf	= p2pbuf_exp_map,
	.unmap_dma_buf	= p2pbuf_exp_unmap,
	.release	= p2pbuf_exp_dmabuf_release,
};

/**
 * p2pbuf_exp_export() - export ranges of a BAR as a new dma-buf
 * @edev: the device
 * @owner: the exporter file the buffer belongs to
 * @bar: BAR index, already checked to be below PCI_STD_NUM_BARS
 * @ranges: the ranges, already checked by the caller to be non-zero, page
 *	aligned and without overflow
 * @nr_ranges: number of @ranges, 1 to P2PBUF_EXP_MAX_RANGES
 * @size: sum of the range lengths
 * @open_flags: access mode of the new file
 *
 * Looks the provider up now, on every export, rather than caching it: it
 * belongs to the binding. The buffer may keep the pointer because it cannot
 * use it past remove(), see &struct p2pbuf_exp_buf.
 *
 * Return: the dma-buf with one reference, linked in @edev->bufs; or
 * ERR_PTR(-ENODEV) if the device was unbound, ERR_PTR(-EOPNOTSUPP) if the
 * BAR is not a p2pdma provider, ERR_PTR(-EINVAL) if a range does not fit
 * the BAR, ERR_PTR(-ENOMEM) or another error of dma_buf_export().
 */
struct dma_buf *p2pbuf_exp_export(struct p2pbuf_exp_dev *edev,
				  struct file *owner, u32 bar,
				  const struct p2pbuf_exp_range *ranges,
				  u32 nr_ranges, size_t size, u32 open_flags)
{
	DEFINE_DMA_BUF_EXPORT_INFO(exp_info);
	struct p2pbuf_exp_buf *buf;
	struct dma_buf *dmabuf;
	u32 i;
	int ret;

	buf = kzalloc_flex(*buf, phys_vec, nr_ranges);
	if (!buf)
		return ERR_PTR(-ENOMEM);
	buf->nr_ranges = nr_ranges;
	buf->edev = edev;
	buf->owner = owner;
	buf->bar = bar;
	buf->size = size;
	kref_init(&buf->maps);
	init_completion(&buf->maps_done);

	mutex_lock(&edev->lock);
	if (!edev->bound) {
		ret = -ENODEV;
		goto err_unlock;
	}

	buf->provider = pcim_p2pdma_provider(edev->pdev, bar);
	if (!buf->provider) {
		ret = -EOPNOTSUPP;
		goto err_unlock;
	}

	buf->bar_start = pci_resource_start(edev->pdev, bar);
	buf->bar_len = pci_resource_len(edev->pdev, bar);
	for (i = 0; i < nr_ranges; i++) {
		/* The caller made sure offset + length does not overflow. */
		if (ranges[i].offset + ranges[i].length > buf->bar_len) {
			ret = -EINVAL;
			goto err_unlock;
		}
		buf->phys_vec[i].paddr = buf->bar_start + ranges[i].offset;
		buf->phys_vec[i].len = ranges[i].length;
	}

	exp_info.ops = &p2pbuf_exp_dmabuf_ops;
	exp_info.size = size;
	exp_info.flags = open_flags;
	exp_info.priv = buf;
	dmabuf = dma_buf_export(&exp_info);
	if (IS_ERR(dmabuf)) {
		ret = PTR_ERR(dmabuf);
		goto err_unlock;
	}

	/* The dma-buf owns @buf now: its release frees it. */
	buf->dmabuf = dmabuf;
	buf->id = edev->next_buf_id++;
	p2pbuf_exp_dev_get(edev);
	list_add_tail(&buf->node, &edev->bufs);
	mutex_unlock(&edev->lock);
	return dmabuf;

err_unlock:
	mutex_unlock(&edev->lock);
	kfree(buf);
	return ERR_PTR(ret);
}

/**
 * p2pbuf_exp_buf_get() - look up a buffer by dma-buf fd
 * @edev: the device of @owner
 * @owner: the exporter file that must have exported the buffer
 * @fd: the dma-buf file descriptor
 *
 * Return: the buffer, with a reference on its dma-buf that
 * p2pbuf_exp_buf_put() drops; ERR_PTR(-EBADF) if @fd is not open,
 * ERR_PTR(-EINVAL) if it is not a dma-buf exported through @owner.
 */
struct p2pbuf_exp_buf *p2pbuf_exp_buf_get(struct p2pbuf_exp_dev *edev,
					  struct file *owner, int fd)
{
	struct p2pbuf_exp_buf *buf;
	struct dma_buf *dmabuf;
	bool owned;

	dmabuf = dma_buf_get(fd);
	if (IS_ERR(dmabuf))
		return ERR_CAST(dmabuf);

	if (dmabuf->ops != &p2pbuf_exp_dmabuf_ops) {
		dma_buf_put(dmabuf);
		return ERR_PTR(-EINVAL);
	}

	buf = dmabuf->priv;
	mutex_lock(&edev->lock);
	owned = buf->owner == owner;
	mutex_unlock(&edev->lock);
	if (!owned) {
		dma_buf_put(dmabuf);
		return ERR_PTR(-EINVAL);
	}
	return buf;
}

/**
 * p2pbuf_exp_buf_put() - drop the reference p2pbuf_exp_buf_get() took
 * @buf: the buffer
 */
void p2pbuf_exp_buf_put(struct p2pbuf_exp_buf *buf)
{
	dma_buf_put(buf->dmabuf);
}

/*
 * Gather the buffers of @edev matching @owner (NULL: any) and @only (NULL:
 * any) whose revoked state is @revoked, each with a file reference so that
 * it cannot be released while we work on it. A buffer whose file is already
 * dying is skipped: nobody can attach to it or map it any more.
 */
static void p2pbuf_exp_collect(struct p2pbuf_exp_dev *edev,
			       struct file *owner, struct p2pbuf_exp_buf *only,
			       bool revoked, struct list_head *batch)
{
	struct p2pbuf_exp_buf *buf;

	lockdep_assert_held(&edev->revoke_lock);

	mutex_lock(&edev->lock);
	list_for_each_entry(buf, &edev->bufs, node) {
		if ((owner && buf->owner != owner) || (only && buf != only))
			continue;
		if (buf->revoked != revoked)
			continue;
		if (!get_file_active(&buf->dmabuf->file))
			continue;
		list_add_tail(&buf->revoke_node, batch);
	}
	mutex_unlock(&edev->lock);
}

static void p2pbuf_exp_report_holders(struct p2pbuf_exp_buf *buf)
{
	struct device *dev = &buf->edev->pdev->dev;
	struct dma_buf_attachment *attach;

	if (!dma_resv_trylock(buf->dmabuf->resv)) {
		dev_warn_ratelimited(dev, "buffer %llu: revoke still waits for %u mapping(s)\n",
				     buf->id, kref_read(&buf->maps));
		return;
	}
	list_for_each_entry(attach, &buf->dmabuf->attachments, node) {
		struct p2pbuf_exp_attach *state = attach->priv;

		if (state->nr_mappings)
			dev_warn_ratelimited(dev, "buffer %llu: revoke still waits for %s to unmap %u mapping(s)\n",
					     buf->id, dev_name(attach->dev),
					     state->nr_mappings);
	}
	dma_resv_unlock(buf->dmabuf->resv);
}

/**
 * p2pbuf_exp_revoke() - revoke buffers and wait until nothing maps them
 * @edev: the device
 * @owner: only buffers exported through this file; NULL for all
 * @only: only this buffer; NULL for all that match @owner
 *
 * For each live buffer: under its resv lock mark it revoked, invalidate
 * every importer's mappings and wait for all its fences; then, without the
 * lock, wait until the importers have unmapped. The wait does not give up:
 * the MMIO must stay valid until the last unmap. It names the importers
 * that still hold mappings every %P2PBUF_EXP_REVOKE_WARN_MS.
 *
 * Context: process context, @edev->revoke_lock held; sleeps.
 * Return: the number of buffers that were revoked by this call.
 */
u32 p2pbuf_exp_revoke(struct p2pbuf_exp_dev *edev, struct file *owner,
		      struct p2pbuf_exp_buf *only)
{
	unsigned long warn = msecs_to_jiffies(P2PBUF_EXP_REVOKE_WARN_MS);
	struct p2pbuf_exp_buf *buf, *tmp;
	LIST_HEAD(batch);
	u32 count = 0;

	lockdep_assert_held(&edev->revoke_lock);

	p2pbuf_exp_collect(edev, owner, only, false, &batch);

	/* Stop all of them first, so that their importers unmap in parallel. */
	list_for_each_entry(buf, &batch, revoke_node) {
		struct dma_resv *resv = buf->dmabuf->resv;

		dma_resv_lock(resv, NULL);
		buf->revoked = true;
		buf->revokes++;
		dma_buf_invalidate_mappings(buf->dmabuf);
		dma_resv_wait_timeout(resv, DMA_RESV_USAGE_BOOKKEEP, false,
				      MAX_SCHEDULE_TIMEOUT);
		dma_resv_unlock(resv);
		/* Drop the base reference: @maps_done fires at the last unmap. */
		kref_put(&buf->maps, p2pbuf_exp_maps_drained);
	}

	list_for_each_entry_safe(buf, tmp, &batch, revoke_node) {
		while (!wait_for_completion_timeout(&buf->maps_done, warn))
			p2pbuf_exp_report_holders(buf);
		/*
		 * Re-arm for the next restore: the buffer is revoked, so no
		 * map can take a reference until p2pbuf_exp_restore(), which
		 * needs the revoke_lock we hold.
		 */
		kref_init(&buf->maps);
		reinit_completion(&buf->maps_done);

		list_del(&buf->revoke_node);
		fput(buf->dmabuf->file);
		count++;
	}
	return count;
}

/**
 * p2pbuf_exp_restore() - make revoked buffers mappable again
 * @edev: the device, still bound
 * @owner: only buffers exported through this file; NULL for all
 * @only: only this buffer; NULL for all that match @owner
 *
 * A revoke left no mapping behind, so there is nothing to invalidate:
 * importers find out on their next map, which now succeeds.
 *
 * Context: @edev->revoke_lock held.
 * Return: the number of buffers that were restored by this call.
 */
u32 p2pbuf_exp_restore(struct p2pbuf_exp_dev *edev, struct file *owner,
		       struct p2pbuf_exp_buf *only)
{
	struct p2pbuf_exp_buf *buf, *tmp;
	LIST_HEAD(batch);
	u32 count = 0;

	lockdep_assert_held(&edev->revoke_lock);

	p2pbuf_exp_collect(edev, owner, only, true, &batch);
	list_for_each_entry_safe(buf, tmp, &batch, revoke_node) {
		dma_resv_lock(buf->dmabuf->resv, NULL);
		buf->revoked = false;
		dma_resv_unlock(buf->dmabuf->resv);

		list_del(&buf->revoke_node);
		fput(buf->dmabuf->file);
		count++;
	}
	return count;
}

/**
 * p2pbuf_exp_disown() - detach buffers from a closing exporter file
 * @edev: the device
 * @owner: the file being released
 *
 * Called after p2pbuf_exp_revoke() for the same file; the buffers stay
 * revoked for good because no file can restore them any more.
 *
 * Context: @edev->revoke_lock held.
 */
void p2pbuf_exp_disown(struct p2pbuf_exp_dev *edev, struct file *owner)
{
	struct p2pbuf_exp_buf *buf;

	lockdep_assert_held(&edev->revoke_lock);

	mutex_lock(&edev->lock);
	list_for_each_entry(buf, &edev->bufs, node)
		if (buf->owner == owner)
			buf->owner = NULL;
	mutex_unlock(&edev->lock);
}

/**
 * p2pbuf_exp_query() - report a buffer's state and attachments
 * @buf: the buffer
 * @q: QUERY argument; @q->nr_attachments is the capacity on entry and the
 *	number of attachments on return
 * @states: on success, a kvmalloc'ed array the caller frees (or NULL)
 * @nr_states: on success, the number of entries in @states
 *
 * The caller copies @states to userspace after this returns, outside the
 * resv lock (copy_to_user() may fault, and mmap_lock nests outside resv).
 *
 * Return: 0, or -ENOMEM.
 */
int p2pbuf_exp_query(struct p2pbuf_exp_buf *buf, struct p2pbuf_exp_query *q,
		     struct p2pbuf_exp_attach_state **states, u32 *nr_states)
{
	struct p2pbuf_exp_attach_state *out = NULL;
	struct dma_buf_attachment *attach;
	u32 n = 0, want;

	dma_resv_lock(buf->dmabuf->resv, NULL);
	list_for_each_entry(attach, &buf->dmabuf->attachments, node)
		n++;

	want = min(q->nr_attachments, n);
	if (want) {
		/* GFP_KERNEL is fine under resv: reclaim nests inside it. */
		out = kvzalloc_objs(*out, want);
		if (!out) {
			dma_resv_unlock(buf->dmabuf->resv);
			return -ENOMEM;
		}
	}

	n = 0;
	list_for_each_entry(attach, &buf->dmabuf->attachments, node) {
		struct p2pbuf_exp_attach *state = attach->priv;

		if (n < want) {
			strscpy(out[n].importer, dev_name(attach->dev));
			out[n].map_type = state->map_type;
			out[n].nr_mappings = state->nr_mappings;
		}
		n++;
	}

	q->state = buf->revoked ? P2PBUF_EXP_BUF_REVOKED : P2PBUF_EXP_BUF_LIVE;
	q->size = buf->size;
	q->bar = buf->bar;
	q->nr_ranges = buf->nr_ranges;
	q->revokes = buf->revokes;
	q->nr_attachments = n;
	dma_resv_unlock(buf->dmabuf->resv);

	*states = out;
	*nr_states = want;
	return 0;
}
