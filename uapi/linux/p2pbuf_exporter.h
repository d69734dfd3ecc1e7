/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * p2pbuf exporter uAPI: export ranges of a PCI device's MMIO BARs as
 * peer-to-peer dma-bufs, and revoke them.
 *
 * One character device per bound PCI device: /dev/p2pbuf-exp-<BDF>, also
 * found as /sys/bus/pci/devices/<BDF>/misc/p2pbuf-exp-<BDF>.
 *
 * Conventions for every ioctl below:
 * - The argument starts with @argsz, the size of the structure userspace
 *   knows. @argsz smaller than the structure of the first ABI version (its
 *   minimal size) is -EINVAL; larger than PAGE_SIZE is -E2BIG; larger than
 *   the kernel's structure is accepted if the extra bytes are zero, else
 *   -E2BIG. Between the minimal size and the kernel's, the fields userspace
 *   did not pass read as zero and the kernel writes back only @argsz bytes,
 *   so binaries built against an older header keep working.
 * - Unknown @flags bits and non-zero reserved fields are -EINVAL.
 * - An unreadable or unwritable argument is -EFAULT.
 * - After the device was unbound, every ioctl on a still-open file is -ENODEV.
 * - An unknown ioctl is -ENOTTY.
 * - Output fields are written only when the ioctl succeeds.
 */
#ifndef _UAPI_LINUX_P2PBUF_EXPORTER_H
#define _UAPI_LINUX_P2PBUF_EXPORTER_H

#include <linux/types.h>
#include <linux/ioctl.h>
#include <linux/p2pbuf.h>

/**
 * define P2PBUF_EXP_NUM_BARS - number of standard BARs reported by INFO.
 */
#define P2PBUF_EXP_NUM_BARS	6
/**
 * define P2PBUF_EXP_MAX_RANGES - most ranges one EXPORT accepts.
 */
#define P2PBUF_EXP_MAX_RANGES	1024
/**
 * define P2PBUF_EXP_NAME_LEN - size of a device name in struct p2pbuf_exp_attach_state.
 */
#define P2PBUF_EXP_NAME_LEN	64

#define P2PBUF_EXP_BAR_MEM	(1U << 0)
#define P2PBUF_EXP_BAR_MEM64	(1U << 1)
#define P2PBUF_EXP_BAR_PREFETCH	(1U << 2)
#define P2PBUF_EXP_BAR_PROVIDER	(1U << 3)

/**
 * struct p2pbuf_exp_bar_info - one BAR as INFO reports it
 * @size: length of the BAR in bytes; 0 if the BAR is not implemented.
 * @flags: P2PBUF_EXP_BAR_MEM (memory BAR), P2PBUF_EXP_BAR_MEM64 (64-bit),
 *	P2PBUF_EXP_BAR_PREFETCH (prefetchable), P2PBUF_EXP_BAR_PROVIDER
 *	(EXPORT accepts this BAR: p2pdma has a provider for it, and it is
 *	prefetchable or the exporter's allow_nonprefetchable parameter is
 *	set).
 * @reserved: zero.
 */
struct p2pbuf_exp_bar_info {
	__aligned_u64 size;
	__u32 flags;
	__u32 reserved;
};

/**
 * struct p2pbuf_exp_info - argument of %P2PBUF_EXP_INFO
 * @argsz: size of this structure.
 * @flags: in: zero.
 * @nr_bars: out: %P2PBUF_EXP_NUM_BARS.
 * @reserved: in: zero.
 * @bars: out: the standard BARs 0-5, by index.
 */
struct p2pbuf_exp_info {
	__u32 argsz;
	__u32 flags;
	__u32 nr_bars;
	__u32 reserved;
	struct p2pbuf_exp_bar_info bars[P2PBUF_EXP_NUM_BARS];
};

/**
 * struct p2pbuf_exp_range - one range of a BAR
 * @offset: offset from the start of the BAR, page aligned.
 * @length: length in bytes, page aligned, not zero.
 */
struct p2pbuf_exp_range {
	__aligned_u64 offset;
	__aligned_u64 length;
};

/* EXPORT: importers may map the buffer DMA_TO_DEVICE only. */
#define P2PBUF_EXP_EXPORT_DEVICE_READONLY	(1U << 0)

