// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers the conformance kit's adapters share: where a buffer's byte lies
 * in the exporter's memory, and copies through a CPU mapping of it.
 */
#include <errno.h>
#include <string.h>

#include "conform.h"

__u64 conf_range_off(const struct conf_range *r, unsigned int n, __u64 off,
		     __u64 *left)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (off < r[i].length) {
			*left = r[i].length - off;
			return r[i].offset + off;
		}
		off -= r[i].length;
	}
	*left = 0;
	return 0;
}

int conf_copy(unsigned char *base, const struct conf_range *r,
	      unsigned int n, __u64 off, void *data, size_t len, bool write)
{
	unsigned char *p = data;
	__u64 at, left;
	size_t chunk;

	while (len) {
		at = conf_range_off(r, n, off, &left);
		if (!left)
			return -EINVAL;
		chunk = left;
		if (chunk > len)
			chunk = len;
		if (write)
			memcpy(base + at, p, chunk);
		else
			memcpy(p, base + at, chunk);
		p += chunk;
		off += chunk;
		len -= chunk;
	}
	return 0;
}
