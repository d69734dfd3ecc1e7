/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * p2pbuf importer uAPI: import any dma-buf into a PCI device acting as DMA
 * initiator with a dynamic, peer-to-peer, revocable attachment; map it,
 * report how it was mapped, move data through it, and learn about
 * invalidations.
 *
 * One character device per bound PCI device: /dev/p2pbuf-imp-<BDF>, also
 * found as /sys/bus/pci/devices/<BDF>/misc/p2pbuf-imp-<BDF>. Imports belong
 * to the open file; closing it unmaps and detaches them all.
 *
 * Conventions are those of <linux/p2pbuf_exporter.h>: @argsz first (shorter
 * than the first ABI version: -EINVAL; longer with a non-zero tail:
 * -E2BIG), unknown flags and non-zero reserved fields -EINVAL, bad pointers
 * -EFAULT, an unknown handle -ENOENT, an unbound device -ENODEV, an unknown
 * ioctl -ENOTTY.
 *
 * Events: read() returns whole struct p2pbuf_imp_event records (-EINVAL if
 * the buffer cannot hold one; -EAGAIN with O_NONBLOCK when none is queued);
 * poll() reports EPOLLIN while one is queued.
 */
#ifndef _UAPI_LINUX_P2PBUF_IMPORTER_H
#define _UAPI_LINUX_P2PBUF_IMPORTER_H

#include <linux/types.h>
#include <linux/ioctl.h>
#include <linux/p2pbuf.h>

/**
 * define P2PBUF_IMP_NAME_LEN - size of the engine name in struct p2pbuf_imp_info.
 */
#define P2PBUF_IMP_NAME_LEN	32

/**
 * struct p2pbuf_imp_info - argument of %P2PBUF_IMP_INFO
 * @argsz: size of this structure.
 * @flags: in: zero.
 * @engine: out: name of the DMA engine backend, "" when the device has none
 *	(it still imports and maps; %P2PBUF_IMP_DMA is then -EOPNOTSUPP).
 * @dma_max: out: largest transfer of one %P2PBUF_IMP_DMA, 0 without engine.
 * @reserved: in: zero.
 */
struct p2pbuf_imp_info {
	__u32 argsz;
	__u32 flags;
	char engine[P2PBUF_IMP_NAME_LEN];
	__aligned_u64 dma_max;
	__aligned_u64 reserved;
};

/**
 * define P2PBUF_IMP_IMPORT_PINNED - pin the attachment (still revocable).
 */
#define P2PBUF_IMP_IMPORT_PINNED	(1U << 0)

/**
 * struct p2pbuf_imp_import - argument of %P2PBUF_IMP_IMPORT
 * @argsz: size of this structure.
 * @flags: in: zero or %P2PBUF_IMP_IMPORT_PINNED.
 * @fd: in: a dma-buf file descriptor.
 * @handle: out: handle of the import in this file (never 0).
 * @size: out: size of the dma-buf.
 * @reserved: in: zero.
 *
 * Attaches with dma_buf_dynamic_attach(), allow_peer2peer and an
 * invalidate_mappings callback. Errors: -EBADF (@fd not open), -EINVAL (@fd
 * is not a dma-buf), the exporter's refusal as returned by its attach or
 * pin (for example -EOPNOTSUPP, -ENODEV), -ENOSPC (the file holds the most
 * imports it may), -ENOMEM.
 */
struct p2pbuf_imp_import {
	__u32 argsz;
	__u32 flags;
	__s32 fd;
	__u32 handle;
	__aligned_u64 size;
	__aligned_u64 reserved;
};

/**
 * struct p2pbuf_imp_handle - argument of %P2PBUF_IMP_RELEASE and %P2PBUF_IMP_UNMAP
 * @argsz: size of this structure.
 * @flags: in: zero.
 * @handle: in: the import.
 * @reserved: in: zero.
 */
struct p2pbuf_imp_handle {
	__u32 argsz;
	__u32 flags;
	__u32 handle;
	__u32 reserved;
};

/**
 * struct p2pbuf_imp_seg - one DMA segment of a mapping
 * @addr: DMA address as the device sees it; 0 unless the caller has
 *	CAP_SYS_ADMIN.
 * @len: length in bytes.
 */
struct p2pbuf_imp_seg {
	__aligned_u64 addr;
	__aligned_u64 len;
};

/**
 * struct p2pbuf_imp_map - argument of %P2PBUF_IMP_MAP
 * @argsz: size of this structure.
 * @flags: in: zero.
 * @handle: in: the import.
 * @map_type: out: enum p2pbuf_map_type as the importer sees the mapping.
 * @nr_segs: out: number of DMA segments.
 * @max_segs: in: capacity of @segs (may be 0).
 * @length: out: total DMA length.
 * @segs: in: user pointer to @max_segs struct p2pbuf_imp_seg; the first
 *	min(@max_segs, @nr_segs) are written.
 * @reserved: in: zero.
 *
 * Maps the attachment for the device (bidirectional). Mapping a mapped
 * handle is -EBUSY. After an invalidation the handle is unmapped and MAP
 * maps again (move) or fails with the exporter's errno (revoke: -ENODEV).
 * Errors also: -EINVAL when p2pdma cannot route between the devices.
 */
