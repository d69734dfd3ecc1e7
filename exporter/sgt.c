// SPDX-License-Identifier: GPL-2.0
/*
 * p2pbuf exporter: the scatter tables handed to importers.
 *
 * Tables come from dma_buf_phys_vec_to_sgt() and go back through
 * dma_buf_free_sgt(). Two defects of those functions in 7.2.13 are worked
 * around here, and only here:
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
 *    therefore mapped one range at a time, and the importer gets a table
 *    that concatenates the ranges' tables. That costs one IOVA window per
 *    range instead of one per buffer; the importer cannot tell otherwise.
 *    BUS_ADDR routes never use an IOVA and take the direct path.
 *
 * A BUS_ADDR table holds PCI bus addresses and nothing else: no DMA API
 * mapping, no IOVA, no reference to the provider. dmabuf.c therefore builds
 * it at an attachment's first mapping, hands the same table to every later
 * mapping of that attachment (as the system dma-heap hands out its
 * per-attachment table) and frees it at detach. This saves the two
 * allocations and frees that dma_buf_phys_vec_to_sgt() and
 * dma_buf_free_sgt() cost per map+unmap cycle: docs/bench.rst has the
 * numbers. Tables through the host bridge carry DMA mappings and are built
 * and torn down on every cycle.
 */
#include <linux/dma-buf.h>
#include <linux/dma-buf-mapping.h>
#include <linux/dma-resv.h>
#include <linux/err.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>

#include "p2pbuf_exporter.h"

/**
 * struct p2pbuf_exp_split_sgt - a mapping built one range at a time
 * @sgt: the table the importer gets: every entry of @parts, in order.
 * @nr_parts: number of @parts, the buffer's number of ranges.
 * @parts: the tables dma_buf_phys_vec_to_sgt() returned, one per range.
 */
struct p2pbuf_exp_split_sgt {
	struct sg_table sgt;
	u32 nr_parts;
	struct sg_table *parts[] __counted_by(nr_parts);
};

/* Defect 1 above: the one place that calls dma_buf_free_sgt(). */
static void p2pbuf_exp_free_sgt(struct dma_buf_attachment *attach,
				struct sg_table *sgt,
				enum dma_data_direction dir)
{
	sgt->orig_nents = sgt->nents;
	dma_buf_free_sgt(attach, sgt, dir);
}

static void p2pbuf_exp_free_split(struct dma_buf_attachment *attach,
				  struct p2pbuf_exp_split_sgt *split,
				  u32 nr_parts, enum dma_data_direction dir)
{
	while (nr_parts--)
		p2pbuf_exp_free_sgt(attach, split->parts[nr_parts], dir);
	kfree(split);
}

static struct sg_table *p2pbuf_exp_map_split(struct p2pbuf_exp_buf *buf,
					     struct dma_buf_attachment *attach,
					     enum dma_data_direction dir)
{
	struct p2pbuf_exp_split_sgt *split;
	struct scatterlist *to, *from;
	unsigned int nents = 0;
	struct sg_table *part;
	u32 i;
	int j, ret;

	split = kzalloc_flex(*split, parts, buf->nr_ranges);
	if (!split)
		return ERR_PTR(-ENOMEM);
	split->nr_parts = buf->nr_ranges;

	for (i = 0; i < buf->nr_ranges; i++) {
		part = dma_buf_phys_vec_to_sgt(attach, buf->provider,
					       &buf->phys_vec[i], 1,
					       buf->phys_vec[i].len, dir);
		if (IS_ERR(part)) {
			ret = PTR_ERR(part);
			goto err_free_parts;
		}
		split->parts[i] = part;
		nents += part->nents;
	}

	ret = sg_alloc_table(&split->sgt, nents, GFP_KERNEL);
	if (ret)
		goto err_free_parts;

	to = split->sgt.sgl;
	for (i = 0; i < buf->nr_ranges; i++) {
		for_each_sgtable_dma_sg(split->parts[i], from, j) {
			sg_dma_address(to) = sg_dma_address(from);
			sg_dma_len(to) = sg_dma_len(from);
			to = sg_next(to);
		}
	}
	/* Like the core's tables: DMA addresses only, no CPU list. */
	split->sgt.orig_nents = 0;
	return &split->sgt;

err_free_parts:
	p2pbuf_exp_free_split(attach, split, i, dir);
	return ERR_PTR(ret);
}

/**
 * p2pbuf_exp_sgt_map() - map a buffer for an attachment
 * @buf: the buffer, not revoked
 * @attach: the attachment
 * @split: map one range at a time (see defect 2 at the top of this file)
 * @dir: direction of the DMA
 *
 * Context: the buffer's resv lock held.
 * Return: the table, or an ERR_PTR() from dma_buf_phys_vec_to_sgt() or
 * the allocator.
 */
struct sg_table *p2pbuf_exp_sgt_map(struct p2pbuf_exp_buf *buf,
				    struct dma_buf_attachment *attach,
				    bool split, enum dma_data_direction dir)
{
	dma_resv_assert_held(buf->dmabuf->resv);

	if (split)
		return p2pbuf_exp_map_split(buf, attach, dir);
	return dma_buf_phys_vec_to_sgt(attach, buf->provider, buf->phys_vec,
				       buf->nr_ranges, buf->size, dir);
}

/**
 * p2pbuf_exp_sgt_unmap() - unmap and free a table from p2pbuf_exp_sgt_map()
 * @attach: the attachment
 * @sgt: the table
 * @split: what was passed to p2pbuf_exp_sgt_map()
 * @dir: direction of the DMA
 *
 * Context: the buffer's resv lock held.
 */
void p2pbuf_exp_sgt_unmap(struct dma_buf_attachment *attach,
			  struct sg_table *sgt, bool split,
			  enum dma_data_direction dir)
{
	struct p2pbuf_exp_split_sgt *s;

	dma_resv_assert_held(attach->dmabuf->resv);

	if (!split) {
		p2pbuf_exp_free_sgt(attach, sgt, dir);
		return;
	}

	s = container_of(sgt, struct p2pbuf_exp_split_sgt, sgt);
	s->sgt.orig_nents = s->sgt.nents;
	sg_free_table(&s->sgt);
	p2pbuf_exp_free_split(attach, s, s->nr_parts, dir);
}
