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
 * runs unlocked, takes only p2pbuf_exp_dev.lock. The PCI core calls the
 * reset, error and power management callbacks (lifecycle.c) with the
 * device lock held or from the PM core; they take revoke_lock.
 */
#ifndef P2PBUF_EXPORTER_H
#define P2PBUF_EXPORTER_H

#include <linux/bits.h>
#include <linux/completion.h>
#include <linux/dma-direction.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/miscdevice.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/types.h>
#include <linux/workqueue.h>

#include <linux/p2pbuf_exporter.h>

struct dma_buf;
struct dma_buf_attachment;
struct dentry;
struct file;
struct p2pdma_provider;
struct sg_table;

/* A waiting revoke names the fences and importers it waits for this often. */
#define P2PBUF_EXP_REVOKE_WARN_MS	5000

/* Revoke reasons that belong to the device, not to one buffer. */
#define P2PBUF_EXP_REVOKED_EVENTS	(P2PBUF_EXP_REVOKED_DECODE |	\
					 P2PBUF_EXP_REVOKED_RESET |	\
					 P2PBUF_EXP_REVOKED_ERROR |	\
					 P2PBUF_EXP_REVOKED_SUSPEND |	\
					 P2PBUF_EXP_REVOKED_RUNTIME_PM)
/* Reasons that nothing clears. */
#define P2PBUF_EXP_REVOKED_FOREVER	(P2PBUF_EXP_REVOKED_CLOSED |	\
					 P2PBUF_EXP_REVOKED_UNBOUND)

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
 * @removed: remove() has revoked every buffer and is about to return, after
 *	which devres frees the p2pdma state. Nothing may reach p2pdma once it
 *	is set; p2pbuf_exp_route() checks (WRITE_ONCE/READ_ONCE).
 * @bufs: every buffer of this device that has not been released yet.
 * @next_buf_id: id of the next buffer (debugfs only).
 * @debugfs: debugfs directory of this device.
 * @refused: attach refusals by enum p2pbuf_exp_refusal (debugfs only).
 * @events: the device-wide %P2PBUF_EXP_REVOKED_EVENTS reasons in force;
 *	written under @revoke_lock and @lock, so either is enough to read it.
 *	A new buffer starts with these reasons.
 * @claimed: BARs claimed with pcim_request_region(), under @lock.
 * @route_mismatches: maps whose table disagreed with the attach-time route
 *	(debugfs only).
 * @decode_work: re-reads PCI_COMMAND every decode_poll_ms, see revoke.c.
 */