struct p2pbuf_imp_map {
	__u32 argsz;
	__u32 flags;
	__u32 handle;
	__u32 map_type;
	__u32 nr_segs;
	__u32 max_segs;
	__aligned_u64 length;
	__aligned_u64 segs;
	__aligned_u64 reserved;
};

#define P2PBUF_IMP_STATE_MAPPED		(1U << 0)
#define P2PBUF_IMP_STATE_INVALIDATED	(1U << 1)
#define P2PBUF_IMP_STATE_PINNED		(1U << 2)

/**
 * struct p2pbuf_imp_status - argument of %P2PBUF_IMP_STATUS
 * @argsz: size of this structure.
 * @flags: in: zero.
 * @handle: in: the import.
 * @state: out: P2PBUF_IMP_STATE_* bits. INVALIDATED is set by an
 *	invalidation and cleared by the next successful MAP.
 * @map_type: out: enum p2pbuf_map_type of the current or last mapping.
 * @nr_segs: out: segments of the current mapping (0 if unmapped).
 * @length: out: DMA length of the current mapping (0 if unmapped).
 * @invalidations: out: invalidations received by this import.
 * @reserved: in: zero.
 */
struct p2pbuf_imp_status {
	__u32 argsz;
	__u32 flags;
	__u32 handle;
	__u32 state;
	__u32 map_type;
	__u32 nr_segs;
	__aligned_u64 length;
	__aligned_u64 invalidations;
	__aligned_u64 reserved;
};

/**
 * define P2PBUF_IMP_DMA_TO_BUF - user data -> device engine -> the mapping.
 */
#define P2PBUF_IMP_DMA_TO_BUF	(1U << 0)
/**
 * define P2PBUF_IMP_DMA_FROM_BUF - the mapping -> device engine -> user data.
 */
#define P2PBUF_IMP_DMA_FROM_BUF	(1U << 1)

/**
 * struct p2pbuf_imp_dma - argument of %P2PBUF_IMP_DMA
 * @argsz: size of this structure.
 * @flags: in: exactly one of %P2PBUF_IMP_DMA_TO_BUF, %P2PBUF_IMP_DMA_FROM_BUF.
 * @handle: in: a mapped import.
 * @reserved: in: zero.
 * @offset: in: offset in the dma-buf.
 * @length: in: bytes, 1 to the engine's dma_max, within the buffer.
 * @data: in: user pointer to @length bytes (source or destination).
 *
 * The device's DMA engine moves the data through the mapping's DMA
 * addresses. Errors: -EOPNOTSUPP (no engine), -ENOENT, -ENXIO (handle not
 * mapped, or invalidated), -EINVAL (range), -EIO/-ETIMEDOUT (engine).
 */
struct p2pbuf_imp_dma {
	__u32 argsz;
	__u32 flags;
	__u32 handle;
	__u32 reserved;
	__aligned_u64 offset;
	__aligned_u64 length;
	__aligned_u64 data;
};

#define P2PBUF_IMP_EVENT_INVALIDATED	1

/**
 * struct p2pbuf_imp_event - one record read() returns
 * @type: %P2PBUF_IMP_EVENT_INVALIDATED.
 * @handle: the import concerned.
 * @seq: sequence number of this event in the file, from 1.
 * @invalidations: the import's invalidation count after this event.
 */
struct p2pbuf_imp_event {
	__u32 type;
	__u32 handle;
	__aligned_u64 seq;
	__aligned_u64 invalidations;
};

/**
 * define P2PBUF_IMP_MAX_CYCLES - most cycles one %P2PBUF_IMP_MAP_CYCLES runs.
 */
#define P2PBUF_IMP_MAX_CYCLES	65536

/**
 * struct p2pbuf_imp_cycle - the kernel's timing of one map+unmap cycle
 * @map_ns: nanoseconds spent in dma_buf_map_attachment().
 * @unmap_ns: nanoseconds spent in dma_buf_unmap_attachment().
 */
struct p2pbuf_imp_cycle {
	__aligned_u64 map_ns;
	__aligned_u64 unmap_ns;
};

