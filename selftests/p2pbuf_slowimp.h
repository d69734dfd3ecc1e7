/* SPDX-License-Identifier: GPL-2.0 */
/*
 * p2pbuf_slowimp: the ioctl ABI of the lab's misbehaving dma-buf importer
 * (lab/test-modules/p2pbuf_slowimp.c), shared with selftests/revoke_slow_test.c. Lab-only,
 * not a stable ABI.
 *
 * Each open file of /dev/p2pbuf-slowimp holds at most one import: a dynamic
 * attachment of a dma-buf for a PCI device the importer borrows (it does not
 * drive it). The import's flags choose how it misbehaves:
 *
 * - P2PBUF_SLOWIMP_HOLD: after an invalidation the mapping is kept, for
 *   hold_ms milliseconds (a delayed work item then unmaps it) or, with
 *   hold_ms 0, until P2PBUF_SLOWIMP_LET_GO. Without it the importer unmaps
 *   inside invalidate_mappings, as a well-behaved one does.
 * - P2PBUF_SLOWIMP_NOT_REVOCABLE: attach without invalidate_mappings while
 *   still asking for peer2peer (a pinned importer that never gives back).
 * - P2PBUF_SLOWIMP_NO_P2P: attach without allow_peer2peer.
 *
 * Ioctls (all return 0 or -1 with errno):
 *
 * P2PBUF_SLOWIMP_IMPORT  attach: EBUSY if the file has an import, EINVAL for
 *                        unknown flags, a non-zero reserved field or a bad
 *                        device name, ENODEV if no such PCI device, else
 *                        dma_buf_get()'s or the exporter's error
 * P2PBUF_SLOWIMP_MAP     map the import: ENOENT without one, EBUSY if mapped,
 *                        else the exporter's error (ENODEV when revoked)
 * P2PBUF_SLOWIMP_LET_GO  unmap a mapping kept after an invalidation, now:
 *                        ENOENT without an import, ENXIO if none is kept
 * P2PBUF_SLOWIMP_STATUS  state and timestamps (CLOCK_MONOTONIC ns, the
 *                        clock of ktime_get_ns()): ENOENT without an import
 */
#ifndef P2PBUF_SLOWIMP_H
#define P2PBUF_SLOWIMP_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define P2PBUF_SLOWIMP_NODE		"/dev/p2pbuf-slowimp"

#define P2PBUF_SLOWIMP_HOLD		0x1U
#define P2PBUF_SLOWIMP_NOT_REVOCABLE	0x2U
#define P2PBUF_SLOWIMP_NO_P2P		0x4U
#define P2PBUF_SLOWIMP_FLAGS		(P2PBUF_SLOWIMP_HOLD |		\
					 P2PBUF_SLOWIMP_NOT_REVOCABLE |	\
					 P2PBUF_SLOWIMP_NO_P2P)

/**
 * struct p2pbuf_slowimp_import - argument of P2PBUF_SLOWIMP_IMPORT
 * @flags: P2PBUF_SLOWIMP_HOLD, _NOT_REVOCABLE, _NO_P2P.
 * @fd: the dma-buf.
 * @hold_ms: with P2PBUF_SLOWIMP_HOLD, how long to keep the mapping after an
 *	invalidation; 0 keeps it until P2PBUF_SLOWIMP_LET_GO.
 * @reserved: must be 0.
 * @dev: the PCI device to attach as, "dddd:bb:dd.f", NUL-terminated.
 */
struct p2pbuf_slowimp_import {
	__u32 flags;
	__s32 fd;
	__u32 hold_ms;
	__u32 reserved;
	char dev[32];
};

/* struct p2pbuf_slowimp_status.state bits */
#define P2PBUF_SLOWIMP_MAPPED		0x1U
#define P2PBUF_SLOWIMP_HELD		0x2U

/**
 * struct p2pbuf_slowimp_status - result of P2PBUF_SLOWIMP_STATUS
 * @state: P2PBUF_SLOWIMP_MAPPED (a mapping exists), P2PBUF_SLOWIMP_HELD (it
 *	was kept after an invalidation).
 * @invalidations: invalidate_mappings calls received.
 * @inval_ns: time of the latest invalidation, 0 if none.
 * @unmap_ns: time of the latest unmap, 0 if none.
 */
struct p2pbuf_slowimp_status {
	__u32 state;
	__u32 invalidations;
	__u64 inval_ns;
	__u64 unmap_ns;
};

#define P2PBUF_SLOWIMP_TYPE	0xBC
#define P2PBUF_SLOWIMP_IMPORT	_IOW(P2PBUF_SLOWIMP_TYPE, 0, struct p2pbuf_slowimp_import)
#define P2PBUF_SLOWIMP_MAP	_IO(P2PBUF_SLOWIMP_TYPE, 1)
#define P2PBUF_SLOWIMP_LET_GO	_IO(P2PBUF_SLOWIMP_TYPE, 2)
#define P2PBUF_SLOWIMP_STATUS	_IOR(P2PBUF_SLOWIMP_TYPE, 3, struct p2pbuf_slowimp_status)

#endif /* P2PBUF_SLOWIMP_H */
