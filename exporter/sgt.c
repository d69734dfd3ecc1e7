// SPDX-License-Identifier: GPL-2.0
/*
 * p2pbuf exporter: the scatter tables handed to importers.
 *
 * Tables come from dma_buf_phys_vec_to_sgt() and go back through
 * dma_buf_free_sgt(), except where p2pbuf_exp_map_window() maps the buffer
 * itself. Three defects of those functions in 7.2.13 are worked around
 * here, and only here:
 *
 * 1. dma_buf_phys_vec_to_sgt() sets orig_nents to 0 once the table is built
 *    (drivers/dma-buf/dma-buf-mapping.c:194) and dma_buf_free_sgt() ends
 *    with sg_free_table() (dma-buf-mapping.c:254), which frees exactly
 *    orig_nents entries (lib/scatterlist.c:209-235, 262-263): the
 *    scatterlist array leaks on every map/unmap cycle. nents still counts
 *    every entry sg_alloc_table() allocated, because no DMA API call maps or
 *    merges these tables, so p2pbuf_exp_free_sgt() restores orig_nents from
 *    it before freeing. Harmless once the core stops zeroing orig_nents.
 *    Without it kmemleak reports one array per cycle of exporter_test's
 *    map_cycles_kmemleak (see docs/exporter.rst).
 *
 * 2. When the importer sits behind a translating IOMMU,
 *    dma_buf_phys_vec_to_sgt() links every range at offset 0 of one IOVA
 *    window (dma-buf-mapping.c:158-161 pass 0 where the running mapped_len
 *    belongs), so the second range of a buffer fails with -EADDRINUSE from
 *    the IOMMU page table (drivers/iommu/generic_pt/iommu_pt.h:562). For
 *    routes through the host bridge, buffers of several ranges are
 *    therefore mapped here, by p2pbuf_exp_map_window(): one IOVA window
 *    for the whole buffer, each range linked at its offset in it, one
 *    IOTLB sync, so the importer gets one DMA segment (split only at
 *    MAX_SG_ENT_SZ, as the core does) and the cost grows with the pages
 *    mapped, not with one window per range. Without an IOVA window (no
 *    translating IOMMU, or dma_iova_try_alloc() failed, e.g. IOVA space
 *    exhausted) each range is mapped with dma_map_phys() and unmapped with
 *    one dma_unmap_phys() of the same size. BUS_ADDR routes never use an
 *    IOVA and take the core's path. Once the core passes the offset
 *    (patches/0002), buffers of several ranges can take the core's path
 *    too.
 *
 * 3. Without an IOVA window, dma_buf_phys_vec_to_sgt() maps a range longer
 *    than one entry (MAX_SG_ENT_SZ, 4 GiB - 4 KiB) with one dma_map_phys()
 *    but dma_buf_free_sgt() unmaps it with one dma_unmap_phys() per entry
 *    (dma-buf-mapping.c:249-251): DMA-API debug reports sizes that do not
 *    match, and on an IOMMU the second entry's IOVA free finds no node, or
 *    another mapping's. Buffers with such a range routed through the host
 *    bridge are therefore mapped by p2pbuf_exp_map_window() too, which
 *    unmaps each range as it was mapped. p2pbuf_exp_needs_own_map() says
 *    which buffers go there. patches/0003 fixes it upstream-side: the core
 *    maps such a range one entry at a time, each entry its own mapping.
 *    Once the core has it, p2pbuf_exp_needs_own_map() can drop its length
 *    test and one-range buffers take the core's path; with patches/0002
 *    as well, no buffer needs p2pbuf_exp_map_window() any more.
 *
 * A BUS_ADDR table holds PCI bus addresses and nothing else: no DMA API
 * mapping, no IOVA, no reference to the provider. dmabuf.c therefore builds
 * it at an attachment's first mapping, hands the same table to every later
 * mapping of that attachment (as the system dma-heap hands out its
 * per-attachment table) and frees it at detach or once the buffer is
 * revoked and the attachment unmapped. This saves the two
 * allocations and frees that dma_buf_phys_vec_to_sgt() and
 * dma_buf_free_sgt() cost per map+unmap cycle: docs/bench.rst has the
 * numbers. Tables through the host bridge carry DMA mappings and are built
 * and torn down on every cycle.
 */
#include <linux/dma-buf.h>
#include <linux/dma-buf-mapping.h>
#include <linux/dma-resv.h>
#include <linux/dma-mapping.h>
#include <linux/err.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>

#include "p2pbuf_exporter.h"

/* The core's limit for one entry (dma-buf-mapping.c), page aligned. */
#define P2PBUF_EXP_MAX_SEG	ALIGN_DOWN(UINT_MAX, PAGE_SIZE)

