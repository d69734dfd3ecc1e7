/* SPDX-License-Identifier: GPL-2.0 */
/*
 * p2pbuf exporter: private definitions shared by the driver's files.
 *
 * Lock order, outermost first:
 *
 *   p2pbuf_exp_dev.revoke_lock
 *     p2pbuf_exp_dev.lock
 *       dma_buf.resv (one buffer at a time)
 *
 * The dma_buf_ops callbacks that the core calls with the resv lock held
 * (map_dma_buf, unmap_dma_buf) take neither driver mutex; release, which
 * runs unlocked, takes only p2pbuf_exp_dev.lock.
 */
#ifndef P2PBUF_EXPORTER_H
#define P2PBUF_EXPORTER_H

#include <linux/completion.h>
#include <linux/dma-direction.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/miscdevice.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/types.h>

#include <linux/p2pbuf_exporter.h>

struct dma_buf;
struct dma_buf_attachment;
struct dentry;
struct file;
struct p2pdma_provider;
struct sg_table;

/* Revoke warns about importers that keep their mappings this long. */
#define P2PBUF_EXP_REVOKE_WARN_MS	5000

/**
 * enum p2pbuf_exp_refusal - why .attach refused an importer (debugfs only)
 * @P2PBUF_EXP_REFUSED_NO_P2P: the importer cannot take peer-to-peer memory.
 * @P2PBUF_EXP_REFUSED_NOT_REVOCABLE: the importer has no invalidate_mappings.
 * @P2PBUF_EXP_REFUSED_REVOKED: the buffer is revoked.
 * @P2PBUF_EXP_REFUSED_NO_ROUTE: p2pdma cannot route to the importer.
 * @P2PBUF_EXP_REFUSED_NR: number of reasons.
 */
enum p2pbuf_exp_refusal {
	P2PBUF_EXP_REFUSED_NO_P2P,
	P2PBUF_EXP_REFUSED_NOT_REVOCABLE,
	P2PBUF_EXP_REFUSED_REVOKED,
	P2PBUF_EXP_REFUSED_NO_ROUTE,
	P2PBUF_EXP_REFUSED_NR,
};

/**
 * struct p2pbuf_exp_dev - driver state of one bound PCI device
 * @kref: held by the binding (dropped at the end of remove()), by every
 *	open file of @misc and by every buffer until its release.
 * @pdev: the device. A reference is held for the lifetime of this
 *	structure, but its BARs and p2pdma state may be used only while
 *	@bound is set.
 * @misc: the character device /dev/p2pbuf-exp-<BDF>.
 * @name: name of @misc.
 * @revoke_lock: serialises revoke, restore and unbind; held across the
 *	waits for importers to unmap. Outermost lock of the driver.
 * @lock: protects @bound, @bufs, @next_buf_id and each buffer's @owner.
 *	Nests inside @revoke_lock and outside every buffer's dma_resv lock.
 * @bound: the driver is bound. Cleared by remove() (under both mutexes)
 *	before it revokes every buffer; nothing is exported afterwards.
 * @bufs: every buffer of this device that has not been released yet.
 * @next_buf_id: id of the next buffer (debugfs only).
 * @debugfs: debugfs directory of this device.
 * @refused: attach refusals by enum p2pbuf_exp_refusal (debugfs only).
 */
struct p2pbuf_exp_dev {
	struct kref kref;
	struct pci_dev *pdev;
	struct miscdevice misc;
	char name[32];
	struct mutex revoke_lock;	/* revoke, restore, unbind */
	struct mutex lock;		/* @bound, @bufs, owners */
	bool bound;
	struct list_head bufs;
	u64 next_buf_id;
	struct dentry *debugfs;
	atomic_t refused[P2PBUF_EXP_REFUSED_NR];
};

/**
 * struct p2pbuf_exp_buf - one exported dma-buf (dma_buf.priv)
 * @dmabuf: the dma-buf; it owns this structure, which its release frees.
 * @edev: the exporting device; a reference is held until release.
 * @node: entry in @edev->bufs, under @edev->lock.
 * @revoke_node: entry in a revoke or restore batch, under
 *	@edev->revoke_lock.
 * @owner: the exporter file the buffer was exported through, NULL once
 *	that file was closed (the buffer is then revoked for good). Under
 *	@edev->lock; compared, never dereferenced.
 * @provider: p2pdma provider of @bar, looked up when the buffer was
 *	created. Valid only while the device is bound: remove() revokes and
 *	drains every buffer before it returns, and a revoked buffer never
 *	uses it.
 * @id: number of the buffer in its device (debugfs only).
 * @bar: BAR index.
 * @bar_start: CPU physical address of the BAR.
 * @bar_len: length of the BAR.
 * @size: size of the dma-buf, the sum of the range lengths.
 * @revoked: new attachments and mappings are refused with -ENODEV.
 *	Written under the dma_resv lock and @edev->revoke_lock, so either
 *	one is enough to read it.
 * @revokes: how many times the buffer was revoked; as @revoked.
 * @maps: one reference per live mapping, plus a base reference that a
 *	revoke drops to wait for the mappings to drain and then re-arms.
 * @maps_done: completed when @maps drops to zero.
 * @nr_ranges: number of entries in @phys_vec.
 * @phys_vec: CPU physical ranges of the buffer, in order.
 */
