// SPDX-License-Identifier: GPL-2.0
/*
 * p2pbuf - command-line front end of p2pbuf_exporter and p2pbuf_importer.
 *
 * A dma-buf file descriptor, and an import of it, live only as long as the
 * process that holds them. So besides single commands, p2pbuf runs several
 * commands in one process - separated by "--" on the command line, or read
 * from a script file or standard input - and names what they create
 * ("buf1", "imp1", or a name given with "as NAME") so that later commands
 * can refer to it.
 *
 * Exit status: 0 when every command succeeded, 1 when one failed (a
 * sequence stops at the first failure), 2 on a usage error.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <linux/p2pbuf.h>
#include <linux/p2pbuf_exporter.h>
#include <linux/p2pbuf_importer.h>

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

static struct obj objs[MAX_OBJS];
static unsigned int nr_bufs, nr_imports;

/* Inside "expect ERRNO ...": failures are reported by the caller. */
static int quiet_errors;

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *usage;
	const char *help;
};

static const struct cmd *find_cmd(const char *name);

/* ------------------------------------------------------------------ */
/* Errors and output                                                  */

#define ERRNO(e)	{ e, #e }
static const struct {
	int nr;
	const char *name;
} errnos[] = {
	ERRNO(EPERM), ERRNO(ENOENT), ERRNO(EINTR), ERRNO(EIO), ERRNO(ENXIO),
	ERRNO(E2BIG), ERRNO(EBADF), ERRNO(EAGAIN), ERRNO(ENOMEM),
	ERRNO(EACCES), ERRNO(EFAULT), ERRNO(EBUSY), ERRNO(EEXIST),
	ERRNO(EXDEV), ERRNO(ENODEV), ERRNO(EINVAL), ERRNO(EMFILE),
	ERRNO(ENOTTY), ERRNO(ENOSPC), ERRNO(ERANGE),
	ERRNO(EOVERFLOW), ERRNO(EBADMSG), ERRNO(EOPNOTSUPP),
	ERRNO(EADDRINUSE), ERRNO(ETIMEDOUT), ERRNO(ENAMETOOLONG),
};

static const char *errno_name(int err)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(errnos); i++)
		if (errnos[i].nr == err)
			return errnos[i].name;
	return "E?";
}

/* "ENODEV", "-19" or "19" to 19; 0 if unknown. */
static int errno_parse(const char *s)
{
	unsigned int i;
	char *end;
	long v;

	for (i = 0; i < ARRAY_SIZE(errnos); i++)
		if (!strcmp(errnos[i].name, s))
			return errnos[i].nr;
	v = strtol(s, &end, 0);
	if (*end || !v || v < -4095 || v > 4095)
		return 0;
	return v < 0 ? -v : v;
}

/* Report a failure of @what with negative errno @err; returns @err. */
static int fail(int err, const char *fmt, ...)
{
	va_list ap;

	if (quiet_errors)
		return err;
	fflush(stdout);
	fputs("p2pbuf: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, ": %s (%s)\n", errno_name(-err), strerror(-err));
	return err;
}

static int usage_of(const char *name)
{
	const struct cmd *c = find_cmd(name);

	fflush(stdout);
	fprintf(stderr, "usage: p2pbuf %s %s\n", name, c ? c->usage : "");
	return CMD_USAGE;
}

static int xioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg) ? -errno : 0;
}

static const char *map_type_name(__u32 t)
{
	static const char * const names[] = {
		[P2PBUF_MAP_UNKNOWN] = "UNKNOWN",
		[P2PBUF_MAP_NOT_P2P] = "NOT_P2P",
		[P2PBUF_MAP_BUS_ADDR] = "BUS_ADDR",
		[P2PBUF_MAP_HOST_BRIDGE_DIRECT] = "HOST_BRIDGE_DIRECT",
		[P2PBUF_MAP_HOST_BRIDGE_IOVA] = "HOST_BRIDGE_IOVA",
		[P2PBUF_MAP_NOT_SUPPORTED] = "NOT_SUPPORTED",
	};

	return t < ARRAY_SIZE(names) ? names[t] : "?";
}

static const char *map_type_meaning(__u32 t)
{
	switch (t) {
	case P2PBUF_MAP_NOT_P2P:
		return "system memory, not peer-to-peer";
	case P2PBUF_MAP_BUS_ADDR:
		return "PCI bus address, routed by the common switch";
	case P2PBUF_MAP_HOST_BRIDGE_DIRECT:
		return "through the host bridge, CPU physical address";
	case P2PBUF_MAP_HOST_BRIDGE_IOVA:
		return "through the host bridge, IOMMU-translated address";
	case P2PBUF_MAP_NOT_SUPPORTED:
		return "no peer-to-peer route";
	default:
		return "not known";
	}
}

/*
 * 64 MiB, 4 KiB, 300 bytes. The result stays valid for the next three
 * calls, enough for one line of output.
 */
static const char *size_str(unsigned long long v)
{
	static char ring[4][24];
	static unsigned int next;
	char *buf = ring[next++ % ARRAY_SIZE(ring)];
	size_t len = sizeof(ring[0]);

	if (v && !(v % (1ULL << 30)))
		snprintf(buf, len, "%llu GiB", v >> 30);
	else if (v && !(v % (1ULL << 20)))
		snprintf(buf, len, "%llu MiB", v >> 20);
	else if (v && !(v % 1024))
		snprintf(buf, len, "%llu KiB", v >> 10);
	else
		snprintf(buf, len, "%llu bytes", v);
	return buf;
}

