/* SPDX-License-Identifier: GPL-2.0 */
/*
 * p2pbuf importer: tracepoints (docs/tracing.rst). Times are taken only
 * while the event that reports them is enabled.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM p2pbuf_imp

#if !defined(P2PBUF_IMP_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define P2PBUF_IMP_TRACE_H

#include <linux/device.h>
#include <linux/dma-buf.h>
#include <linux/dma-direction.h>
#include <linux/tracepoint.h>

#include <linux/p2pbuf.h>

/* Enums in __print_symbolic(): exported so that perf and trace-cmd decode them. */
TRACE_DEFINE_ENUM(DMA_BIDIRECTIONAL);
TRACE_DEFINE_ENUM(DMA_TO_DEVICE);
TRACE_DEFINE_ENUM(DMA_FROM_DEVICE);
TRACE_DEFINE_ENUM(P2PBUF_MAP_UNKNOWN);
TRACE_DEFINE_ENUM(P2PBUF_MAP_NOT_P2P);
TRACE_DEFINE_ENUM(P2PBUF_MAP_BUS_ADDR);
TRACE_DEFINE_ENUM(P2PBUF_MAP_HOST_BRIDGE_DIRECT);
TRACE_DEFINE_ENUM(P2PBUF_MAP_HOST_BRIDGE_IOVA);
TRACE_DEFINE_ENUM(P2PBUF_MAP_NOT_SUPPORTED);

/**
 * p2pbuf_imp_attach - the end of an IMPORT, accepted or refused
 * @dev: the importing device
 * @dmabuf: the buffer, NULL when the descriptor was not a dma-buf
 * @handle: the handle returned, 0 when refused
 * Its mode is the dma-buf file's: "ro", "wo", "rw", or "-" (no dma-buf, or
 * neither).
 * @pinned: the import is pinned
 * @ret: 0 or the errno returned
 * @why: the refusal reason, "ok" when accepted
 */
TRACE_EVENT(p2pbuf_imp_attach,
	    TP_PROTO(struct device *dev, struct dma_buf *dmabuf, u32 handle,
		     bool pinned, int ret, const char *why),
	    TP_ARGS(dev, dmabuf, handle, pinned, ret, why),
	    TP_STRUCT__entry(__string(dev, dev_name(dev))
			     __string(exporter, dmabuf ? dmabuf->exp_name : "-")
			     __field(unsigned long, ino)
			     __field(size_t, size)
			     __field(u32, handle)
			     __field(u8, mode)
			     __field(bool, pinned)
			     __field(int, ret)
			     __string(why, why)),
	    TP_fast_assign(__assign_str(dev);
			   __assign_str(exporter);
			   __entry->ino = dmabuf ? file_inode(dmabuf->file)->i_ino : 0;
			   __entry->size = dmabuf ? dmabuf->size : 0;
			   __entry->handle = handle;
			   __entry->mode = !dmabuf ? 0 :
				(dmabuf->file->f_mode & FMODE_READ ? 1 : 0) |
				(dmabuf->file->f_mode & FMODE_WRITE ? 2 : 0);
			   __entry->pinned = pinned;
			   __entry->ret = ret;
			   __assign_str(why);),
	    TP_printk("dev=%s exporter=%s ino=%lu size=%zu handle=%u mode=%s pinned=%d ret=%d why=%s",
		      __get_str(dev), __get_str(exporter), __entry->ino,
		      __entry->size, __entry->handle,
		      __print_symbolic(__entry->mode, { 0, "-" }, { 1, "ro" },
				       { 2, "wo" }, { 3, "rw" }),
		      __entry->pinned,
		      __entry->ret, __get_str(why))
);

/**
 * p2pbuf_imp_map - a MAP, done or refused
 * @dev: the importing device
 * @handle: the import
 * @map_type: enum p2pbuf_map_type (0 on failure)
 * @nr_segs: DMA segments
 * @length: DMA length
 * @dir: the enum dma_data_direction asked of the exporter
 * @map_ns: time in dma_buf_map_attachment(), the exporter's share
 * @classify_ns: time the importer took to classify the mapping
 * @ret: 0 or the errno returned
 */
TRACE_EVENT(p2pbuf_imp_map,
	    TP_PROTO(struct device *dev, u32 handle, u32 map_type, u32 nr_segs,
		     u64 length, int dir, u64 map_ns, u64 classify_ns,
		     int ret),
	    TP_ARGS(dev, handle, map_type, nr_segs, length, dir, map_ns,
		    classify_ns, ret),
	    TP_STRUCT__entry(__string(dev, dev_name(dev))
			     __field(u32, handle)
			     __field(u32, map_type)
			     __field(u32, nr_segs)
			     __field(u64, length)
			     __field(int, dir)
			     __field(u64, map_ns)
			     __field(u64, classify_ns)
			     __field(int, ret)),
	    TP_fast_assign(__assign_str(dev);
			   __entry->handle = handle;
			   __entry->map_type = map_type;
			   __entry->nr_segs = nr_segs;
			   __entry->length = length;
			   __entry->dir = dir;
			   __entry->map_ns = map_ns;
			   __entry->classify_ns = classify_ns;
			   __entry->ret = ret;),
	    TP_printk("dev=%s handle=%u type=%s segs=%u length=%llu dir=%s map_ns=%llu classify_ns=%llu ret=%d",
		      __get_str(dev), __entry->handle,
		      __print_symbolic(__entry->map_type,
				       { P2PBUF_MAP_UNKNOWN, "UNKNOWN" },
				       { P2PBUF_MAP_NOT_P2P, "NOT_P2P" },
				       { P2PBUF_MAP_BUS_ADDR, "BUS_ADDR" },
				       { P2PBUF_MAP_HOST_BRIDGE_DIRECT, "HOST_BRIDGE_DIRECT" },
				       { P2PBUF_MAP_HOST_BRIDGE_IOVA, "HOST_BRIDGE_IOVA" },
				       { P2PBUF_MAP_NOT_SUPPORTED, "NOT_SUPPORTED" }),
		      __entry->nr_segs, __entry->length,
		      __print_symbolic(__entry->dir,
				       { DMA_BIDIRECTIONAL, "bidi" },
				       { DMA_TO_DEVICE, "to_device" },
				       { DMA_FROM_DEVICE, "from_device" }),
		      __entry->map_ns,
		      __entry->classify_ns, __entry->ret)
);