/**
 * struct p2pbuf_exp_window - a buffer mapped by sgt.c (defects 2 and 3)
 * @sgt: the table the importer gets (DMA addresses only, as the core's).
 * @state: the IOVA window of the whole buffer, if dma_iova_try_alloc()
 *	gave one; else every range has its own dma_map_phys() mapping.
 * @size: bytes mapped: the buffer's size.
 */
struct p2pbuf_exp_window {
	struct sg_table sgt;
	struct dma_iova_state state;
	size_t size;
};

/**
 * p2pbuf_exp_needs_own_map() - whether sgt.c must map a buffer itself
 * @buf: the buffer
 *
 * Routes through the host bridge only: several ranges (defect 2 above) or
 * one longer than a scatterlist entry (defect 3).
 *
 * Return: true if p2pbuf_exp_sgt_map() must be called with @own_map set.
 */
bool p2pbuf_exp_needs_own_map(const struct p2pbuf_exp_buf *buf)
{
	u32 i;

	if (buf->nr_ranges > 1)
		return true;
	for (i = 0; i < buf->nr_ranges; i++)
		if (buf->phys_vec[i].len > P2PBUF_EXP_MAX_SEG)
			return true;
	return false;
}

/* Defect 1 above: the one place that calls dma_buf_free_sgt(). */
static void p2pbuf_exp_free_sgt(struct dma_buf_attachment *attach,
				struct sg_table *sgt,
				enum dma_data_direction dir)
{
	sgt->orig_nents = sgt->nents;
	dma_buf_free_sgt(attach, sgt, dir);
}

/* Entries [addr, addr + len) takes, from @sg on; the entry after them. */
static struct scatterlist *p2pbuf_exp_fill(struct scatterlist *sg,
					   dma_addr_t addr, size_t len)
{
	size_t n;

	while (len) {
		n = min_t(size_t, len, P2PBUF_EXP_MAX_SEG);
		sg_dma_address(sg) = addr;
		sg_dma_len(sg) = n;
		addr += n;
		len -= n;
		sg = sg_next(sg);
	}
	return sg;
}

static unsigned int p2pbuf_exp_nents(size_t len)
{
	return DIV_ROUND_UP(len, P2PBUF_EXP_MAX_SEG);
}

/* Unmap the first @nr ranges of a window without IOVA. */
static void p2pbuf_exp_unmap_ranges(const struct p2pbuf_exp_buf *buf,
				    struct dma_buf_attachment *attach,
				    struct p2pbuf_exp_window *w, u32 nr,
				    enum dma_data_direction dir)
{
	struct scatterlist *sg = w->sgt.sgl;
	u32 i;

	for (i = 0; i < nr; i++) {
		dma_unmap_phys(attach->dev, sg_dma_address(sg),
			       buf->phys_vec[i].len, dir, DMA_ATTR_MMIO);
		sg = p2pbuf_exp_fill(sg, sg_dma_address(sg),
				     buf->phys_vec[i].len);
	}
}

/* One IOVA window for every range; 0 or -errno, nothing left on error. */
static int p2pbuf_exp_link_window(struct p2pbuf_exp_buf *buf,
				  struct dma_buf_attachment *attach,
				  struct p2pbuf_exp_window *w,
				  enum dma_data_direction dir)
{
	size_t mapped = 0;
	u32 i;
	int ret;

	ret = sg_alloc_table(&w->sgt, p2pbuf_exp_nents(buf->size), GFP_KERNEL);
	if (ret)
		goto err_free_iova;
	for (i = 0; i < buf->nr_ranges; i++) {
		ret = dma_iova_link(attach->dev, &w->state,
				    buf->phys_vec[i].paddr, mapped,
				    buf->phys_vec[i].len, dir, DMA_ATTR_MMIO);
		if (ret)
			goto err_unlink;
		mapped += buf->phys_vec[i].len;
	}
	WARN_ON_ONCE(mapped != buf->size);
	ret = dma_iova_sync(attach->dev, &w->state, 0, mapped);
	if (ret)
		goto err_unlink;
	p2pbuf_exp_fill(w->sgt.sgl, w->state.addr, mapped);
	return 0;

err_unlink:
	if (mapped)
		dma_iova_unlink(attach->dev, &w->state, 0, mapped, dir,
				DMA_ATTR_MMIO);
	sg_free_table(&w->sgt);
err_free_iova:
	/* The whole window, whatever was linked (dma_iova_destroy() does not). */
	dma_iova_free(attach->dev, &w->state);
	return ret;
}

/* Every range mapped on its own (no IOVA window, defect 3); 0 or -errno. */
static int p2pbuf_exp_map_ranges(struct p2pbuf_exp_buf *buf,
				 struct dma_buf_attachment *attach,
				 struct p2pbuf_exp_window *w,
				 enum dma_data_direction dir)
{
	struct scatterlist *sg;
	unsigned int nents = 0;
	dma_addr_t addr;
	u32 i;
	int ret;

