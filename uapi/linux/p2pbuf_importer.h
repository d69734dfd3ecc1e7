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
 * than the first ABI version: -EINVAL; larger than PAGE_SIZE: -E2BIG;
 * longer with a non-zero tail: -E2BIG), unknown flags and non-zero reserved
 * fields -EINVAL, bad pointers -EFAULT, an unknown handle -ENOENT, an
 * unbound device -ENODEV, an unknown ioctl -ENOTTY.
 *
 * Events: read() returns whole struct p2pbuf_imp_event records of 24 bytes
 * each, as many as fit (-EINVAL if the buffer cannot hold one; -EAGAIN
 * with O_NONBLOCK when none is queued); poll() reports EPOLLIN while one is
 * queued.
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
 * @flags: in: zero or %P2PBUF_IMP_IMPORT_PINNED (only when the importer
 *	file was opened with CAP_SYS_ADMIN).
 * @fd: in: a dma-buf file descriptor. Its access mode decides the import's:
 *	a dma-buf opened read-only gives a read-only import, into which the
 *	device never writes (%P2PBUF_IMP_STATE_READONLY); one opened
 *	write-only a write-only import, which the device never reads
 *	(%P2PBUF_IMP_STATE_WRITEONLY).
 * @handle: out: handle of the import in this file (never 0).
 * @size: out: size of the dma-buf.
 * @reserved: in: zero.
 *
 * Attaches with dma_buf_dynamic_attach(), allow_peer2peer and an
 * invalidate_mappings callback. Errors: -EBADF (@fd not open), -EINVAL (@fd is
 * not a dma-buf), -EACCES (@fd was opened neither for reading nor for writing),
 * -EPERM (%P2PBUF_IMP_IMPORT_PINNED and the file's opener lacked
 * CAP_SYS_ADMIN), -EDQUOT (%P2PBUF_IMP_IMPORT_PINNED and the sizes of all
 * pinned imports, of every open file, would exceed the importer's
 * max_pinned_bytes module parameter, 1 GiB by default), the exporter's refusal as returned by its
 * attach or pin (for example -EOPNOTSUPP, -ENODEV), -ENOSPC (the file holds the
 * most imports it may), -ENOMEM. No event names a handle before IMPORT returned
 * it; one queued for an invalidation during IMPORT names the new handle.
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
 * @addr: DMA address as the device sees it; 0 unless the importer file
 *	was opened with CAP_SYS_ADMIN.
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
 * Maps the attachment for the device, asking the exporter for what the import
 * allows: bidirectional, to-device only for a read-only import, from-device
 * only for a write-only one. Mapping a mapped handle is -EBUSY. After an
 * invalidation the handle is unmapped and MAP maps again (move) or fails with
 * the exporter's errno (revoke: -ENODEV). Errors also: -EINVAL when p2pdma
 * cannot route between the devices; -ERANGE when an address of the mapping is
 * beyond the device's DMA mask (what its engine can reach).
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
#define P2PBUF_IMP_STATE_READONLY	(1U << 3)
#define P2PBUF_IMP_STATE_WRITEONLY	(1U << 4)

/**
 * struct p2pbuf_imp_status - argument of %P2PBUF_IMP_STATUS
 * @argsz: size of this structure.
 * @flags: in: zero.
 * @handle: in: the import.
 * @state: out: P2PBUF_IMP_STATE_* bits. INVALIDATED is set by an
 *	invalidation and cleared by the next successful MAP. READONLY: the
 *	dma-buf was imported from a read-only file. WRITEONLY: from a
 *	write-only file.
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
 * addresses. Errors: -EOPNOTSUPP (no engine), -ENOENT, -EACCES
 * (%P2PBUF_IMP_DMA_TO_BUF into a read-only import, %P2PBUF_IMP_DMA_FROM_BUF
 * from a write-only one), -ENXIO (handle not
 * mapped, or invalidated), -EINVAL (range), -ETIMEDOUT (fences, or the
 * engine: the device is then stopped), -EIO (engine stopped by an earlier
 * timeout, until the device is bound again).
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
 *
 * The record has no size field and no reserved field: its size is fixed at
 * 24 bytes, the size of this structure, and never changes, because readers
 * step through a read() buffer by sizeof(struct p2pbuf_imp_event). A record
 * that needs more would be a new ABI that the reader asks for explicitly,
 * never a longer form of this one. New event types fit this layout.
 */
struct p2pbuf_imp_event {
	__u32 type;
	__u32 handle;
	__aligned_u64 seq;
	__aligned_u64 invalidations;
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
/*
 * P2PBUF_IMP_BASE + 7 and + 8 were benchmark ioctls before any release;
 * their measurements are now in debugfs and tracepoints (docs/tracing.rst).
 * The numbers stay unused.
 */

#endif /* _UAPI_LINUX_P2PBUF_IMPORTER_H */