/* Sixteen bytes a line, offsets from @base. */
static void hexdump(const unsigned char *p, size_t len, unsigned long long base)
{
	size_t i, j;

	for (i = 0; i < len; i += 16) {
		printf("    %08llx ", base + i);
		for (j = i; j < i + 16; j++) {
			if (j < len)
				printf(" %02x", p[j]);
			else
				printf("   ");
		}
		printf("  |");
		for (j = i; j < i + 16 && j < len; j++)
			putchar(isprint(p[j]) ? p[j] : '.');
		printf("|\n");
	}
}

/* 4096, 0x1000, 4K, 1M, 1G. */
static int num_parse(const char *s, unsigned long long *v)
{
	unsigned long long n, shift = 0;
	char *end;

	if (!*s || *s == '-')
		return -EINVAL;
	errno = 0;
	n = strtoull(s, &end, 0);
	if (errno)
		return -errno;
	if (*end == 'K' || *end == 'k')
		shift = 10;
	else if (*end == 'M')
		shift = 20;
	else if (*end == 'G')
		shift = 30;
	if (shift)
		end++;
	if (*end || (shift && n > (~0ULL >> shift)))
		return -EINVAL;
	*v = n << shift;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Objects                                                            */

static struct obj *obj_find(const char *name)
{
	unsigned int i;

	for (i = 0; i < MAX_OBJS; i++)
		if (objs[i].kind != OBJ_FREE && !strcmp(objs[i].name, name))
			return &objs[i];
	return NULL;
}

static struct obj *obj_new(enum obj_kind kind, const char *name, int fd)
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
			strcpy(objs[i].name, name);
			return &objs[i];
		}
	}
	fail(-ENOSPC, "more than %d objects", MAX_OBJS);
	return NULL;
}

static void obj_free(struct obj *o)
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

static struct obj *dev_open(const char *bdf, const char *name)
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
static struct obj *dev_get(const char *name, enum obj_kind kind)
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