	for (i = 0; i < buf->nr_ranges; i++)
		nents += p2pbuf_exp_nents(buf->phys_vec[i].len);
	ret = sg_alloc_table(&w->sgt, nents, GFP_KERNEL);
	if (ret)
		return ret;
	sg = w->sgt.sgl;
	for (i = 0; i < buf->nr_ranges; i++) {
		addr = dma_map_phys(attach->dev, buf->phys_vec[i].paddr,
				    buf->phys_vec[i].len, dir, DMA_ATTR_MMIO);
		ret = dma_mapping_error(attach->dev, addr);
		if (ret)
			goto err_unmap;
		sg = p2pbuf_exp_fill(sg, addr, buf->phys_vec[i].len);
	}
	return 0;

err_unmap:
	p2pbuf_exp_unmap_ranges(buf, attach, w, i, dir);
	sg_free_table(&w->sgt);
	return ret;
}

static struct sg_table *p2pbuf_exp_map_window(struct p2pbuf_exp_buf *buf,
					      struct dma_buf_attachment *attach,
					      enum dma_data_direction dir)
{
	struct p2pbuf_exp_window *w;
	int ret;

	w = kzalloc_obj(*w);
	if (!w)
		return ERR_PTR(-ENOMEM);

	/*
	 * Only routes through the host bridge come here (dmabuf.c, own_map):
	 * this follows p2pbuf_exp_route()'s answer at attach. The core asks
	 * pci_p2pdma_map_type() again at every map, which modules cannot
	 * call; a change of p2pdma's answer since attach (its cache is
	 * refreshed by any later pci_p2pdma_distance() for this client) is
	 * therefore not seen on this path. Mapping through the host bridge
	 * stays correct: attach found it allowed for this client.
	 */
	w->size = buf->size;
	if (dma_iova_try_alloc(attach->dev, &w->state, 0, buf->size))
		ret = p2pbuf_exp_link_window(buf, attach, w, dir);
	else
		ret = p2pbuf_exp_map_ranges(buf, attach, w, dir);
	if (ret) {
		kfree(w);
		return ERR_PTR(ret);
	}
	/* Like the core's tables: DMA addresses only, no CPU list. */
	w->sgt.orig_nents = 0;
	return &w->sgt;
}

static void p2pbuf_exp_unmap_window(struct p2pbuf_exp_buf *buf,
				    struct dma_buf_attachment *attach,
				    struct p2pbuf_exp_window *w,
				    enum dma_data_direction dir)
{
	if (dma_use_iova(&w->state))
		dma_iova_destroy(attach->dev, &w->state, w->size, dir,
				 DMA_ATTR_MMIO);
	else
		p2pbuf_exp_unmap_ranges(buf, attach, w, buf->nr_ranges, dir);
	w->sgt.orig_nents = w->sgt.nents;
	sg_free_table(&w->sgt);
	kfree(w);
}

/**
 * p2pbuf_exp_sgt_map() - map a buffer for an attachment
 * @buf: the buffer, not revoked
 * @attach: the attachment
 * @own_map: map it here (defects 2 and 3 at the top of this file)
 * @dir: direction of the DMA
 *
 * Context: the buffer's resv lock held.
 * Return: the table, or an ERR_PTR() from dma_buf_phys_vec_to_sgt() or
 * the allocator.
 */
struct sg_table *p2pbuf_exp_sgt_map(struct p2pbuf_exp_buf *buf,
				    struct dma_buf_attachment *attach,
				    bool own_map, enum dma_data_direction dir)
{
	dma_resv_assert_held(buf->dmabuf->resv);

	if (own_map)
		return p2pbuf_exp_map_window(buf, attach, dir);
	return dma_buf_phys_vec_to_sgt(attach, buf->provider, buf->phys_vec,
				       buf->nr_ranges, buf->size, dir);
}

/**
 * p2pbuf_exp_sgt_unmap() - unmap and free a table from p2pbuf_exp_sgt_map()
 * @attach: the attachment
 * @sgt: the table
 * @own_map: what was passed to p2pbuf_exp_sgt_map()
 * @dir: direction of the DMA
 *
 * Context: the buffer's resv lock held.
 */
void p2pbuf_exp_sgt_unmap(struct dma_buf_attachment *attach,
			  struct sg_table *sgt, bool own_map,
			  enum dma_data_direction dir)
{
	dma_resv_assert_held(attach->dmabuf->resv);

	if (own_map)
		p2pbuf_exp_unmap_window(attach->dmabuf->priv, attach,
					container_of(sgt, struct p2pbuf_exp_window,
						     sgt), dir);
	else
		p2pbuf_exp_free_sgt(attach, sgt, dir);
}
