/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fuzz_test's model of what its calls did, and the calls themselves
 * (fuzz_model.c: the model, the argument faults and the steps;
 * fuzz_exp.c and fuzz_imp.c: one function per exporter and importer call).
 * Harness-free, linked into fuzz_test (see exporter_lib.h for why).
 */
#ifndef P2PBUF_FUZZ_MODEL_H
#define P2PBUF_FUZZ_MODEL_H

#include <stdbool.h>

#include <linux/p2pbuf_exporter.h>
#include <linux/p2pbuf_importer.h>

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif

#define FUZZ_EXPS	2	/* exporter files */
#define FUZZ_IMPS	2	/* importer files */
#define FUZZ_BUFS	6	/* dma-bufs, open or held by imports */
#define FUZZ_IMPORTS	8	/* imports over all importer files */
#define FUZZ_EVENTS	64	/* the importer's event ring */
#define FUZZ_BAR	2	/* the provider BAR the buffers come from */
#define FUZZ_RANGES	3	/* ranges of a valid EXPORT, at most */
#define FUZZ_HISTORY	24	/* calls fuzz_note() keeps */

/* One dma-buf: ours (owned by an exporter file until it closes) or foreign. */
struct fuzz_buf {
	bool used;
	bool foreign;		/* a udmabuf */
	bool revoked;
	bool readonly;		/* exported O_RDONLY: imports are read-only */
	bool writeonly;		/* exported O_WRONLY: imports are write-only */
	int fd;			/* -1 once closed; the imports may hold it */
	int owner;		/* exporter file slot, -1 once that closed */
	__u32 bar;
	__u32 nr_ranges;
	__u32 revokes;
	__u64 size;
	struct p2pbuf_exp_range ranges[FUZZ_RANGES];	/* ours, in the BAR */
	unsigned char *cpu;	/* a udmabuf's CPU mapping, or NULL */
};

struct fuzz_import {
	bool used;
	bool want_pin;
	bool pinned;
	bool mapped;
	bool invalidated;
	int imp;		/* importer file slot */
	int buf;		/* buffer slot */
	__u32 handle;
	__u32 map_type;		/* of the last mapping */
	__u64 invalidations;
};

struct fuzz_imp {
	int fd;
	__u64 seq;		/* events generated */
	unsigned int queued;	/* events in the ring */
};

struct fuzz {
	char exp_node[128];
	char imp_node[128];
	char ibdf[64];
	__u32 expect;		/* map type of the topology */
	bool can_map;
	bool foreign_ok;	/* udmabuf available */
	struct p2pbuf_exp_info info;
	__u64 dma_max;
	char *area;		/* page of arguments, guard page after it */
	unsigned char *bar;	/* FUZZ_BAR through sysfs, or MAP_FAILED */
	__u64 bar_len;

	unsigned long long seed, rng;
	unsigned long calls, call;
	unsigned long nr_ok, nr_err, nr_events;
	unsigned long bad;
	char first[320];
	/* The last FUZZ_HISTORY calls on descriptors, printed on a failure. */
	char history[FUZZ_HISTORY][80];
	unsigned long nr_history;

	int exp[FUZZ_EXPS];
	struct fuzz_imp imp[FUZZ_IMPS];
	struct fuzz_buf buf[FUZZ_BUFS];
	struct fuzz_import import[FUZZ_IMPORTS];
	__u32 stale[8];		/* released handles */
};

/*
 * How an argument is broken. FUZZ_NONE and FUZZ_ZERO_TAIL are valid calls;
 * the others must fail with the errno fuzz_ioctl() documents.
 */
enum fuzz_fault {
	FUZZ_NONE,
	FUZZ_ZERO_TAIL,		/* argsz larger, tail zero: accepted */
	FUZZ_SHORT,		/* argsz below the first ABI version: -EINVAL */
	FUZZ_TAIL,		/* argsz larger, tail not zero: -E2BIG */
	FUZZ_PAST_END,		/* argsz runs into the guard page: -EFAULT */
	FUZZ_NULL,		/* NULL argument: -EFAULT */
	FUZZ_GUARD,		/* argument in the guard page: -EFAULT */
	FUZZ_FLAGS,		/* an unknown flag bit: -EINVAL */
	FUZZ_RESERVED,		/* a non-zero reserved field: -EINVAL */
	FUZZ_NR_FAULTS,
};

/* fuzz_model.c */
void fuzz_init(struct fuzz *f);
__u32 fuzz_map_type(const char *name);
bool foreign_dmabuf_probe(void);
unsigned int fuzz_rand(struct fuzz *f, unsigned int n);
void fuzz_fail(struct fuzz *f, const char *fmt, ...);
void fuzz_note(struct fuzz *f, const char *fmt, ...);
void fuzz_print_history(const struct fuzz *f);
bool fuzz_result(struct fuzz *f, const char *what, int got, int want);
enum fuzz_fault fuzz_pick_fault(struct fuzz *f);
int fuzz_ioctl(struct fuzz *f, int fd, unsigned long cmd, void *arg,
	       size_t size, enum fuzz_fault fault, int *want);
int fuzz_bad_fd(struct fuzz *f);
int fuzz_any_buf(struct fuzz *f, bool open_fd);
int fuzz_any_import(struct fuzz *f);
void fuzz_revoke_buf(struct fuzz *f, int b);
void fuzz_restore_buf(struct fuzz *f, int b);
void fuzz_put_buf(struct fuzz *f, int b);
unsigned char *fuzz_buf_byte(struct fuzz *f, int b, __u64 off);
void fuzz_step(struct fuzz *f);
int fuzz_open_fds(struct fuzz *f);
void fuzz_drain_all(struct fuzz *f);
void fuzz_close_all(struct fuzz *f);

/* fuzz_exp.c */
int fuzz_exp_slot(struct fuzz *f);
void fuzz_exp_open_close(struct fuzz *f);
void fuzz_exp_info(struct fuzz *f);
void fuzz_exp_export(struct fuzz *f);
void fuzz_exp_revoke(struct fuzz *f);
void fuzz_exp_query(struct fuzz *f);
void fuzz_buf_close(struct fuzz *f);

/* fuzz_imp.c */
void fuzz_imp_open_close(struct fuzz *f);
void fuzz_imp_import(struct fuzz *f);
void fuzz_imp_handle_op(struct fuzz *f);
void fuzz_imp_map(struct fuzz *f);
void fuzz_imp_status(struct fuzz *f);
void fuzz_imp_dma(struct fuzz *f);
void fuzz_imp_events(struct fuzz *f, int i);
void fuzz_bad_cmd(struct fuzz *f);

#endif /* P2PBUF_FUZZ_MODEL_H */
