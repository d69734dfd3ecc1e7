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

/* "/dev/<pfx><bdf>" into @path. */
char *node_path(char *path, size_t len, const char *pfx, const char *bdf);
/* A dma-buf of another exporter (udmabuf), or -1. */
int foreign_dmabuf(void);

#endif /* P2PBUF_EXPORTER_LIB_H */