struct p2pbuf_exp_buf {
	struct dma_buf *dmabuf;
	struct p2pbuf_exp_dev *edev;
	struct list_head node;
	struct list_head revoke_node;
	struct file *owner;
	struct p2pdma_provider *provider;
	u64 id;
	u32 bar;
	phys_addr_t bar_start;
	resource_size_t bar_len;
	size_t size;
	bool revoked;
	u32 revokes;
	struct kref maps;
	struct completion maps_done;
	u32 nr_ranges;
	struct phys_vec phys_vec[] __counted_by(nr_ranges);
};

/**
 * struct p2pbuf_exp_attach - exporter state of one attachment
 *	(dma_buf_attachment.priv)
 * @route: PCI_P2PDMA_MAP_BUS_ADDR or PCI_P2PDMA_MAP_THRU_HOST_BRIDGE, the
 *	route p2pbuf_exp_route() found when the importer attached.
 * @split: map the buffer one range at a time (see exporter/sgt.c).
 * @map_type: enum p2pbuf_map_type of the latest mapping; under the
 *	dma_resv lock.
 * @nr_mappings: live mappings of this attachment; under the dma_resv lock.
 * @bus_sgt: for a BUS_ADDR route, the table of the first mapping, handed
 *	out again by every later one and freed at detach (see exporter/sgt.c);
 *	NULL otherwise or before the first mapping. Under the dma_resv lock.
 */
struct p2pbuf_exp_attach {
	int route;
	bool split;
	u32 map_type;
	u32 nr_mappings;
	struct sg_table *bus_sgt;
};

/* main.c */
void p2pbuf_exp_dev_get(struct p2pbuf_exp_dev *edev);
void p2pbuf_exp_dev_put(struct p2pbuf_exp_dev *edev);

/* cdev.c */
int p2pbuf_exp_cdev_register(struct p2pbuf_exp_dev *edev);
void p2pbuf_exp_cdev_unregister(struct p2pbuf_exp_dev *edev);

/* dmabuf.c */
struct dma_buf *p2pbuf_exp_export(struct p2pbuf_exp_dev *edev,
				  struct file *owner, u32 bar,
				  const struct p2pbuf_exp_range *ranges,
				  u32 nr_ranges, size_t size, u32 open_flags);
struct p2pbuf_exp_buf *p2pbuf_exp_buf_get(struct p2pbuf_exp_dev *edev,
					  struct file *owner, int fd);
void p2pbuf_exp_buf_put(struct p2pbuf_exp_buf *buf);
u32 p2pbuf_exp_revoke(struct p2pbuf_exp_dev *edev, struct file *owner,
		      struct p2pbuf_exp_buf *only);
u32 p2pbuf_exp_restore(struct p2pbuf_exp_dev *edev, struct file *owner,
		       struct p2pbuf_exp_buf *only);
void p2pbuf_exp_disown(struct p2pbuf_exp_dev *edev, struct file *owner);
int p2pbuf_exp_query(struct p2pbuf_exp_buf *buf, struct p2pbuf_exp_query *q,
		     struct p2pbuf_exp_attach_state **states, u32 *nr_states);

/* sgt.c */
struct sg_table *p2pbuf_exp_sgt_map(struct p2pbuf_exp_buf *buf,
				    struct dma_buf_attachment *attach,
				    bool split, enum dma_data_direction dir);
void p2pbuf_exp_sgt_unmap(struct dma_buf_attachment *attach,
			  struct sg_table *sgt, bool split,
			  enum dma_data_direction dir);

/* maptype.c */
int p2pbuf_exp_route(struct p2pbuf_exp_dev *edev, struct device *client);
u32 p2pbuf_exp_map_type(const struct p2pbuf_exp_buf *buf, int route,
			struct sg_table *sgt);
const char *p2pbuf_exp_map_type_name(u32 map_type);

/* debugfs.c */
void p2pbuf_exp_debugfs_init(void);
void p2pbuf_exp_debugfs_exit(void);
void p2pbuf_exp_debugfs_add(struct p2pbuf_exp_dev *edev);
void p2pbuf_exp_debugfs_remove(struct p2pbuf_exp_dev *edev);

#endif /* P2PBUF_EXPORTER_H */