/**
 * struct p2pbuf_exp_export - argument of %P2PBUF_EXP_EXPORT
 * @argsz: size of this structure.
 * @flags: in: zero or %P2PBUF_EXP_EXPORT_DEVICE_READONLY: the importers'
 *	devices may only read the buffer, and a map for device writes
 *	(DMA_FROM_DEVICE or DMA_BIDIRECTIONAL) fails with -EACCES. Opt-in:
 *	most importers map DMA_BIDIRECTIONAL, whatever their use. Export
 *	O_RDONLY with it: importers that follow the file's access mode
 *	(p2pbuf_importer) then map DMA_TO_DEVICE.
 * @bar: in: BAR index, 0-5; the BAR must be a p2pdma provider.
 * @open_flags: in: flags of the new file: O_CLOEXEC and the access mode
 *	(O_RDONLY, O_WRONLY, O_RDWR) only. The access mode is that of the
 *	dma-buf's file (for example the CPU mapping a holder of the fd may
 *	make); it does not bind the importers' devices, see @flags.
 * @nr_ranges: in: number of entries at @ranges, 1 to %P2PBUF_EXP_MAX_RANGES.
 * @fd: out: the new dma-buf file descriptor.
 * @ranges: in: user pointer to @nr_ranges struct p2pbuf_exp_range. Ranges
 *	may overlap; the dma-buf is their concatenation.
 * @size: out: size of the dma-buf, the sum of the range lengths.
 * @reserved: in: zero.
 *
 * The first EXPORT of a BAR claims it (pci_request_region()) for as long as
 * the driver is bound. A buffer exported while the device does not decode
 * memory (PCI_COMMAND_MEMORY clear, reset, error recovery, suspended)
 * starts revoked, see %P2PBUF_EXP_REVOKED_DECODE.
 *
 * Errors: -EINVAL for a BAR outside 0-5, a zero, unaligned or out-of-BAR
 * range, a total size with bit 63 set, unknown flags or open_flags,
 * non-zero reserved fields, or @nr_ranges 0; -E2BIG for @nr_ranges above
 * %P2PBUF_EXP_MAX_RANGES; -EOVERFLOW when offset + length overflows;
 * -EOPNOTSUPP when the BAR is not a p2pdma provider (I/O BAR, unimplemented
 * BAR, or a device whose BARs p2pdma refuses) or is not prefetchable;
 * -EBUSY when another driver claimed the BAR; -ENOMEM; -EMFILE. Nothing is
 * created on any error; the fd is installed only after everything else
 * succeeded.
 */
struct p2pbuf_exp_export {
	__u32 argsz;
	__u32 flags;
	__u32 bar;
	__u32 open_flags;
	__u32 nr_ranges;
	__s32 fd;
	__aligned_u64 ranges;
	__aligned_u64 size;
	__aligned_u64 reserved;
};

/**
 * define P2PBUF_EXP_REVOKE_ALL - REVOKE/RESTORE every buffer exported through this file.
 */
#define P2PBUF_EXP_REVOKE_ALL	(1U << 0)

/**
 * struct p2pbuf_exp_revoke - argument of %P2PBUF_EXP_REVOKE and %P2PBUF_EXP_RESTORE
 * @argsz: size of this structure.
 * @flags: in: %P2PBUF_EXP_REVOKE_ALL, or zero to name one buffer by @fd.
 * @fd: in: a dma-buf exported through this file (without
 *	%P2PBUF_EXP_REVOKE_ALL); must be -1 with it.
 * @count: out: number of buffers whose state changed.
 * @reserved: in: zero.
 *
 * A buffer is revoked while any of the %P2PBUF_EXP_REVOKED_* reasons holds;
 * REVOKE sets and RESTORE clears %P2PBUF_EXP_REVOKED_USER only, so a
 * RESTORE does not make a buffer live that the device itself revoked (reset,
 * error, power, decode): it becomes live when the last reason clears.
 *
 * REVOKE invalidates every importer's mappings, waits for the buffer's
 * fences and then until every mapping has been unmapped; it returns only
 * when no importer maps the MMIO any more. A revoked buffer refuses new
 * attachments and mappings with -ENODEV. When a buffer becomes live again,
 * its importers' mappings are invalidated once more, which tells them that
 * a map may now succeed. REVOKE of a buffer that has the USER reason, or
 * RESTORE of one without it, changes nothing and is not an error.
 *
 * Errors: -EBADF (@fd is not open), -EINVAL (@fd is not a dma-buf exported
 * through this file, or bad flags/reserved), -ENODEV (device unbound),
 * -EINTR (a fatal signal ended the wait for the fences or the importers:
 * of REVOKE, or of RESTORE finishing the drain of an interrupted REVOKE or
 * revoking because the device stopped decoding memory; the buffers are
 * revoked, mappings may still be draining, and an interrupted RESTORE
 * restored none of them),
 * -EFAULT (the argument cannot be read, or @count cannot be written back:
 * the revoke or restore has then taken place).
 */
struct p2pbuf_exp_revoke {
	__u32 argsz;
	__u32 flags;
	__s32 fd;
	__u32 count;
	__aligned_u64 reserved;
};

#define P2PBUF_EXP_BUF_LIVE	0
#define P2PBUF_EXP_BUF_REVOKED	1

