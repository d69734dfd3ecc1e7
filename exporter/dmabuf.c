// SPDX-License-Identifier: GPL-2.0
/*
 * p2pbuf exporter: dma-buf operations and export.
 *
 * A buffer is a list of CPU physical ranges of one memory BAR. Importers
 * must attach dynamically, accept peer-to-peer memory and implement
 * invalidate_mappings, because the exporter revokes buffers (revoke.c):
 * when the exporter file that created them is closed, when the device is
 * unbound, reset, recovers from an error, suspends or stops decoding
 * memory, and on request (REVOKE).
 */
#include <linux/bits.h>
#include <linux/delay.h>
#include <linux/dma-buf.h>
#include <linux/dma-resv.h>
#include <linux/err.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/lockdep.h>
#include <linux/minmax.h>
#include <linux/moduleparam.h>
#include <linux/pci.h>
#include <linux/pci-p2pdma.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>

#include "p2pbuf_exporter.h"
#define CREATE_TRACE_POINTS
#include "trace.h"

static const struct dma_buf_ops p2pbuf_exp_dmabuf_ops;

static bool p2pbuf_exp_allow_nonprefetchable;
module_param_named(allow_nonprefetchable, p2pbuf_exp_allow_nonprefetchable,
		   bool, 0644);
MODULE_PARM_DESC(allow_nonprefetchable,
		 "Export non-prefetchable (register) BARs too; importers may read them speculatively (default N)");

/*
 * Test only: selftests/race_test's attach_while_unbind sets it to hold an
 * attach between its revoke check and its p2pdma route lookup (both under
 * the resv lock) long enough for an unbind to try to run. Never set it
 * otherwise. The sleep holds the resv lock, which every importer of the
 * buffer and every revoke need, so it is bounded: a larger value is
 * refused with -EINVAL.
 */
#define P2PBUF_EXP_TEST_ATTACH_DELAY_MAX_MS	2000

static unsigned int p2pbuf_exp_test_attach_delay_ms;

static int p2pbuf_exp_test_attach_delay_set(const char *val,
					    const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, 0,
				     P2PBUF_EXP_TEST_ATTACH_DELAY_MAX_MS);
}

static const struct kernel_param_ops p2pbuf_exp_test_attach_delay_ops = {
	.set	= p2pbuf_exp_test_attach_delay_set,
	.get	= param_get_uint,
};

module_param_cb(test_attach_delay_ms, &p2pbuf_exp_test_attach_delay_ops,
		&p2pbuf_exp_test_attach_delay_ms, 0600);
__MODULE_PARM_TYPE(test_attach_delay_ms, "uint");
MODULE_PARM_DESC(test_attach_delay_ms,
		 "TEST ONLY, never set in production: delay in ms (0-2000) inside .attach, under the buffer's resv lock, to widen the attach/unbind race (default 0)");

static int p2pbuf_exp_refuse(struct p2pbuf_exp_buf *buf,
			     struct dma_buf_attachment *attach,
			     enum p2pbuf_exp_refusal why, int err)
{
	atomic_inc(&buf->edev->refused[why]);
	trace_p2pbuf_exp_attach_refused(buf, attach, why, err);
	dev_dbg(&buf->edev->pdev->dev, "buffer %llu: refused attach of %s: %d\n",
		buf->id, dev_name(attach->dev), err);
	return err;
}

static int p2pbuf_exp_attach(struct dma_buf *dmabuf,
			     struct dma_buf_attachment *attach)
{
	struct p2pbuf_exp_buf *buf = dmabuf->priv;
	struct p2pbuf_exp_attach *state;
	unsigned int delay_ms;
	int route;

	if (!attach->peer2peer)
		return p2pbuf_exp_refuse(buf, attach, P2PBUF_EXP_REFUSED_NO_P2P,
					 -EOPNOTSUPP);
	if (!dma_buf_attach_revocable(attach))
		return p2pbuf_exp_refuse(buf, attach,
					 P2PBUF_EXP_REFUSED_NOT_REVOCABLE,
					 -EOPNOTSUPP);