/**
 * p2pbuf_imp_unmap - a mapping given back
 * @dev: the importing device
 * @handle: the import (0 while IMPORT had not returned it yet)
 * @unmap_ns: time in dma_buf_unmap_attachment()
 * @why: "unmap" (the ioctl), "invalidate", "release" or "undo"
 */
TRACE_EVENT(p2pbuf_imp_unmap,
	    TP_PROTO(struct device *dev, u32 handle, u64 unmap_ns, const char *why),
	    TP_ARGS(dev, handle, unmap_ns, why),
	    TP_STRUCT__entry(__string(dev, dev_name(dev))
			     __field(u32, handle)
			     __field(u64, unmap_ns)
			     __string(why, why)),
	    TP_fast_assign(__assign_str(dev);
			   __entry->handle = handle;
			   __entry->unmap_ns = unmap_ns;
			   __assign_str(why);),
	    TP_printk("dev=%s handle=%u unmap_ns=%llu why=%s", __get_str(dev),
		      __entry->handle, __entry->unmap_ns, __get_str(why))
);

/**
 * p2pbuf_imp_invalidate - the exporter's invalidate_mappings callback
 * @dev: the importing device
 * @handle: the import (0 while IMPORT had not returned it yet)
 * @invalidations: the import's count, this one included
 * @mapped: it was mapped (and is unmapped now)
 * @pinned: it was pinned (and is unpinned now)
 * @start_ns: CLOCK_MONOTONIC at the callback's entry
 * @ns: time the callback took
 */
TRACE_EVENT(p2pbuf_imp_invalidate,
	    TP_PROTO(struct device *dev, u32 handle, u64 invalidations,
		     bool mapped, bool pinned, u64 start_ns, u64 ns),
	    TP_ARGS(dev, handle, invalidations, mapped, pinned, start_ns, ns),
	    TP_STRUCT__entry(__string(dev, dev_name(dev))
			     __field(u32, handle)
			     __field(u64, invalidations)
			     __field(bool, mapped)
			     __field(bool, pinned)
			     __field(u64, start_ns)
			     __field(u64, ns)),
	    TP_fast_assign(__assign_str(dev);
			   __entry->handle = handle;
			   __entry->invalidations = invalidations;
			   __entry->mapped = mapped;
			   __entry->pinned = pinned;
			   __entry->start_ns = start_ns;
			   __entry->ns = ns;),
	    TP_printk("dev=%s handle=%u invalidations=%llu mapped=%d pinned=%d start_ns=%llu ns=%llu",
		      __get_str(dev), __entry->handle, __entry->invalidations,
		      __entry->mapped, __entry->pinned, __entry->start_ns,
		      __entry->ns)
);

/**
 * p2pbuf_imp_dma - one P2PBUF_IMP_DMA transfer
 * @dev: the importing device
 * @handle: the import
 * @to_buf: device write into the buffer, else a read
 * @offset: offset in the buffer
 * @length: bytes
 * @ret: 0 or the errno returned
 */
TRACE_EVENT(p2pbuf_imp_dma,
	    TP_PROTO(struct device *dev, u32 handle, bool to_buf, u64 offset,
		     u64 length, int ret),
	    TP_ARGS(dev, handle, to_buf, offset, length, ret),
	    TP_STRUCT__entry(__string(dev, dev_name(dev))
			     __field(u32, handle)
			     __field(bool, to_buf)
			     __field(u64, offset)
			     __field(u64, length)
			     __field(int, ret)),
	    TP_fast_assign(__assign_str(dev);
			   __entry->handle = handle;
			   __entry->to_buf = to_buf;
			   __entry->offset = offset;
			   __entry->length = length;
			   __entry->ret = ret;),
	    TP_printk("dev=%s handle=%u dir=%s offset=%llu length=%llu ret=%d",
		      __get_str(dev), __entry->handle,
		      __entry->to_buf ? "to_buf" : "from_buf", __entry->offset,
		      __entry->length, __entry->ret)
);

/**
 * p2pbuf_imp_engine_stop - the device was stopped after an engine timeout
 * @dev: the device, no longer a bus master
 * @engine: the backend's name
 */
TRACE_EVENT(p2pbuf_imp_engine_stop,
	    TP_PROTO(struct device *dev, const char *engine),
	    TP_ARGS(dev, engine),
	    TP_STRUCT__entry(__string(dev, dev_name(dev))
			     __string(engine, engine)),
	    TP_fast_assign(__assign_str(dev);
			   __assign_str(engine);),
	    TP_printk("dev=%s engine=%s", __get_str(dev), __get_str(engine))
);

#endif /* P2PBUF_IMP_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