/*
 * Why a buffer is revoked (struct p2pbuf_exp_query.revoke_reasons); docs/
 * revoke.rst has the state machine. USER: %P2PBUF_EXP_REVOKE; CLOSED: the
 * exporter file was closed (for good); UNBOUND: the driver was unbound (for
 * good); DECODE: the device did not decode memory when last checked
 * (PCI_COMMAND_MEMORY clear); RESET: a function or bus reset is in
 * progress; ERROR: PCI error recovery (AER) is in progress; SUSPEND: system
 * sleep; RUNTIME_PM: the device is runtime suspended.
 */
#define P2PBUF_EXP_REVOKED_USER		(1U << 0)
#define P2PBUF_EXP_REVOKED_CLOSED	(1U << 1)
#define P2PBUF_EXP_REVOKED_UNBOUND	(1U << 2)
#define P2PBUF_EXP_REVOKED_DECODE	(1U << 3)
#define P2PBUF_EXP_REVOKED_RESET	(1U << 4)
#define P2PBUF_EXP_REVOKED_ERROR	(1U << 5)
#define P2PBUF_EXP_REVOKED_SUSPEND	(1U << 6)
#define P2PBUF_EXP_REVOKED_RUNTIME_PM	(1U << 7)

/**
 * struct p2pbuf_exp_attach_state - one attachment as QUERY reports it
 * @importer: dev_name() of the attached device, NUL terminated.
 * @map_type: enum p2pbuf_map_type of the attachment's latest mapping
 *	(%P2PBUF_MAP_UNKNOWN if never mapped).
 * @nr_mappings: mappings of this attachment that its importer has not
 *	unmapped yet: each successful map counts until its unmap, including
 *	one that a revoke invalidated and still waits for (a REVOKE that
 *	succeeds has waited until it is 0 everywhere). A bus address table the
 *	exporter keeps for the attachment between mappings does not count.
 * @reserved: zero.
 */
struct p2pbuf_exp_attach_state {
	char importer[P2PBUF_EXP_NAME_LEN];
	__u32 map_type;
	__u32 nr_mappings;
	__aligned_u64 reserved;
};

/**
 * struct p2pbuf_exp_query - argument of %P2PBUF_EXP_QUERY
 * @argsz: size of this structure.
 * @flags: in: zero.
 * @fd: in: a dma-buf exported through this file.
 * @state: out: %P2PBUF_EXP_BUF_LIVE or %P2PBUF_EXP_BUF_REVOKED.
 * @size: out: size of the buffer.
 * @bar: out: BAR index.
 * @nr_ranges: out: number of ranges.
 * @revokes: out: how many times the buffer was revoked.
 * @nr_attachments: in: capacity of @attachments (may be 0); out: number of
 *	attachments (only min(in, out) entries are written).
 * @attachments: in: user pointer to struct p2pbuf_exp_attach_state[].
 * @reserved: in: zero.
 * @revoke_reasons: out: the %P2PBUF_EXP_REVOKED_* reasons that hold (zero
 *	when @state is %P2PBUF_EXP_BUF_LIVE). Added after the first ABI
 *	version: the minimal @argsz ends at @reserved.
 * @reserved2: in: zero.
 *
 * Errors: as for %P2PBUF_EXP_REVOKE.
 */
struct p2pbuf_exp_query {
	__u32 argsz;
	__u32 flags;
	__s32 fd;
	__u32 state;
	__aligned_u64 size;
	__u32 bar;
	__u32 nr_ranges;
	__u32 revokes;
	__u32 nr_attachments;
	__aligned_u64 attachments;
	__aligned_u64 reserved;
	__u32 revoke_reasons;
	__u32 reserved2;
};

/* Report the device's BARs. */
#define P2PBUF_EXP_INFO		_IO(P2PBUF_IOCTL_TYPE, P2PBUF_EXP_BASE + 0)
/* Export BAR ranges as a dma-buf. */
#define P2PBUF_EXP_EXPORT	_IO(P2PBUF_IOCTL_TYPE, P2PBUF_EXP_BASE + 1)
/* Revoke buffers: no importer maps them when it returns. */
#define P2PBUF_EXP_REVOKE	_IO(P2PBUF_IOCTL_TYPE, P2PBUF_EXP_BASE + 2)
/* Make revoked buffers mappable again. */
#define P2PBUF_EXP_RESTORE	_IO(P2PBUF_IOCTL_TYPE, P2PBUF_EXP_BASE + 3)
/* Report a buffer's state and attachments. */
#define P2PBUF_EXP_QUERY	_IO(P2PBUF_IOCTL_TYPE, P2PBUF_EXP_BASE + 4)

#endif /* _UAPI_LINUX_P2PBUF_EXPORTER_H */