	/*
	 * The core calls .attach without the resv lock; we take it. The route
	 * lookup reaches the provider's p2pdma state, which devres frees
	 * after remove(); remove() revokes every buffer under this lock
	 * first, so a buffer found live here keeps that state alive until
	 * we unlock. Refuse at attach what mapping would refuse anyway, with
	 * an errno that says why: dma_buf_phys_vec_to_sgt() fails with a bare
	 * -EINVAL for a route p2pdma cannot use.
	 */
	dma_resv_lock(dmabuf->resv, NULL);
	if (buf->revoked) {
		dma_resv_unlock(dmabuf->resv);
		return p2pbuf_exp_refuse(buf, attach, P2PBUF_EXP_REFUSED_REVOKED,
					 -ENODEV);
	}
	delay_ms = min(READ_ONCE(p2pbuf_exp_test_attach_delay_ms),
		       P2PBUF_EXP_TEST_ATTACH_DELAY_MAX_MS);
	if (delay_ms)
		msleep(delay_ms);
	route = p2pbuf_exp_route(buf, attach->dev);
	dma_resv_unlock(dmabuf->resv);
	if (route < 0)
		return p2pbuf_exp_refuse(buf, attach, P2PBUF_EXP_REFUSED_NO_ROUTE,
					 route);

	state = kzalloc_obj(*state);
	if (!state)
		return -ENOMEM;
	state->route = route;
	/* See the top of sgt.c: no IOVA is ever used for BUS_ADDR. */
	state->own_map = route == PCI_P2PDMA_MAP_THRU_HOST_BRIDGE &&
			 p2pbuf_exp_needs_own_map(buf);
	state->map_type = P2PBUF_MAP_UNKNOWN;
	attach->priv = state;
	return 0;
}

/*
 * Free the bus address table that @attach keeps, if any. Bus addresses
 * only: no DMA mapping to undo, the provider unused.
 *
 * Context: the buffer's resv lock held.
 */
static void p2pbuf_exp_drop_bus_sgt(struct dma_buf_attachment *attach)
{
	struct p2pbuf_exp_attach *state = attach->priv;

	dma_resv_assert_held(attach->dmabuf->resv);

	if (!state->bus_sgt)
		return;
	p2pbuf_exp_sgt_unmap(attach, state->bus_sgt, false, state->bus_dir);
	state->bus_sgt = NULL;
}

static void p2pbuf_exp_detach(struct dma_buf *dmabuf,
			      struct dma_buf_attachment *attach)
{
	struct p2pbuf_exp_attach *state = attach->priv;

	/* The core unlinked the attachment; the importer unmapped it all. */
	WARN_ON_ONCE(state->nr_mappings);
	if (state->bus_sgt) {
		dma_resv_lock(dmabuf->resv, NULL);
		p2pbuf_exp_drop_bus_sgt(attach);
		dma_resv_unlock(dmabuf->resv);
	}
	kfree(state);
}

/*
 * A map whose table disagrees with the attach-time route: p2pdma's answer,
 * which the core reads at every map, changed between the two (ACS changed,
 * say). sgt.c's own path follows the attach-time route and cannot disagree.
 * What the table holds wins.
 */
static void p2pbuf_exp_route_mismatch(struct p2pbuf_exp_buf *buf,
				      struct dma_buf_attachment *attach,
				      u32 map_type)
{
	atomic_inc(&buf->edev->route_mismatches);
	dev_dbg(&buf->edev->pdev->dev, "buffer %llu: %s attached through %s but mapped %s\n",
		buf->id, dev_name(attach->dev),
		((struct p2pbuf_exp_attach *)attach->priv)->route ==
		PCI_P2PDMA_MAP_BUS_ADDR ? "a switch" : "the host bridge",
		p2pbuf_exp_map_type_name(map_type));
}

static struct sg_table *p2pbuf_exp_map(struct dma_buf_attachment *attach,
				       enum dma_data_direction dir)
{
	struct p2pbuf_exp_buf *buf = attach->dmabuf->priv;
	struct p2pbuf_exp_attach *state = attach->priv;
	bool bus_map, bus_route;
	struct sg_table *sgt;
	u32 map_type;

	dma_resv_assert_held(buf->dmabuf->resv);

