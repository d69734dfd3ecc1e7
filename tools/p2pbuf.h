/* SPDX-License-Identifier: GPL-2.0 */
/*
 * p2pbuf tool: what its source files share. p2pbuf.c runs commands, alone,
 * in a "--" sequence or from a script; obj.c keeps the objects they create;
 * device_cmds.c, exporter_cmds.c and importer_cmds.c hold the commands;
 * util.c the error, output and parsing helpers.
 */
#ifndef P2PBUF_TOOL_H
#define P2PBUF_TOOL_H

#include <stddef.h>
#include <linux/types.h>

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* As the kernel's <linux/string_choices.h>: "" for one, else "s". */
static inline const char *str_plural(unsigned long long num)
{
	static const char * const suffix[] = { "s", "" };

	return suffix[num == 1];
}

#define SYSFS_PCI	"/sys/bus/pci/devices"
#define SYSFS_DRIVERS	"/sys/bus/pci/drivers"
#define EXP_DRIVER	"p2pbuf_exporter"
#define IMP_DRIVER	"p2pbuf_importer"
#define EXP_NODE	"/dev/p2pbuf-exp-"
#define IMP_NODE	"/dev/p2pbuf-imp-"

#define MAX_OBJS	64
#define MAX_ARGS	64
#define NAME_LEN	32
#define MAX_SEGS	64
#define MAX_EVENTS	64

/* A command's result: 0, a negative errno, or CMD_USAGE. */
#define CMD_USAGE	1

#define EXIT_FAILED	1
#define EXIT_USAGE	2

enum obj_kind {
	OBJ_FREE,
	OBJ_EXP,	/* an open exporter device file */
	OBJ_IMP,	/* an open importer device file */
	OBJ_BUF,	/* a dma-buf exported by this process */
	OBJ_IMPORT,	/* an import in an importer file */
};

/**
 * struct obj - something a command created, found again by name
 * @kind: what it is; OBJ_FREE for an unused slot.
 * @name: the name commands use.
 * @fd: the device file or dma-buf file descriptor.
 * @bdf: OBJ_EXP, OBJ_IMP: the PCI device.
 * @dev: OBJ_BUF: the exporter file that exported it, NULL once that file
 *	is closed; OBJ_IMPORT: the importer file that holds the import.
 * @handle: OBJ_IMPORT: the import's handle.
 * @size: OBJ_BUF, OBJ_IMPORT: size of the dma-buf.
 */
struct obj {
	enum obj_kind kind;
	char name[NAME_LEN];
	int fd;
	char bdf[NAME_LEN];
	struct obj *dev;
	__u32 handle;
	__u64 size;
};

extern struct obj objs[MAX_OBJS];
extern int quiet_errors;

/* obj.c */
struct obj *obj_find(const char *name);
struct obj *obj_new(enum obj_kind kind, const char *name, int fd);
void obj_free(struct obj *o);
struct obj *dev_open(const char *bdf, const char *name);
struct obj *dev_get(const char *name, enum obj_kind kind);
struct obj *obj_get(const char *name, enum obj_kind kind);
const char *take_as(int *argc, char **argv);

/* util.c */
const char *errno_name(int err);
int errno_parse(const char *s);
int fail(int err, const char *fmt, ...);
int xioctl(int fd, unsigned long req, void *arg);
const char *map_type_name(__u32 t);
const char *map_type_meaning(__u32 t);
const char *size_str(unsigned long long v);
void hexdump(const unsigned char *p, size_t len, unsigned long long base);
int num_parse(const char *s, unsigned long long *v);
int check_expect(const char *what, const unsigned char *got, size_t len,
		 const char *want);

/* p2pbuf.c */
int usage_of(const char *name);

/* The commands, each called with the words of its command line. */
int cmd_list(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_open(int argc, char **argv);
int cmd_close(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_query(int argc, char **argv);
int cmd_revoke(int argc, char **argv);
int cmd_peek(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_map(int argc, char **argv);
int cmd_unmap(int argc, char **argv);
int cmd_release(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_dma(int argc, char **argv);
int cmd_watch(int argc, char **argv);

#endif /* P2PBUF_TOOL_H */