/**
 * struct p2pbuf_imp_map_cycles - argument of %P2PBUF_IMP_MAP_CYCLES
 * @argsz: size of this structure.
 * @flags: in: zero.
 * @handle: in: an import that is not mapped.
 * @nr_cycles: in: number of map+unmap cycles, 1 to %P2PBUF_IMP_MAX_CYCLES.
 * @cycles: in: user pointer to @nr_cycles struct p2pbuf_imp_cycle, written
 *	on success; 0 to run the cycles without reporting their times.
 * @map_type: out: enum p2pbuf_map_type of the first cycle's mapping.
 * @nr_segs: out: DMA segments of the first cycle's mapping.
 * @reserved: in: zero.
 *
 * A benchmark primitive: maps and unmaps the import @nr_cycles times, each
 * cycle under the buffer's dma_resv lock taken for it alone, and times the
 * two dma-buf core calls with the monotonic clock, so that the cost of the
 * exporter's map_dma_buf and unmap_dma_buf (plus the core's) is measured
 * without the system call around it. A pinned import that an invalidation
 * unpinned is pinned again first, as %P2PBUF_IMP_MAP does, and stays pinned.
 * The import is unmapped afterwards, as before; its state (%P2PBUF_IMP_STATUS)
 * does not change. Errors: -ENOENT, -EBUSY (mapped), -EINVAL (@nr_cycles 0),
 * -E2BIG (@nr_cycles above %P2PBUF_IMP_MAX_CYCLES), -EINTR (a signal between
 * cycles), -ENOMEM, -EFAULT, the exporter's errno from pin or map (-ENODEV:
 * revoked); nothing stays mapped after an error.
 */
struct p2pbuf_imp_map_cycles {
	__u32 argsz;
	__u32 flags;
	__u32 handle;
	__u32 nr_cycles;
	__aligned_u64 cycles;
	__u32 map_type;
	__u32 nr_segs;
	__aligned_u64 reserved;
};

/**
 * struct p2pbuf_imp_timing - argument of %P2PBUF_IMP_TIMING
 * @argsz: size of this structure.
 * @flags: in: zero.
 * @handle: in: the import.
 * @reserved: in: zero.
 * @map_ns: out: nanoseconds the last successful %P2PBUF_IMP_MAP spent in
 *	dma_buf_map_attachment(); 0 if never mapped.
 * @unmap_ns: out: nanoseconds the last unmap (by %P2PBUF_IMP_UNMAP or an
 *	invalidation) spent in dma_buf_unmap_attachment(); 0 if none.
 * @inval_start_ns: out: CLOCK_MONOTONIC time, in nanoseconds, at which the
 *	exporter last called the import's invalidate_mappings callback; 0 if
 *	it never did. Comparable with clock_gettime(CLOCK_MONOTONIC).
 * @inval_ns: out: nanoseconds from that call's entry until the import was
 *	unmapped, unpinned and its event queued, i.e. the importer's share of
 *	the exporter's revoke.
 *
 * Timings are taken with the monotonic clock around the dma-buf core
 * calls, for benchmarks; they are not a promise of any bound.
 */
struct p2pbuf_imp_timing {
	__u32 argsz;
	__u32 flags;
	__u32 handle;
	__u32 reserved;
	__aligned_u64 map_ns;
	__aligned_u64 unmap_ns;
	__aligned_u64 inval_start_ns;
	__aligned_u64 inval_ns;
};

/* Report the backend DMA engine. */
#define P2PBUF_IMP_INFO		_IO(P2PBUF_IOCTL_TYPE, P2PBUF_IMP_BASE + 0)
/* Import a dma-buf fd. */
#define P2PBUF_IMP_IMPORT	_IO(P2PBUF_IOCTL_TYPE, P2PBUF_IMP_BASE + 1)
/* Unmap and detach an import. */
#define P2PBUF_IMP_RELEASE	_IO(P2PBUF_IOCTL_TYPE, P2PBUF_IMP_BASE + 2)
/* Map an import for the device. */
#define P2PBUF_IMP_MAP		_IO(P2PBUF_IOCTL_TYPE, P2PBUF_IMP_BASE + 3)
/* Unmap an import. */
#define P2PBUF_IMP_UNMAP	_IO(P2PBUF_IOCTL_TYPE, P2PBUF_IMP_BASE + 4)
/* Report an import's state. */
#define P2PBUF_IMP_STATUS	_IO(P2PBUF_IOCTL_TYPE, P2PBUF_IMP_BASE + 5)
/* Move data through a mapping with the device's DMA engine. */
#define P2PBUF_IMP_DMA		_IO(P2PBUF_IOCTL_TYPE, P2PBUF_IMP_BASE + 6)
/* Time map+unmap cycles of an import in the kernel (benchmarks). */
#define P2PBUF_IMP_MAP_CYCLES	_IO(P2PBUF_IOCTL_TYPE, P2PBUF_IMP_BASE + 7)
/* Report an import's latest map, unmap and invalidation times. */
#define P2PBUF_IMP_TIMING	_IO(P2PBUF_IOCTL_TYPE, P2PBUF_IMP_BASE + 8)

#endif /* _UAPI_LINUX_P2PBUF_IMPORTER_H */