	/*
	 * A buffer exported with P2PBUF_EXP_EXPORT_DEVICE_READONLY must not
	 * be written by any device: DMA_TO_DEVICE only. Opt-in, not the
	 * file's access mode: importers map DMA_BIDIRECTIONAL as a rule, and
	 * an O_RDONLY export has always been mappable by them.
	 */
	if (buf->device_ro && dir != DMA_TO_DEVICE) {
		dev_dbg_ratelimited(&buf->edev->pdev->dev,
				    "buffer %llu: %s may not map a device-read-only buffer for device writes\n",
				    buf->id, dev_name(attach->dev));
		return ERR_PTR(-EACCES);
	}

	if (buf->revoked)
		return ERR_PTR(-ENODEV);

	/* A bus address table never changes: built once (sgt.c). */
	sgt = state->bus_sgt;
	if (sgt)
		goto out;

	sgt = p2pbuf_exp_sgt_map(buf, attach, state->own_map, dir);
	if (PTR_ERR_OR_ZERO(sgt) == -EADDRINUSE && !state->own_map &&
	    buf->nr_ranges > 1 && !state->nr_mappings) {
		/*
		 * A BUS_ADDR route took the core's path, but p2pdma mapped
		 * through an IOVA after all, where several ranges fail with
		 * -EADDRINUSE (sgt.c, defect 2). Map here from now on; only
		 * while no mapping is live, since unmap frees a table the
		 * way @own_map says it was built.
		 */
		sgt = p2pbuf_exp_sgt_map(buf, attach, true, dir);
		if (IS_ERR(sgt))
			return sgt;
		state->own_map = true;
		p2pbuf_exp_route_mismatch(buf, attach,
					  P2PBUF_MAP_HOST_BRIDGE_IOVA);
	}
	if (IS_ERR(sgt))
		return sgt;

	map_type = p2pbuf_exp_map_type(buf, attach->dev, state->route, sgt);
	bus_map = map_type == P2PBUF_MAP_BUS_ADDR;
	bus_route = state->route == PCI_P2PDMA_MAP_BUS_ADDR;
	if (bus_map != bus_route)
		p2pbuf_exp_route_mismatch(buf, attach, map_type);
	state->map_type = map_type;
	/* Cache only what the table really is, not what attach expected. */
	if (bus_map && !state->own_map) {
		state->bus_sgt = sgt;
		state->bus_dir = dir;
	}
out:
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

	if (!WARN_ON_ONCE(!state->nr_mappings))
		state->nr_mappings--;
	/*
	 * The cached table stays with the attachment until detach, or until
	 * the buffer is revoked: the revoke frees the tables of attachments
	 * with no mapping left (p2pbuf_exp_drop_cached_sgts()), and an
	 * attachment still mapped then frees its own here, at its last unmap,
	 * whichever of its tables that unmap returns.
	 */
	if (sgt != state->bus_sgt)
		p2pbuf_exp_sgt_unmap(attach, sgt, state->own_map, dir);
	if (buf->revoked && !state->nr_mappings)
		p2pbuf_exp_drop_bus_sgt(attach);
	/* Last use of @buf by this mapping: a revoke may be waiting for it. */
	kref_put(&buf->maps, p2pbuf_exp_maps_drained);
}

/**
 * p2pbuf_exp_drop_cached_sgts() - free the cached tables of a revoked buffer
 * @buf: the buffer
 *
 * Frees the cached bus address table of every attachment that has no
 * mapping left, so that a revoked buffer keeps no table of the BAR (and,
 * were a table wrongly taken for bus addresses, no DMA mapping either).
 * Called once by p2pbuf_exp_revoke(), after dma_buf_invalidate_mappings();
 * an attachment still mapped then frees its table at its last unmap.
 *
 * Context: the buffer's resv lock held.
 */