struct p2pbuf_exp_dev {
	struct kref kref;
	struct pci_dev *pdev;
	struct miscdevice misc;
	char name[32];
	struct mutex revoke_lock;	/* revoke, restore, unbind */
	struct mutex lock;		/* @bound, @bufs, owners */
	bool bound;
	bool removed;
	struct list_head bufs;
	u64 next_buf_id;
	struct dentry *debugfs;
	atomic_t refused[P2PBUF_EXP_REFUSED_NR];
	u32 events;
	u32 claimed;
	atomic_t route_mismatches;
	struct delayed_work decode_work;
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
 * @revoked: the %P2PBUF_EXP_REVOKED_* reasons that hold; while any does,
 *	new attachments and mappings are refused with -ENODEV. Written under
 *	the dma_resv lock and @edev->revoke_lock, so either one is enough to
 *	read it.
 * @revokes: how many times the buffer went from live to revoked; as
 *	@revoked.
 * @draining: a revoke dropped the base reference of @maps but stopped
 *	waiting (fatal signal) before re-arming it; the next revoke, restore or
 *	remove() finishes the wait first. Under @edev->revoke_lock.
 * @device_ro: EXPORT's %P2PBUF_EXP_EXPORT_DEVICE_READONLY: maps for
 *	DMA_TO_DEVICE only. Set at export, never changed.
 * @revoke_fence: the fences a revoke found right after invalidating the
 *	importers (dma_resv_get_singleton()), which the drain waits for
 *	without the resv lock; fences added later cannot extend the wait.
 *	Under @edev->revoke_lock; NULL when none is pending.
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
	u32 revoked;
	u32 revokes;
	bool draining;
	bool device_ro;
	struct dma_fence *revoke_fence;
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
 * @own_map: map the buffer in sgt.c, not with the core's helper (see
 *	exporter/sgt.c, defects 2 and 3); set at attach for routes through
 *	the host bridge where p2pbuf_exp_needs_own_map() says so, and later
 *	if a map of a BUS_ADDR route needed an IOVA after all. Under the
 *	dma_resv lock.
 * @map_type: enum p2pbuf_map_type of the latest mapping; under the
 *	dma_resv lock.
 * @nr_mappings: mappings handed out by map_dma_buf and not yet unmapped,
 *	invalidated ones included, as QUERY reports them (the cached @bus_sgt
 *	itself does not count); under the dma_resv lock.
 * @bus_sgt: a table that really holds bus addresses (the attach-time
 *	route was BUS_ADDR and the map returned the BAR's bus addresses),
 *	handed out again by every later mapping and freed at detach or, once
 *	the buffer is revoked, by the revoke if the attachment has no mapping
 *	left, else at its last unmap (see exporter/sgt.c); NULL otherwise.
 *	Under the dma_resv lock.
 * @bus_dir: the direction @bus_sgt was mapped with.
 */
struct p2pbuf_exp_attach {
	int route;
	bool own_map;
	u32 map_type;
	u32 nr_mappings;
	struct sg_table *bus_sgt;
	enum dma_data_direction bus_dir;
};

/**
 * struct p2pbuf_exp_revoke_wait - the waits of one revoke call (revoke_wait.c)
 * @start: jiffies when the call started.
 * @bound_ms: revoke_bound_ms when the call started.
 * @exceeded: the call has waited longer than @bound_ms and said so.
 */
struct p2pbuf_exp_revoke_wait {
	unsigned long start;
	unsigned int bound_ms;
	bool exceeded;
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
				  u32 nr_ranges, size_t size, u32 open_flags,
				  bool device_ro);
struct p2pbuf_exp_buf *p2pbuf_exp_buf_get(struct p2pbuf_exp_dev *edev,
					  struct file *owner, int fd);
void p2pbuf_exp_buf_put(struct p2pbuf_exp_buf *buf);
bool p2pbuf_exp_bar_exportable(struct pci_dev *pdev, int bar);
void p2pbuf_exp_drop_cached_sgts(struct p2pbuf_exp_buf *buf);
int p2pbuf_exp_query(struct p2pbuf_exp_buf *buf, struct p2pbuf_exp_query *q,
		     struct p2pbuf_exp_attach_state **states, u32 *nr_states);

/* revoke.c */
void p2pbuf_exp_maps_drained(struct kref *kref);
int p2pbuf_exp_revoke(struct p2pbuf_exp_dev *edev, struct file *owner,
		      struct p2pbuf_exp_buf *only, u32 reason, bool killable);
int p2pbuf_exp_restore(struct p2pbuf_exp_dev *edev, struct file *owner,
		       struct p2pbuf_exp_buf *only, u32 reason, bool killable);
void p2pbuf_exp_disown(struct p2pbuf_exp_dev *edev, struct file *owner);
void p2pbuf_exp_event_revoke(struct p2pbuf_exp_dev *edev, u32 reason);
void p2pbuf_exp_event_restore(struct p2pbuf_exp_dev *edev, u32 reason);
bool p2pbuf_exp_decoding(struct p2pbuf_exp_dev *edev);
void p2pbuf_exp_check_decode(struct p2pbuf_exp_dev *edev);
int p2pbuf_exp_check_decode_locked(struct p2pbuf_exp_dev *edev, bool killable);
void p2pbuf_exp_decode_poll(struct p2pbuf_exp_dev *edev, unsigned int delay_ms);
void p2pbuf_exp_decode_work(struct work_struct *work);
void p2pbuf_exp_decode_poll_start(struct p2pbuf_exp_dev *edev);

/* lifecycle.c */
extern const struct pci_error_handlers p2pbuf_exp_err_handlers;
extern const struct dev_pm_ops p2pbuf_exp_pm_ops;

/* sgt.c */
struct sg_table *p2pbuf_exp_sgt_map(struct p2pbuf_exp_buf *buf,
				    struct dma_buf_attachment *attach,
				    bool own_map, enum dma_data_direction dir);
bool p2pbuf_exp_needs_own_map(const struct p2pbuf_exp_buf *buf);
void p2pbuf_exp_sgt_unmap(struct dma_buf_attachment *attach,
			  struct sg_table *sgt, bool own_map,
			  enum dma_data_direction dir);

/* maptype.c */
int p2pbuf_exp_route(struct p2pbuf_exp_buf *buf, struct device *client);
u32 p2pbuf_exp_map_type(const struct p2pbuf_exp_buf *buf,
			struct device *client, int route, struct sg_table *sgt);
const char *p2pbuf_exp_map_type_name(u32 map_type);

/* revoke_wait.c */
void p2pbuf_exp_wait_init(struct p2pbuf_exp_revoke_wait *w);
unsigned long p2pbuf_exp_wait_slice(const struct p2pbuf_exp_revoke_wait *w);
void p2pbuf_exp_wait_report(struct p2pbuf_exp_buf *buf,
			    struct p2pbuf_exp_revoke_wait *w, bool fences);
void p2pbuf_exp_wait_done(struct p2pbuf_exp_dev *edev,
			  const struct p2pbuf_exp_revoke_wait *w, u32 count);

/* debugfs.c */
void p2pbuf_exp_debugfs_init(void);
void p2pbuf_exp_debugfs_exit(void);
void p2pbuf_exp_debugfs_add(struct p2pbuf_exp_dev *edev);
void p2pbuf_exp_debugfs_remove(struct p2pbuf_exp_dev *edev);

#endif /* P2PBUF_EXPORTER_H */
