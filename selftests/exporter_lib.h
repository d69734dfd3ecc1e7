/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Harness-free helpers of exporter_test, in exporter_lib.c.
 *
 * kselftest_harness.h defines _fixture_global and keeps the list of fixtures
 * static, so only one translation unit of a program may include it and all
 * of its tests live there (exporter_test.c and the exporter_test_*.c parts it
 * includes). What needs no harness is compiled separately here.
 */
#ifndef P2PBUF_EXPORTER_LIB_H
#define P2PBUF_EXPORTER_LIB_H

#include <stddef.h>

#include <linux/p2pbuf_exporter.h>
#include <linux/p2pbuf_importer.h>

#define EXP_NAME	"p2pbuf_exporter"
#define PAGE		4096ULL
#define NO_FD		(-1)

int exp_info(int fd, struct p2pbuf_exp_info *info);
/* EXPORT ranges; returns the dma-buf fd or -1 with errno. */
int exp_export(int fd, __u32 bar, const struct p2pbuf_exp_range *r,
	       __u32 n, __u32 open_flags, __u64 *size);
int exp_query(int fd, int buf, struct p2pbuf_exp_attach_state *st,
	      __u32 cap, struct p2pbuf_exp_query *q);
/* REVOKE or RESTORE; returns the count or -1 with errno. */
int exp_revoke(int fd, unsigned long cmd, __u32 flags, int buf);

/* IMPORT into the importer; returns the handle or -1 with errno. */
int imp_import(int imp, int buf, __u32 flags);
int imp_map(int imp, __u32 handle, struct p2pbuf_imp_map *m);
int imp_handle_op(int imp, unsigned long cmd, __u32 handle);
int imp_status(int imp, __u32 handle, struct p2pbuf_imp_status *s);

/*
 * The lab's pair: the provider's exporter file, the initiator's importer
 * file, the largest provider BAR and the topology's expected map type.
 */
struct exp_pair {
	const char *pbdf;	/* P2PBUF_PROVIDER_BDF */
	const char *ibdf;	/* P2PBUF_INITIATOR_BDF */
	char exp_node[128];
	char imp_node[128];
	int exp;		/* exporter file */
	int imp;		/* importer file */
	__u32 bar;		/* the largest provider BAR */
	__u64 bar_size;
	__u32 expect;		/* enum p2pbuf_map_type, P2PBUF_EXPECT_MAP */
};

/* enum p2pbuf_map_type named by P2PBUF_EXPECT_MAP, or P2PBUF_MAP_UNKNOWN. */
__u32 exp_expected_map_type(void);
/*
 * Open both nodes and find the BAR; 0, or -errno with @why set and nothing
 * left open (the caller SKIPs with @why).
 */
int exp_pair_open(struct exp_pair *p, char *why, size_t whylen);
void exp_pair_close(struct exp_pair *p);
/* CPU physical start of BAR @bar of @bdf from sysfs "resource"; 0 if unknown. */
__u64 exp_bar_phys(const char *bdf, __u32 bar);

/*
 * Buffers the exporter's debugfs lists for @bdf (live, revoked or orphaned,
 * until their dma-buf is released) whose line contains @word (NULL: all),
 * or -errno without debugfs.
 */
int exp_debugfs_bufs(const char *bdf, const char *word);

/*
 * The exporter's debugfs count of attaches refused for @reason ("no-p2p",
 * "not-revocable", "revoked", "no-route"), or -errno without debugfs.
 */
long exp_debugfs_refused(const char *bdf, const char *reason);

/* "/dev/<pfx><bdf>" into @path. */
char *node_path(char *path, size_t len, const char *pfx, const char *bdf);
/* A dma-buf of another exporter (udmabuf), or -1. */
int foreign_dmabuf(void);

#endif /* P2PBUF_EXPORTER_LIB_H */