void p2pbuf_exp_drop_cached_sgts(struct p2pbuf_exp_buf *buf)
{
	struct dma_buf_attachment *attach;

	dma_resv_assert_held(buf->dmabuf->resv);

	list_for_each_entry(attach, &buf->dmabuf->attachments, node) {
		struct p2pbuf_exp_attach *state = attach->priv;

		if (!state->nr_mappings)
			p2pbuf_exp_drop_bus_sgt(attach);
	}
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

	/* A revoke that a fatal signal ended may have left its fences. */
	dma_fence_put(buf->revoke_fence);
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
 * p2pbuf_exp_bar_exportable() - may a BAR be exported?
 * @pdev: the device
 * @bar: BAR index below %PCI_STD_NUM_BARS
 *
 * Importers may read a BAR speculatively, which a register BAR may not
 * tolerate: non-prefetchable BARs are exported only with the
 * allow_nonprefetchable parameter.
 *
 * Context: the device bound, so that its p2pdma state exists.
 * Return: true if p2pdma has a provider for @bar and @bar is prefetchable
 * or allowed anyway.
 */
bool p2pbuf_exp_bar_exportable(struct pci_dev *pdev, int bar)
{
	if (!pcim_p2pdma_provider(pdev, bar))
		return false;
	return (pci_resource_flags(pdev, bar) & IORESOURCE_PREFETCH) ||
	       READ_ONCE(p2pbuf_exp_allow_nonprefetchable);
}

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
 * @device_ro: importers may map the buffer for device reads only
 *
 * Looks the provider up now, on every export, rather than caching it: it
 * belongs to the binding. The buffer may keep the pointer because it cannot
 * use it past remove(), see &struct p2pbuf_exp_buf.
 *
 * The first export of a BAR claims it for the rest of the binding. The
 * buffer starts revoked, with the reasons in force, while a device event is
 * in force or the device does not decode memory.
 *
 * Return: the dma-buf with one reference, linked in @edev->bufs; or
 * ERR_PTR(-ENODEV) if the device was unbound, ERR_PTR(-EOPNOTSUPP) if the
 * BAR is not exportable (p2pbuf_exp_bar_exportable()), ERR_PTR(-EBUSY) if
 * it cannot be claimed, ERR_PTR(-EINVAL) if a range does not fit the BAR,
 * ERR_PTR(-ENOMEM) or another error of dma_buf_export().
 */
struct dma_buf *p2pbuf_exp_export(struct p2pbuf_exp_dev *edev,
				  struct file *owner, u32 bar,
				  const struct p2pbuf_exp_range *ranges,
				  u32 nr_ranges, size_t size, u32 open_flags,
				  bool device_ro)
{
	DEFINE_DMA_BUF_EXPORT_INFO(exp_info);
	struct p2pbuf_exp_buf *buf;
	struct dma_buf *dmabuf;
	u32 i;
	int ret;

	buf = kzalloc_flex(*buf, phys_vec, nr_ranges, GFP_KERNEL_ACCOUNT);
	if (!buf)
		return ERR_PTR(-ENOMEM);
	buf->nr_ranges = nr_ranges;
	buf->edev = edev;
	buf->owner = owner;
	buf->bar = bar;
	buf->size = size;
	buf->device_ro = device_ro;
	kref_init(&buf->maps);
	init_completion(&buf->maps_done);

	mutex_lock(&edev->lock);
	if (!edev->bound) {
		ret = -ENODEV;
		goto err_unlock;
	}

	if (!p2pbuf_exp_bar_exportable(edev->pdev, bar)) {
		ret = -EOPNOTSUPP;
		goto err_unlock;
	}
	buf->provider = pcim_p2pdma_provider(edev->pdev, bar);

	/* As vfio-pci: export only what we could claim. Released by devres. */
	if (!(edev->claimed & BIT(bar))) {
		ret = pcim_request_region(edev->pdev, bar, KBUILD_MODNAME);
		if (ret) {
			dev_dbg(&edev->pdev->dev, "cannot claim BAR %u: %d\n",
				bar, ret);
			ret = -EBUSY;
			goto err_unlock;
		}
		edev->claimed |= BIT(bar);
	}

	/*
	 * Start revoked while a device event is in force or the device does
	 * not decode memory; the decode check clears DECODE when it does.
	 */
	buf->revoked = edev->events;
	if (!p2pbuf_exp_decoding(edev)) {
		buf->revoked |= P2PBUF_EXP_REVOKED_DECODE;
		p2pbuf_exp_decode_poll(edev, 0);
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
	trace_p2pbuf_exp_export(buf, bar, nr_ranges, size, open_flags);
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

	/* @owner is under the lock of the buffer's own device: ours first. */
	buf = dmabuf->priv;
	owned = buf->edev == edev;
	if (owned) {
		mutex_lock(&edev->lock);
		owned = buf->owner == owner;
		mutex_unlock(&edev->lock);
	}
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
		out = kvzalloc_objs(*out, want, GFP_KERNEL_ACCOUNT);
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
	q->revoke_reasons = buf->revoked;
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
