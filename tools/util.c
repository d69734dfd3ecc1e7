// SPDX-License-Identifier: GPL-2.0
/*
 * p2pbuf tool: errors, output and number parsing shared by all commands.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include <linux/p2pbuf.h>

#include "p2pbuf.h"

/* Inside "expect ERRNO ...": failures are reported by the caller. */
int quiet_errors;

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

const char *errno_name(int err)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(errnos); i++)
		if (errnos[i].nr == err)
			return errnos[i].name;
	return "E?";
}

/* "ENODEV", "-19" or "19" to 19; 0 if unknown. */
int errno_parse(const char *s)
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
int fail(int err, const char *fmt, ...)
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

int xioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg) ? -errno : 0;
}

const char *map_type_name(__u32 t)
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

const char *map_type_meaning(__u32 t)
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
const char *size_str(unsigned long long v)
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
void hexdump(const unsigned char *p, size_t len, unsigned long long base)
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
int num_parse(const char *s, unsigned long long *v)
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

/* Compare what was read with the text expected; -EBADMSG if different. */
int check_expect(const char *what, const unsigned char *got, size_t len,
		 const char *want)
{
	if (strlen(want) == len && !memcmp(got, want, len)) {
		printf("  %s: the %zu bytes match \"%s\"\n", what, len, want);
		return 0;
	}
	return fail(-EBADMSG, "%s: data differ from \"%s\"", what, want);
}
