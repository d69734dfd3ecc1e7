// SPDX-License-Identifier: GPL-2.0
/*
 * p2pbuf tool: the objects commands create - device files, dma-bufs,
 * imports - and how commands find them again by name.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "p2pbuf.h"

struct obj objs[MAX_OBJS];

struct obj *obj_find(const char *name)
{
	unsigned int i;

	for (i = 0; i < MAX_OBJS; i++)
		if (objs[i].kind != OBJ_FREE && !strcmp(objs[i].name, name))
			return &objs[i];
	return NULL;
}

struct obj *obj_new(enum obj_kind kind, const char *name, int fd)
{
	unsigned int i;

	if (strlen(name) >= NAME_LEN) {
		fail(-ENAMETOOLONG, "name '%s'", name);
		return NULL;
	}
	if (obj_find(name)) {
		fail(-EEXIST, "name '%s'", name);
		return NULL;
	}
	for (i = 0; i < MAX_OBJS; i++) {
		if (objs[i].kind == OBJ_FREE) {
			memset(&objs[i], 0, sizeof(objs[i]));
			objs[i].kind = kind;
			objs[i].fd = fd;
			snprintf(objs[i].name, sizeof(objs[i].name), "%s", name);
			return &objs[i];
		}
	}
	fail(-ENOSPC, "more than %d objects", MAX_OBJS);
	return NULL;
}

void obj_free(struct obj *o)
{
	unsigned int i;

	for (i = 0; i < MAX_OBJS; i++) {
		if (objs[i].dev != o)
			continue;
		/* Imports belong to their importer file and go with it. */
		if (objs[i].kind == OBJ_IMPORT)
			objs[i].kind = OBJ_FREE;
		objs[i].dev = NULL;
	}
	o->kind = OBJ_FREE;
}

/* /dev/p2pbuf-exp-<bdf> or /dev/p2pbuf-imp-<bdf>: its kind, or OBJ_FREE. */
static enum obj_kind node_kind(const char *bdf, char *path, size_t len)
{
	if (strchr(bdf, '/'))
		return OBJ_FREE;
	snprintf(path, len, EXP_NODE "%s", bdf);
	if (!access(path, F_OK))
		return OBJ_EXP;
	snprintf(path, len, IMP_NODE "%s", bdf);
	if (!access(path, F_OK))
		return OBJ_IMP;
	return OBJ_FREE;
}

struct obj *dev_open(const char *bdf, const char *name)
{
	char path[PATH_MAX];
	enum obj_kind kind;
	struct obj *o;
	int fd;

	kind = node_kind(bdf, path, sizeof(path));
	if (kind == OBJ_FREE) {
		fail(-ENOENT, "no %s%s or %s%s", EXP_NODE, bdf, IMP_NODE, bdf);
		return NULL;
	}
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		fail(-errno, "open %s", path);
		return NULL;
	}
	o = obj_new(kind, name, fd);
	if (!o) {
		close(fd);
		return NULL;
	}
	snprintf(o->bdf, sizeof(o->bdf), "%s", bdf);
	return o;
}

/*
 * A device file by name; a PCI address that is not a name yet opens the
 * device's file under that name.
 */
struct obj *dev_get(const char *name, enum obj_kind kind)
{
	struct obj *o = obj_find(name);

	if (!o)
		o = dev_open(name, name);
	if (!o)
		return NULL;
	if (o->kind != kind) {
		fail(-EINVAL, "%s is not an %s device", name,
		     kind == OBJ_EXP ? "exporter" : "importer");
		return NULL;
	}
	return o;
}

struct obj *obj_get(const char *name, enum obj_kind kind)
{
	struct obj *o = obj_find(name);

	if (!o) {
		fail(-ENOENT, "no %s named '%s'",
		     kind == OBJ_BUF ? "dma-buf" : "import", name);
		return NULL;
	}
	if (o->kind != kind) {
		fail(-EINVAL, "'%s' is not a%s", name,
		     kind == OBJ_BUF ? " dma-buf" : "n import");
		return NULL;
	}
	return o;
}

/* Strip a trailing "as NAME" from the arguments; NULL if there is none. */
const char *take_as(int *argc, char **argv)
{
	if (*argc >= 3 && !strcmp(argv[*argc - 2], "as")) {
		*argc -= 2;
		return argv[*argc + 1];
	}
	return NULL;
}
