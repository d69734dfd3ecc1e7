/* SPDX-License-Identifier: GPL-2.0 */
/*
 * p2pbuf exporter: tracepoints (docs/tracing.rst). Each is one call at a
 * named point of exporter/dmabuf.c or exporter/revoke.c; durations are the
 * differences of the events' timestamps (export, revoke_buf ->
 * revoke_drained, revoke).
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM p2pbuf_exp

#if !defined(P2PBUF_EXP_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define P2PBUF_EXP_TRACE_H

#include <linux/device.h>
#include <linux/dma-buf.h>
#include <linux/kref.h>
#include <linux/tracepoint.h>

#include "p2pbuf_exporter.h"

/* p2pbuf_exp_export: a new dma-buf of @nr ranges, @size bytes, of a BAR. */
TRACE_EVENT(p2pbuf_exp_export,
	    TP_PROTO(struct p2pbuf_exp_buf *buf, u32 bar, u32 nr, size_t size,
		     u32 open_flags),
	    TP_ARGS(buf, bar, nr, size, open_flags),
	    TP_STRUCT__entry(__string(dev, pci_name(buf->edev->pdev))
			     __field(u64, id)
			     __field(unsigned long, ino)
			     __field(u32, bar)
			     __field(u32, nr)
			     __field(size_t, size)
			     __field(u32, open_flags)),
	    TP_fast_assign(__assign_str(dev);
			   __entry->id = buf->id;
			   __entry->ino = file_inode(buf->dmabuf->file)->i_ino;
			   __entry->bar = bar;
			   __entry->nr = nr;
			   __entry->size = size;
			   __entry->open_flags = open_flags;),
	    TP_printk("dev=%s buf=%llu ino=%lu bar=%u ranges=%u size=%zu mode=%s",
		      __get_str(dev), __entry->id, __entry->ino, __entry->bar,
		      __entry->nr, __entry->size,
		      (__entry->open_flags & O_ACCMODE) == O_RDONLY ? "ro" :
		      (__entry->open_flags & O_ACCMODE) == O_WRONLY ? "wo" : "rw")
);

/* p2pbuf_exp_attach_refused: .attach refused @attach->dev, and why. */
TRACE_EVENT(p2pbuf_exp_attach_refused,
	    TP_PROTO(struct p2pbuf_exp_buf *buf, struct dma_buf_attachment *attach,
		     enum p2pbuf_exp_refusal why, int err),
	    TP_ARGS(buf, attach, why, err),
	    TP_STRUCT__entry(__string(dev, pci_name(buf->edev->pdev))
			     __field(u64, id)
			     __string(importer, dev_name(attach->dev))
			     __field(int, why)
			     __field(int, err)),
	    TP_fast_assign(__assign_str(dev);
			   __entry->id = buf->id;
			   __assign_str(importer);
			   __entry->why = why;
			   __entry->err = err;),
	    TP_printk("dev=%s buf=%llu importer=%s why=%s err=%d", __get_str(dev),
		      __entry->id, __get_str(importer),
		      __print_symbolic(__entry->why,
				       { P2PBUF_EXP_REFUSED_NO_P2P, "no_p2p" },
				       { P2PBUF_EXP_REFUSED_NOT_REVOCABLE, "not_revocable" },
				       { P2PBUF_EXP_REFUSED_REVOKED, "revoked" },
				       { P2PBUF_EXP_REFUSED_NO_ROUTE, "no_route" }),
		      __entry->err)
);

/*
 * p2pbuf_exp_revoke_buf: a buffer was marked revoked and its importers
 * invalidated; @holders mappings were still held (the revoke waits for them).
 */
TRACE_EVENT(p2pbuf_exp_revoke_buf,
	    TP_PROTO(struct p2pbuf_exp_buf *buf),
	    TP_ARGS(buf),
	    TP_STRUCT__entry(__string(dev, pci_name(buf->edev->pdev))
			     __field(u64, id)
			     __field(unsigned int, holders)),
	    TP_fast_assign(__assign_str(dev);
			   __entry->id = buf->id;
			   /* Less the buffer's own base reference. */
			   __entry->holders = kref_read(&buf->maps) - 1;),
	    TP_printk("dev=%s buf=%llu holders=%u", __get_str(dev), __entry->id,
		      __entry->holders)
);

/* p2pbuf_exp_revoke_drained: the last mapping of a revoked buffer is gone. */
TRACE_EVENT(p2pbuf_exp_revoke_drained,
	    TP_PROTO(struct p2pbuf_exp_buf *buf),
	    TP_ARGS(buf),
	    TP_STRUCT__entry(__string(dev, pci_name(buf->edev->pdev))
			     __field(u64, id)),
	    TP_fast_assign(__assign_str(dev);
			   __entry->id = buf->id;),
	    TP_printk("dev=%s buf=%llu", __get_str(dev), __entry->id)
);

/* p2pbuf_exp_revoke, p2pbuf_exp_restore: a call's end, @count (> 0) buffers. */
DECLARE_EVENT_CLASS(p2pbuf_exp_batch,
		    TP_PROTO(struct p2pbuf_exp_dev *edev, u32 count),
		    TP_ARGS(edev, count),
		    TP_STRUCT__entry(__string(dev, pci_name(edev->pdev))
				     __field(u32, count)),
		    TP_fast_assign(__assign_str(dev);
				   __entry->count = count;),
		    TP_printk("dev=%s count=%u", __get_str(dev), __entry->count)
);

DEFINE_EVENT(p2pbuf_exp_batch, p2pbuf_exp_revoke,
	     TP_PROTO(struct p2pbuf_exp_dev *edev, u32 count),
	     TP_ARGS(edev, count)
);

DEFINE_EVENT(p2pbuf_exp_batch, p2pbuf_exp_restore,
	     TP_PROTO(struct p2pbuf_exp_dev *edev, u32 count),
	     TP_ARGS(edev, count)
);

#endif /* P2PBUF_EXP_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