static struct obj *obj_get(const char *name, enum obj_kind kind)
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
static const char *take_as(int *argc, char **argv)
{
	if (*argc >= 3 && !strcmp(argv[*argc - 2], "as")) {
		*argc -= 2;
		return argv[*argc + 1];
	}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Device information                                                 */

static int exp_info(int fd, struct p2pbuf_exp_info *info)
{
	memset(info, 0, sizeof(*info));
	info->argsz = sizeof(*info);
	return xioctl(fd, P2PBUF_EXP_INFO, info);
}

static int imp_info(int fd, struct p2pbuf_imp_info *info)
{
	memset(info, 0, sizeof(*info));
	info->argsz = sizeof(*info);
	return xioctl(fd, P2PBUF_IMP_INFO, info);
}

static void print_bars(const struct p2pbuf_exp_info *info)
{
	const struct p2pbuf_exp_bar_info *b;
	unsigned int i;

	for (i = 0; i < info->nr_bars && i < P2PBUF_EXP_NUM_BARS; i++) {
		b = &info->bars[i];
		if (!b->size)
			continue;
		printf("    BAR%u  %-9s %s%s%s%s\n", i, size_str(b->size),
		       b->flags & P2PBUF_EXP_BAR_MEM ? "memory" : "I/O",
		       b->flags & P2PBUF_EXP_BAR_MEM64 ? ", 64-bit" : "",
		       b->flags & P2PBUF_EXP_BAR_PREFETCH ? ", prefetchable" : "",
		       b->flags & P2PBUF_EXP_BAR_PROVIDER ?
		       ", p2pdma provider: exportable" : "");
	}
}

static void print_engine(const struct p2pbuf_imp_info *info)
{
	if (info->engine[0])
		printf("    DMA engine \"%.*s\", up to %llu bytes a transfer\n",
		       P2PBUF_IMP_NAME_LEN, info->engine,
		       (unsigned long long)info->dma_max);
	else
		printf("    no DMA engine: imports and maps only\n");
}

/* "vendor:device" of a PCI device from sysfs, "?" if unreadable. */
static void pci_id(const char *bdf, char *buf, size_t len)
{
	char path[PATH_MAX], v[16] = "?", d[16] = "?";
	FILE *f;

	snprintf(path, sizeof(path), SYSFS_PCI "/%s/vendor", bdf);
	f = fopen(path, "re");
	if (f) {
		if (fscanf(f, "0x%15s", v) != 1)
			strcpy(v, "?");
		fclose(f);
	}
	snprintf(path, sizeof(path), SYSFS_PCI "/%s/device", bdf);
	f = fopen(path, "re");
	if (f) {
		if (fscanf(f, "0x%15s", d) != 1)
			strcpy(d, "?");
		fclose(f);
	}
	snprintf(buf, len, "%s:%s", v, d);
}

/* INFO of the device @bdf bound to @driver, printed under its name. */
static int list_one(const char *driver, const char *bdf)
{
	struct p2pbuf_exp_info einfo;
	struct p2pbuf_imp_info iinfo;
	char path[PATH_MAX], id[40];
	bool exporter = !strcmp(driver, EXP_DRIVER);
	int fd, ret;

	pci_id(bdf, id, sizeof(id));
	snprintf(path, sizeof(path), "%s%s", exporter ? EXP_NODE : IMP_NODE,
		 bdf);
	printf("  %s  [%s]  %s\n", bdf, id, path);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return fail(-errno, "open %s", path);
	if (exporter) {
		ret = exp_info(fd, &einfo);
		if (!ret)
			print_bars(&einfo);
	} else {
		ret = imp_info(fd, &iinfo);
		if (!ret)
			print_engine(&iinfo);
	}
	close(fd);
	return ret ? fail(ret, "INFO of %s", bdf) : 0;
}

static int list_driver(const char *driver)
{
	char path[PATH_MAX];
	struct dirent **names;
	int i, n, ret = 0, found = 0;

	snprintf(path, sizeof(path), SYSFS_DRIVERS "/%s", driver);
	n = scandir(path, &names, NULL, alphasort);
	if (n < 0) {
		printf("%s: not loaded\n", driver);
		return 0;
	}
	printf("%s:\n", driver);
	for (i = 0; i < n; i++) {
		/* Bound devices are the entries named by PCI address. */
		if (strchr(names[i]->d_name, ':') &&
		    strchr(names[i]->d_name, '.')) {
			found++;
			if (list_one(driver, names[i]->d_name))
				ret = -EIO;
		}
		free(names[i]);
	}
	free(names);
	if (!found)
		printf("  no device bound\n");
	return ret;
}

static int cmd_list(int argc, char **argv)
{
	int ret;

	if (argc != 1)
		return usage_of(argv[0]);
	ret = list_driver(EXP_DRIVER);
	if (list_driver(IMP_DRIVER))
		ret = -EIO;
	return ret;
}

static int cmd_info(int argc, char **argv)
{
	struct p2pbuf_exp_info einfo;
	struct p2pbuf_imp_info iinfo;
	struct obj *o;
	int ret;

	if (argc != 2)
		return usage_of(argv[0]);
	o = obj_find(argv[1]);
	if (!o)
		o = dev_open(argv[1], argv[1]);
	if (!o)
		return -ENOENT;
	if (o->kind == OBJ_EXP) {
		ret = exp_info(o->fd, &einfo);
		if (ret)
			return fail(ret, "P2PBUF_EXP_INFO");
		printf("  %s: exporter of %u BARs\n", o->bdf, einfo.nr_bars);
		print_bars(&einfo);
	} else if (o->kind == OBJ_IMP) {
		ret = imp_info(o->fd, &iinfo);
		if (ret)
			return fail(ret, "P2PBUF_IMP_INFO");
		printf("  %s: importer (DMA initiator)\n", o->bdf);
		print_engine(&iinfo);
	} else {
		return fail(-EINVAL, "%s is not a device", argv[1]);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Files                                                              */

static int cmd_open(int argc, char **argv)
{
	const char *name = take_as(&argc, argv);
	struct obj *o;

	if (argc != 2)
		return usage_of(argv[0]);
	o = dev_open(argv[1], name ? name : argv[1]);
	if (!o)
		return -ENOENT;
	printf("  %s: %s%s\n", o->name,
	       o->kind == OBJ_EXP ? EXP_NODE : IMP_NODE, o->bdf);
	return 0;
}

static int cmd_close(int argc, char **argv)
{
	struct obj *o;
	unsigned int i;

	if (argc != 2)
		return usage_of(argv[0]);
	o = obj_find(argv[1]);
	if (!o)
		return fail(-ENOENT, "nothing named '%s'", argv[1]);
	switch (o->kind) {
	case OBJ_EXP:
		/* The exporter revokes every buffer exported through it. */
		close(o->fd);
		printf("  closed exporter file %s%s", EXP_NODE, o->bdf);
		for (i = 0; i < MAX_OBJS; i++)
			if (objs[i].kind == OBJ_BUF && objs[i].dev == o)
				printf("; %s revoked for good", objs[i].name);
		printf("\n");
		break;
	case OBJ_IMP:
		close(o->fd);
		printf("  closed importer file %s%s; its imports are released\n",
		       IMP_NODE, o->bdf);
		break;
	case OBJ_BUF:
		close(o->fd);
		printf("  closed dma-buf %s; imports hold their own reference\n",
		       o->name);
		break;
	default:
		return fail(-EINVAL, "%s is an import: use release", o->name);
	}
	obj_free(o);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Exporter                                                           */

static int cmd_export(int argc, char **argv)
{
	struct p2pbuf_exp_range ranges[16];
	struct p2pbuf_exp_export arg;
	const char *name = take_as(&argc, argv);
	unsigned long long bar, off, len;
	char defname[NAME_LEN], *colon;
	struct obj *dev, *o;
	int i, n, ret;

	if (argc < 4 || argc - 3 > (int)ARRAY_SIZE(ranges))
		return usage_of(argv[0]);
	if (num_parse(argv[2], &bar) || bar >= P2PBUF_EXP_NUM_BARS)
		return usage_of(argv[0]);
	n = argc - 3;
	for (i = 0; i < n; i++) {
		colon = strchr(argv[3 + i], ':');
		if (!colon)
			return usage_of(argv[0]);
		*colon = '\0';
		ret = num_parse(argv[3 + i], &off);
		*colon = ':';
		if (ret || num_parse(colon + 1, &len))
			return usage_of(argv[0]);
		ranges[i].offset = off;
		ranges[i].length = len;
	}
	dev = dev_get(argv[1], OBJ_EXP);
	if (!dev)
		return -ENOENT;
	if (!name) {
		snprintf(defname, sizeof(defname), "buf%u", nr_bufs + 1);
		name = defname;
	}

	memset(&arg, 0, sizeof(arg));
	arg.argsz = sizeof(arg);
	arg.bar = bar;
	arg.open_flags = O_RDWR | O_CLOEXEC;
	arg.nr_ranges = n;
	arg.ranges = (__u64)(unsigned long)ranges;
	ret = xioctl(dev->fd, P2PBUF_EXP_EXPORT, &arg);
	if (ret)
		return fail(ret, "P2PBUF_EXP_EXPORT of BAR %llu of %s", bar,
			    dev->bdf);
	o = obj_new(OBJ_BUF, name, arg.fd);
	if (!o) {
		close(arg.fd);
		return -ENOSPC;
	}
	nr_bufs++;
	o->dev = dev;
	o->size = arg.size;
	printf("  %s: dma-buf fd %d, %s, BAR %llu of %s:", o->name, arg.fd,
	       size_str(arg.size), bar, dev->bdf);
	for (i = 0; i < n; i++)
		printf(" [0x%llx +%s]", (unsigned long long)ranges[i].offset,
		       size_str(ranges[i].length));
	printf("\n");
	return 0;
}

/* A buffer and the exporter file that can act on it. */
static struct obj *buf_with_exporter(const char *name)
{
	struct obj *o = obj_get(name, OBJ_BUF);

	if (o && !o->dev) {
		fail(-EBADF, "%s: its exporter file is closed", name);
		return NULL;
	}
	return o;
}

static int cmd_query(int argc, char **argv)
{
	struct p2pbuf_exp_attach_state att[8];
	struct p2pbuf_exp_query q;
	struct obj *o;
	unsigned int i;
	int ret;

	if (argc != 2)
		return usage_of(argv[0]);
	o = buf_with_exporter(argv[1]);
	if (!o)
		return -ENOENT;
	memset(&q, 0, sizeof(q));
	memset(att, 0, sizeof(att));
	q.argsz = sizeof(q);
	q.fd = o->fd;
	q.nr_attachments = ARRAY_SIZE(att);
	q.attachments = (__u64)(unsigned long)att;
	ret = xioctl(o->dev->fd, P2PBUF_EXP_QUERY, &q);
	if (ret)
		return fail(ret, "P2PBUF_EXP_QUERY of %s", o->name);
	printf("  %s (exporter's view): %s, %s, BAR %u, %u range%s,",
	       o->name,
	       q.state == P2PBUF_EXP_BUF_REVOKED ? "REVOKED" : "live",
	       size_str(q.size), q.bar, q.nr_ranges,
	       str_plural(q.nr_ranges));
	printf(" revoked %u time%s, %u attachment%s\n", q.revokes,
	       str_plural(q.revokes), q.nr_attachments,
	       str_plural(q.nr_attachments));
	for (i = 0; i < q.nr_attachments && i < ARRAY_SIZE(att); i++)
		printf("    attached by %.*s: %u mapping%s, map type %s\n",
		       P2PBUF_EXP_NAME_LEN, att[i].importer,
		       att[i].nr_mappings, str_plural(att[i].nr_mappings),
		       att[i].nr_mappings || att[i].map_type ?
		       map_type_name(att[i].map_type) : "(never mapped)");
	return 0;
}

/* revoke|restore BUF, or revoke|restore all DEV. */
static int cmd_revoke(int argc, char **argv)
{
	bool restore = !strcmp(argv[0], "restore");
	struct p2pbuf_exp_revoke arg;
	struct obj *dev, *o = NULL;
	int ret;

	memset(&arg, 0, sizeof(arg));
	arg.argsz = sizeof(arg);
	if (argc == 3 && !strcmp(argv[1], "all")) {
		dev = dev_get(argv[2], OBJ_EXP);
		if (!dev)
			return -ENOENT;
		arg.flags = P2PBUF_EXP_REVOKE_ALL;
		arg.fd = -1;
	} else if (argc == 2) {
		o = buf_with_exporter(argv[1]);
		if (!o)
			return -ENOENT;
		dev = o->dev;
		arg.fd = o->fd;
	} else {
		return usage_of(argv[0]);
	}
	ret = xioctl(dev->fd, restore ? P2PBUF_EXP_RESTORE : P2PBUF_EXP_REVOKE,
		     &arg);
	if (ret)
		return fail(ret, "%s", restore ? "P2PBUF_EXP_RESTORE" :
			    "P2PBUF_EXP_REVOKE");
	printf("  %s %s: %u buffer%s changed state%s\n",
	       o ? o->name : "all buffers of", o ? "" : dev->bdf, arg.count,
	       str_plural(arg.count),
	       restore ? "" : "; no importer maps them any more");
	return 0;
}

/* ------------------------------------------------------------------ */
/* Importer                                                           */

static int cmd_import(int argc, char **argv)
{
	const char *name = take_as(&argc, argv);
	struct p2pbuf_imp_import arg;
	char defname[NAME_LEN];
	struct obj *dev, *buf, *o;
	bool pinned = false;
	int ret;

	if (argc == 4 && !strcmp(argv[3], "pinned")) {
		pinned = true;
		argc--;
	}
	if (argc != 3)
		return usage_of(argv[0]);
	dev = dev_get(argv[1], OBJ_IMP);
	buf = dev ? obj_get(argv[2], OBJ_BUF) : NULL;
	if (!buf)
		return -ENOENT;
	if (!name) {
		snprintf(defname, sizeof(defname), "imp%u", nr_imports + 1);
		name = defname;
	}
	memset(&arg, 0, sizeof(arg));
	arg.argsz = sizeof(arg);
	arg.flags = pinned ? P2PBUF_IMP_IMPORT_PINNED : 0;
	arg.fd = buf->fd;
	ret = xioctl(dev->fd, P2PBUF_IMP_IMPORT, &arg);
	if (ret)
		return fail(ret, "P2PBUF_IMP_IMPORT of %s into %s", buf->name,
			    dev->bdf);
	o = obj_new(OBJ_IMPORT, name, -1);
	if (!o)
		return -ENOSPC;
	nr_imports++;
	o->dev = dev;
	o->handle = arg.handle;
	o->size = arg.size;
	printf("  %s: %s attached to %s, handle %u, %s, %s attachment\n",
	       o->name, buf->name, dev->bdf, arg.handle, size_str(arg.size),
	       pinned ? "pinned revocable" : "dynamic revocable");
	return 0;
}

static struct obj *import_get(const char *name)
{
	struct obj *o = obj_get(name, OBJ_IMPORT);

	if (o && !o->dev) {
		fail(-EBADF, "%s: its importer file is closed", name);
		return NULL;
	}
	return o;
}

static int cmd_map(int argc, char **argv)
{
	struct p2pbuf_imp_seg segs[MAX_SEGS];
	struct p2pbuf_imp_map m;
	int expect = -1, ret;
	struct obj *o;
	unsigned int i;

	if (argc == 4 && !strcmp(argv[2], "expect")) {
		for (i = P2PBUF_MAP_UNKNOWN; i <= P2PBUF_MAP_NOT_SUPPORTED; i++)
			if (!strcmp(argv[3], map_type_name(i)))
				expect = i;
		if (expect < 0)
			return fail(-EINVAL, "map type '%s'", argv[3]);
		argc -= 2;
	}
	if (argc != 2)
		return usage_of(argv[0]);
	o = import_get(argv[1]);
	if (!o)
		return -ENOENT;
	memset(&m, 0, sizeof(m));
	memset(segs, 0, sizeof(segs));
	m.argsz = sizeof(m);
	m.handle = o->handle;
	m.max_segs = MAX_SEGS;
	m.segs = (__u64)(unsigned long)segs;
	ret = xioctl(o->dev->fd, P2PBUF_IMP_MAP, &m);
	if (ret)
		return fail(ret, "P2PBUF_IMP_MAP of %s", o->name);
	printf("  %s (importer's view): mapped for %s as %s (%s), %u segment%s, %s\n",
	       o->name, o->dev->bdf, map_type_name(m.map_type),
	       map_type_meaning(m.map_type), m.nr_segs,
	       str_plural(m.nr_segs), size_str(m.length));
	for (i = 0; i < m.nr_segs && i < MAX_SEGS; i++) {
		if (segs[i].addr)
			printf("    segment %u: DMA address 0x%llx, %s\n", i,
			       (unsigned long long)segs[i].addr,
			       size_str(segs[i].len));
		else
			printf("    segment %u: %s (address needs CAP_SYS_ADMIN)\n",
			       i, size_str(segs[i].len));
	}
	if (expect >= 0 && m.map_type != (__u32)expect) {
		printf("  expected %s\n", map_type_name(expect));
		return fail(-EBADMSG, "%s: map type %s, expected %s", o->name,
			    map_type_name(m.map_type), map_type_name(expect));
	}
	return 0;
}

static int handle_op(struct obj *o, unsigned long cmd)
{
	struct p2pbuf_imp_handle arg;

	memset(&arg, 0, sizeof(arg));
	arg.argsz = sizeof(arg);
	arg.handle = o->handle;
	return xioctl(o->dev->fd, cmd, &arg);
}

static int cmd_unmap(int argc, char **argv)
{
	struct obj *o;
	int ret;

	if (argc != 2)
		return usage_of(argv[0]);
	o = import_get(argv[1]);
	if (!o)
		return -ENOENT;
	ret = handle_op(o, P2PBUF_IMP_UNMAP);
	if (ret)
		return fail(ret, "P2PBUF_IMP_UNMAP of %s", o->name);
	printf("  %s: unmapped\n", o->name);
	return 0;
}

static int cmd_release(int argc, char **argv)
{
	struct obj *o;
	int ret;

	if (argc != 2)
		return usage_of(argv[0]);
	o = import_get(argv[1]);
	if (!o)
		return -ENOENT;
	ret = handle_op(o, P2PBUF_IMP_RELEASE);
	if (ret)
		return fail(ret, "P2PBUF_IMP_RELEASE of %s", o->name);
	printf("  %s: released (unmapped and detached)\n", o->name);
	obj_free(o);
	return 0;
}

static int cmd_status(int argc, char **argv)
{
	struct p2pbuf_imp_status st;
	struct obj *o;
	int ret;

	if (argc != 2)
		return usage_of(argv[0]);
	o = import_get(argv[1]);
	if (!o)
		return -ENOENT;
	memset(&st, 0, sizeof(st));
	st.argsz = sizeof(st);
	st.handle = o->handle;
	ret = xioctl(o->dev->fd, P2PBUF_IMP_STATUS, &st);
	if (ret)
		return fail(ret, "P2PBUF_IMP_STATUS of %s", o->name);
	printf("  %s (importer's view): %s%s%s, map type %s,", o->name,
	       st.state & P2PBUF_IMP_STATE_MAPPED ? "mapped" : "not mapped",
	       st.state & P2PBUF_IMP_STATE_INVALIDATED ? ", INVALIDATED" : "",
	       st.state & P2PBUF_IMP_STATE_PINNED ? ", pinned" : "",
	       map_type_name(st.map_type));
	printf(" %u segment%s, %s mapped, %llu invalidation%s\n", st.nr_segs,
	       str_plural(st.nr_segs), size_str(st.length),
	       (unsigned long long)st.invalidations,
	       str_plural(st.invalidations));
	return 0;
}

static int dma_xfer(struct obj *o, __u32 flags, __u64 off, void *data,
		    __u64 len)
{
	struct p2pbuf_imp_dma arg;

	memset(&arg, 0, sizeof(arg));
	arg.argsz = sizeof(arg);
	arg.flags = flags;
	arg.handle = o->handle;
	arg.offset = off;
	arg.length = len;
	arg.data = (__u64)(unsigned long)data;
	return xioctl(o->dev->fd, P2PBUF_IMP_DMA, &arg);
}

/* Compare what was read with the text expected; -EBADMSG if different. */
static int check_expect(const char *what, const unsigned char *got,
			size_t len, const char *want)
{
	if (strlen(want) == len && !memcmp(got, want, len)) {
		printf("  %s: the %zu bytes match \"%s\"\n", what, len, want);
		return 0;
	}
	return fail(-EBADMSG, "%s: data differ from \"%s\"", what, want);
}

static int dma_write(struct obj *o, __u64 off, const char *text, __u64 len)
{
	int ret;

	ret = dma_xfer(o, P2PBUF_IMP_DMA_TO_BUF, off, (void *)text, len);
	if (ret)
		return fail(ret, "P2PBUF_IMP_DMA to %s", o->name);
	printf("  %s: DMA write of %llu bytes at offset 0x%llx, %s's engine -> dma-buf: \"%s\"\n",
	       o->name, (unsigned long long)len, (unsigned long long)off,
	       o->dev->bdf, text);
	return 0;
}

/* dma IMPORT write OFF TEXT | dma IMPORT read OFF LEN [expect TEXT] */
static int cmd_dma(int argc, char **argv)
{
	unsigned long long off, len;
	unsigned char *data;
	bool write;
	struct obj *o;
	int ret;

	if (argc < 5)
		return usage_of(argv[0]);
	write = !strcmp(argv[2], "write");
	if ((!write && strcmp(argv[2], "read")) || (write && argc != 5) ||
	    (!write && argc != 5 && (argc != 7 || strcmp(argv[5], "expect"))))
		return usage_of(argv[0]);
	if (num_parse(argv[3], &off))
		return fail(-EINVAL, "offset '%s'", argv[3]);
	if (write)
		len = strlen(argv[4]);
	else if (num_parse(argv[4], &len) || !len || len > 1U << 20)
		return fail(-EINVAL, "length '%s'", argv[4]);
	o = import_get(argv[1]);
	if (!o)
		return -ENOENT;
	if (write)
		return dma_write(o, off, argv[4], len);

	data = calloc(1, len);
	if (!data)
		return fail(-ENOMEM, "%llu bytes", len);
	ret = dma_xfer(o, P2PBUF_IMP_DMA_FROM_BUF, off, data, len);
	if (ret) {
		free(data);
		return fail(ret, "P2PBUF_IMP_DMA from %s", o->name);
	}
	printf("  %s: DMA read of %llu bytes at offset 0x%llx, dma-buf -> %s's engine:\n",
	       o->name, len, off, o->dev->bdf);
	hexdump(data, len, off);
	ret = argc == 7 ? check_expect(o->name, data, len, argv[6]) : 0;
	free(data);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Events                                                             */

static const char *import_name(struct obj *dev, __u32 handle)
{
	unsigned int i;

	for (i = 0; i < MAX_OBJS; i++)
		if (objs[i].kind == OBJ_IMPORT && objs[i].dev == dev &&
		    objs[i].handle == handle)
			return objs[i].name;
	return "(released)";
}

/* watch IMP|DEV [TIMEOUT_MS]: wait for events, print all queued. */
static int cmd_watch(int argc, char **argv)
{
	struct p2pbuf_imp_event ev[MAX_EVENTS];
	unsigned long long ms = 5000;
	struct pollfd pfd;
	struct obj *o;
	ssize_t n;
	int i, ret;

	if (argc < 2 || argc > 3 || (argc == 3 && num_parse(argv[2], &ms)) ||
	    ms > INT_MAX)
		return usage_of(argv[0]);
	o = obj_find(argv[1]);
	if (o && o->kind == OBJ_IMPORT)
		o = o->dev;
	else
		o = dev_get(argv[1], OBJ_IMP);
	if (!o)
		return -ENOENT;

	pfd.fd = o->fd;
	pfd.events = POLLIN;
	ret = poll(&pfd, 1, ms);
	if (ret < 0)
		return fail(-errno, "poll");
	if (!ret)
		return fail(-ETIMEDOUT, "no event from %s in %llu ms", o->bdf,
			    ms);
	if (!(pfd.revents & POLLIN))
		return fail(-ENODEV, "%s: device gone (poll 0x%x)", o->bdf,
			    pfd.revents);
	n = read(o->fd, ev, sizeof(ev));
	if (n < 0)
		return fail(-errno, "read events of %s", o->bdf);
	for (i = 0; i < n / (ssize_t)sizeof(ev[0]); i++)
		printf("  event %llu from %s: %s of %s (handle %u), invalidation #%llu\n",
		       (unsigned long long)ev[i].seq, o->bdf,
		       ev[i].type == P2PBUF_IMP_EVENT_INVALIDATED ?
		       "INVALIDATED" : "unknown event",
		       import_name(o, ev[i].handle), ev[i].handle,
		       (unsigned long long)ev[i].invalidations);
	return 0;
}

/* ------------------------------------------------------------------ */
/* The BAR as the CPU sees it, through sysfs resourceN                 */

/* peek BDF BAR OFF LEN [expect TEXT] */
static int cmd_peek(int argc, char **argv)
{
	unsigned long long bar, off, len, pgoff;
	long page = sysconf(_SC_PAGESIZE);
	const unsigned char *mmio;
	char path[PATH_MAX];
	unsigned char *data;
	struct stat sb;
	void *map;
	size_t i, maplen;
	int fd, ret;

	if ((argc != 5 && argc != 7) || (argc == 7 && strcmp(argv[5], "expect")))
		return usage_of(argv[0]);
	if (num_parse(argv[2], &bar) || bar >= P2PBUF_EXP_NUM_BARS ||
	    num_parse(argv[3], &off) || num_parse(argv[4], &len) || !len ||
	    len > 1U << 20)
		return usage_of(argv[0]);
	if (strchr(argv[1], '/'))
		return fail(-EINVAL, "PCI address '%s'", argv[1]);
	snprintf(path, sizeof(path), SYSFS_PCI "/%s/resource%llu", argv[1],
		 bar);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail(-errno, "open %s", path);
	if (fstat(fd, &sb) || off + len > (unsigned long long)sb.st_size) {
		close(fd);
		return fail(-EINVAL, "0x%llx+%llu outside %s", off, len, path);
	}
	pgoff = off & ~(unsigned long long)(page - 1);
	maplen = off + len - pgoff;
	map = mmap(NULL, maplen, PROT_READ, MAP_SHARED, fd, pgoff);
	ret = map == MAP_FAILED ? -errno : 0;
	close(fd);
	if (ret)
		return fail(ret, "mmap %s", path);
	data = malloc(len);
	if (!data) {
		munmap(map, maplen);
		return fail(-ENOMEM, "%llu bytes", len);
	}
	/*
	 * One load per byte, as readb() would: MMIO must not be read with
	 * wider or repeated accesses the compiler might choose for memcpy().
	 */
	mmio = (const unsigned char *)map + (off - pgoff);
	for (i = 0; i < len; i++)
		data[i] = __atomic_load_n(&mmio[i], __ATOMIC_RELAXED);
	munmap(map, maplen);

	printf("  BAR %llu of %s read by the CPU (%s), offset 0x%llx:\n", bar,
	       argv[1], path, off);
	hexdump(data, len, off);
	ret = argc == 7 ? check_expect(path, data, len, argv[6]) : 0;
	free(data);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Sequencing                                                         */

static int run_cmd(int argc, char **argv);

/* expect ERRNO CMD ARGS...: succeeds only if CMD fails with ERRNO. */
static int cmd_expect(int argc, char **argv)
{
	int err, ret;

	if (argc < 3)
		return usage_of(argv[0]);
	err = errno_parse(argv[1]);
	if (!err)
		return fail(-EINVAL, "errno '%s'", argv[1]);
	quiet_errors++;
	ret = run_cmd(argc - 2, argv + 2);
	quiet_errors--;
	if (ret == CMD_USAGE)
		return ret;
	if (ret == -err) {
		printf("  %s failed with %s (%s), as expected\n", argv[2],
		       errno_name(err), strerror(err));
		return 0;
	}
	if (!ret)
		return fail(-EBADMSG, "%s succeeded, expected %s", argv[2],
			    errno_name(err));
	return fail(ret, "%s: expected %s, got", argv[2], errno_name(err));
}

static int cmd_echo(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++)
		printf("%s%s", i > 1 ? " " : "", argv[i]);
	printf("\n");
	return 0;
}

static int cmd_help(int argc, char **argv);
static int run_script(FILE *f, bool interactive);

static int cmd_script(int argc, char **argv)
{
	FILE *f = stdin;
	int ret;

	if (argc > 2)
		return usage_of(argv[0]);
	if (argc == 2 && strcmp(argv[1], "-")) {
		f = fopen(argv[1], "re");
		if (!f)
			return fail(-errno, "open %s", argv[1]);
	}
	ret = run_script(f, isatty(fileno(f)));
	if (f != stdin)
		fclose(f);
	return ret;
}

static const struct cmd cmds[] = {
	{ "list", cmd_list, "",
	  "devices bound to both drivers, with BARs and DMA engine" },
	{ "info", cmd_info, "DEV", "INFO of one exporter or importer device" },
	{ "open", cmd_open, "BDF [as NAME]",
	  "open a device file (commands also open one given its BDF)" },
	{ "close", cmd_close, "NAME",
	  "close a device file or a dma-buf; closing an exporter file revokes its dma-bufs" },
	{ "export", cmd_export, "EXP BAR OFF:LEN... [as NAME]",
	  "export BAR ranges as one dma-buf (sizes take K, M, G)" },
	{ "query", cmd_query, "BUF",
	  "exporter's view: state, attachments, map type" },
	{ "revoke", cmd_revoke, "BUF | revoke all EXP",
	  "revoke: returns when no importer maps the buffer" },
	{ "restore", cmd_revoke, "BUF | restore all EXP",
	  "make revoked buffers mappable again" },
	{ "import", cmd_import, "IMP BUF [pinned] [as NAME]",
	  "attach a dma-buf to the importer device" },
	{ "map", cmd_map, "IMPORT [expect MAPTYPE]",
	  "map for the device; show map type and DMA segments" },
	{ "unmap", cmd_unmap, "IMPORT", "unmap" },
	{ "release", cmd_release, "IMPORT", "unmap and detach" },
	{ "status", cmd_status, "IMPORT",
	  "importer's view: state, map type, invalidations" },
	{ "dma", cmd_dma, "IMPORT write OFF TEXT | IMPORT read OFF LEN [expect TEXT]",
	  "move data through the mapping with the device's DMA engine" },
	{ "watch", cmd_watch, "IMP|IMPORT [TIMEOUT_MS]",
	  "wait (default 5000 ms) for invalidation events and print them" },
	{ "peek", cmd_peek, "BDF BAR OFF LEN [expect TEXT]",
	  "read a BAR with the CPU through sysfs resourceN" },
	{ "expect", cmd_expect, "ERRNO COMMAND...",
	  "run COMMAND; succeed only if it fails with ERRNO" },
	{ "echo", cmd_echo, "TEXT...", "print TEXT" },
	{ "script", cmd_script, "[FILE|-]",
	  "run commands from FILE or standard input (interactive on a terminal)" },
	{ "help", cmd_help, "", "this text" },
};

static const struct cmd *find_cmd(const char *name)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cmds); i++)
		if (!strcmp(cmds[i].name, name))
			return &cmds[i];
	return NULL;
}

static int cmd_help(int argc, char **argv)
{
	unsigned int i;

	printf("usage: p2pbuf COMMAND [ARGS] [-- COMMAND [ARGS]]...\n"
	       "       p2pbuf script [FILE|-]\n\n"
	       "Objects live as long as this process: chain commands with \"--\" or\n"
	       "run a script. EXP and IMP are exporter and importer devices, by PCI\n"
	       "address (BDF) or by the name given to \"open\"; BUF names a dma-buf\n"
	       "and IMPORT an import, created as buf1, imp1, ... or \"as NAME\".\n\n");
	for (i = 0; i < ARRAY_SIZE(cmds); i++)
		printf("  %s%s%s\n      %s\n", cmds[i].name,
		       *cmds[i].usage ? " " : "", cmds[i].usage, cmds[i].help);
	printf("\nExit status: 0 success, 1 a command failed, 2 usage error.\n");
	return 0;
}

static int run_cmd(int argc, char **argv)
{
	const struct cmd *c = find_cmd(argv[0]);

	if (!c) {
		fflush(stdout);
		fprintf(stderr, "p2pbuf: unknown command '%s' (see p2pbuf help)\n",
			argv[0]);
		return CMD_USAGE;
	}
	return c->fn(argc, argv);
}

/* The command as it would be typed, before its output. */
static void echo_cmd(int argc, char **argv)
{
	int i;

	printf("p2pbuf>");
	for (i = 0; i < argc; i++)
		printf(strpbrk(argv[i], " \t#") || !*argv[i] ? " \"%s\"" : " %s",
		       argv[i]);
	printf("\n");
}

/*
 * Split @line into words in place: blanks separate, "double quotes" group,
 * # starts a comment. Returns the number of words, or -EINVAL.
 */
static int split_words(char *line, char **argv, int max)
{
	char *r = line, *w = line;
	int argc = 0;

	for (;;) {
		while (*r == ' ' || *r == '\t' || *r == '\n' || *r == '\r')
			r++;
		if (!*r || *r == '#')
			return argc;
		if (argc == max)
			return -E2BIG;
		argv[argc++] = w;
		while (*r && *r != ' ' && *r != '\t' && *r != '\n' &&
		       *r != '\r') {
			if (*r != '"') {
				*w++ = *r++;
				continue;
			}
			r++;
			while (*r && *r != '"')
				*w++ = *r++;
			if (!*r)
				return -EINVAL;
			r++;
		}
		if (*r)
			r++;
		*w++ = '\0';
	}
}

static int run_script(FILE *f, bool interactive)
{
	char *argv[MAX_ARGS], *line = NULL;
	size_t cap = 0;
	int argc, ret = 0;

	for (;;) {
		if (interactive) {
			printf("p2pbuf> ");
			fflush(stdout);
		}
		if (getline(&line, &cap, f) < 0)
			break;
		argc = split_words(line, argv, MAX_ARGS);
		if (!argc)
			continue;
		if (argc > 0 && interactive && !strcmp(argv[0], "quit"))
			break;
		if (argc < 0) {
			fprintf(stderr, "p2pbuf: cannot parse: %s", line);
			ret = CMD_USAGE;
		} else {
			if (!interactive && strcmp(argv[0], "echo"))
				echo_cmd(argc, argv);
			ret = run_cmd(argc, argv);
		}
		if (ret && !interactive)
			break;
	}
	if (interactive)
		printf("\n");
	free(line);
	return interactive ? 0 : ret;
}

static int exit_code(int ret)
{
	if (!ret)
		return 0;
	return ret == CMD_USAGE ? EXIT_USAGE : EXIT_FAILED;
}

int main(int argc, char **argv)
{
	int start, i, ret = 0;
	bool sequence = false;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2)
		return cmd_help(0, NULL) ? EXIT_FAILED : EXIT_USAGE;
	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--"))
			sequence = true;

	for (start = 1; start < argc && !ret; start = i + 1) {
		for (i = start; i < argc && strcmp(argv[i], "--"); i++)
			;
		if (i == start)
			continue;
		argv[i] = NULL;
		if (sequence)
			echo_cmd(i - start, argv + start);
		ret = run_cmd(i - start, argv + start);
	}
	return exit_code(ret);
}
