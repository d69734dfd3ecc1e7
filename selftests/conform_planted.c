// SPDX-License-Identifier: GPL-2.0
/*
 * conform_canary's adapters: exporters with one planted defect each, made
 * of a real adapter with one or two callbacks replaced, for the kit to
 * prove that its checks catch what they claim to (conform_canary.h lists
 * the checks each defect must fail, lab/xfail.manifest the assertion that
 * must report it):
 *
 * - planted_gate: udmabuf claiming to export peer-to-peer memory. udmabuf
 *   attaches any importer, so attach_gating must fail.
 * - planted_revoke: a revoke and an owner close that do nothing, as an
 *   exporter that forgets to invalidate.
 * - planted_unwaited: a revoke that returns before the importers have
 *   unmapped (it runs in a thread and returns after CONF_PLANT_WAIT_MS,
 *   while the slow importer still holds its mapping).
 * - planted_late: a revoke that completes, then takes longer than the
 *   bound (CONF_HOLD_MS + CONF_BOUND_MS).
 * - planted_early_restore: a revoke that restores the buffer at once, so
 *   maps after it succeed.
 * - planted_norestore: a restore that does nothing.
 * - planted_view: the exporter's view one page off (wrapping inside the
 *   buffer), as an exporter that places bytes where the buffer does not
 *   say: every data check must see wrong data, not an error.
 * - planted_offset32: buffer offsets kept in 32 bits, so the bytes past
 *   4 GiB land at the start: only big_range can see it.
 * - planted_order: the ranges laid out by their place in the exporter's
 *   memory instead of in the order given: only a buffer of several ranges
 *   out of order (multi_range) can see it.
 */
#define _GNU_SOURCE
/* Helpers of p2pbuf_test.h without the harness (one unit has it). */
#define P2PBUF_NO_HARNESS
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conform.h"
#include "conform_canary.h"
#include "importer_lib.h"

/* planted_unwaited returns this long after its revoke began. */
#define CONF_PLANT_WAIT_MS	(CONF_HOLD_MS / 2)

/* A real adapter, and what the planted callbacks need to remember. */
struct conf_plant {
	const struct conf_exporter *base;
	void *priv;
	struct conf_range r[CONF_MAX_RANGES];	/* the last buffer's */
	unsigned int n;
	unsigned int sorted[CONF_MAX_RANGES];	/* r[] by offset */
	__u64 size;
	pthread_t thread;			/* planted_unwaited's revoke */
	bool running;
	int buf;
	int ret;
};

static void conf_plant_sleep_ms(unsigned int ms)
{
	struct timespec ts = {
		.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L,
	};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static int conf_plant_open(const struct conf_exporter *base, void **priv,
			   char *why, size_t whylen)
{
	struct conf_plant *p = calloc(1, sizeof(*p));
	int ret;

	if (!p)
		return -ENOMEM;
	p->base = base;
	ret = base->open(&p->priv, why, whylen);
	if (ret) {
		free(p);
		return ret;
	}
	*priv = p;
	return 0;
}

/* The thread of planted_unwaited's revoke, if any, is done. */
static int conf_plant_join(struct conf_plant *p)
{
	if (!p->running)
		return 0;
	pthread_join(p->thread, NULL);
	p->running = false;
	return p->ret;
}

static void conf_plant_close(void *priv)
{
	struct conf_plant *p = priv;

	conf_plant_join(p);
	p->base->close(p->priv);
	free(p);
}

static __u64 conf_plant_space(void *priv)
{
	struct conf_plant *p = priv;

	return p->base->space(p->priv);
}

static int conf_plant_create(void *priv, const struct conf_range *r,
			     unsigned int n)
{
	struct conf_plant *p = priv;
	unsigned int i, j;
	int ret;

	ret = p->base->create(p->priv, r, n);
	if (ret < 0 || n > CONF_MAX_RANGES)
		return ret;
	memcpy(p->r, r, n * sizeof(*r));
	p->n = n;
	p->size = 0;
	for (i = 0; i < n; i++) {
		p->size += r[i].length;
		/* Insertion sort of the indices by offset. */
		for (j = i; j && r[p->sorted[j - 1]].offset > r[i].offset; j--)
			p->sorted[j] = p->sorted[j - 1];
		p->sorted[j] = i;
	}
	return ret;
}

static int conf_plant_revoke(void *priv, int buf)
{
	struct conf_plant *p = priv;

	return p->base->revoke(p->priv, buf);
}

static int conf_plant_restore(void *priv, int buf)
{
	struct conf_plant *p = priv;
	int ret = conf_plant_join(p);

	return ret ? ret : p->base->restore(p->priv, buf);
}

static int conf_plant_close_owner(void *priv)
{
	struct conf_plant *p = priv;

	conf_plant_join(p);
	return p->base->close_owner(p->priv);
}

static int conf_plant_cpu_rw(void *priv, __u64 off, void *data, size_t len,
			     bool write)
{
	struct conf_plant *p = priv;

	return p->base->cpu_rw(p->priv, off, data, len, write);
}

/* The planted defects. */

static int conf_plant_nothing(void *priv, int buf)
{
	return 0;
}

static int conf_plant_keep_owner(void *priv)
{
	return 0;
}

static void *conf_plant_revoke_thread(void *arg)
{
	struct conf_plant *p = arg;

	p->ret = p->base->revoke(p->priv, p->buf);
	return NULL;
}

static int conf_plant_revoke_unwaited(void *priv, int buf)
{
	struct conf_plant *p = priv;
	int ret;

	conf_plant_join(p);
	p->buf = buf;
	ret = pthread_create(&p->thread, NULL, conf_plant_revoke_thread, p);
	if (ret)
		return -ret;
	p->running = true;
	conf_plant_sleep_ms(CONF_PLANT_WAIT_MS);
	return 0;
}

static int conf_plant_revoke_late(void *priv, int buf)
{
	struct conf_plant *p = priv;
	int ret = p->base->revoke(p->priv, buf);

	if (!ret)
		conf_plant_sleep_ms(CONF_HOLD_MS + CONF_BOUND_MS + 200);
	return ret;
}

static int conf_plant_revoke_restore(void *priv, int buf)
{
	struct conf_plant *p = priv;
	int ret = p->base->revoke(p->priv, buf);

	return ret ? ret : p->base->restore(p->priv, buf);
}

/* One page further, wrapping inside the buffer: data, never an error. */
static int conf_plant_view_cpu_rw(void *priv, __u64 off, void *data,
				  size_t len, bool write)
{
	struct conf_plant *p = priv;
	unsigned char *d = data;
	__u64 at, chunk;
	int ret;

	if (!p->size || off + len > p->size)
		return -EINVAL;
	while (len) {
		at = (off + 4096) % p->size;
		chunk = p->size - at;
		if (chunk > len)
			chunk = len;
		ret = p->base->cpu_rw(p->priv, at, d, chunk, write);
		if (ret)
			return ret;
		d += chunk;
		off += chunk;
		len -= chunk;
	}
	return 0;
}

static int conf_plant_offset32_cpu_rw(void *priv, __u64 off, void *data,
				      size_t len, bool write)
{
	struct conf_plant *p = priv;
	unsigned char *d = data;
	__u64 chunk;
	int ret;

	while (len) {
		/* Up to the next 4 GiB line, where the truncation wraps. */
		chunk = (1ULL << 32) - (off & 0xffffffffULL);
		if (chunk > len)
			chunk = len;
		ret = p->base->cpu_rw(p->priv, off & 0xffffffffULL, d, chunk,
				      write);
		if (ret)
			return ret;
		d += chunk;
		off += chunk;
		len -= chunk;
	}
	return 0;
}

/*
 * Where the byte at @off of the buffer lands when the ranges are laid out
 * by their offset in the exporter's memory (p->sorted) instead of in the
 * order given: the buffer offset that place has in the real layout, and
 * in *@left how far that stays contiguous (0: past the end).
 */
static __u64 conf_plant_sorted_off(const struct conf_plant *p, __u64 off,
				   __u64 *left)
{
	unsigned int i, k;
	__u64 start = 0;

	*left = 0;
	for (k = 0; k < p->n; k++) {
		i = p->sorted[k];
		if (off < p->r[i].length)
			break;
		off -= p->r[i].length;
	}
	if (k == p->n)
		return 0;
	*left = p->r[i].length - off;
	for (k = 0; k < i; k++)
		start += p->r[k].length;
	return start + off;
}

static int conf_plant_order_cpu_rw(void *priv, __u64 off, void *data,
				   size_t len, bool write)
{
	struct conf_plant *p = priv;
	unsigned char *d = data;
	__u64 at, left;
	int ret;

	while (len) {
		at = conf_plant_sorted_off(p, off, &left);
		if (!left)
			return -EINVAL;
		if (left > len)
			left = len;
		ret = p->base->cpu_rw(p->priv, at, d, left, write);
		if (ret)
			return ret;
		d += left;
		off += left;
		len -= left;
	}
	return 0;
}

/* One adapter per defect: its own ->open names the real adapter. */

static int conf_plant_open_udmabuf(void **priv, char *why, size_t whylen)
{
	return conf_plant_open(&conf_udmabuf, priv, why, whylen);
}

static int conf_plant_open_p2pbuf(void **priv, char *why, size_t whylen)
{
	return conf_plant_open(&conf_p2pbuf, priv, why, whylen);
}

static const char * const conf_plant_udmabuf_frames[] = { "udmabuf", NULL };
static const char * const conf_plant_p2pbuf_frames[] = { "p2pbuf_exp_", NULL };

const struct conf_exporter conf_planted_gate = {
	.name = "planted_gate",
	.exp_name = "udmabuf",
	.caps = CONF_CAP_P2P,
	.map_type = P2PBUF_MAP_NOT_P2P,
	.leak_frames = conf_plant_udmabuf_frames,
	.open = conf_plant_open_udmabuf,
	.close = conf_plant_close,
	.space = conf_plant_space,
	.create = conf_plant_create,
	.cpu_rw = conf_plant_cpu_rw,
};

/* p2pbuf_exporter, with the callbacks given after the macro replaced. */
#define CONF_PLANTED_P2PBUF(planted_name, ...)				\
	{								\
		.name = planted_name,					\
		.exp_name = "p2pbuf_exporter",				\
		.caps = CONF_CAP_P2P | CONF_CAP_REVOKE |		\
			CONF_CAP_OWNER_REVOKES | CONF_CAP_MULTI_RANGE,	\
		.map_type = P2PBUF_MAP_UNKNOWN,				\
		.leak_frames = conf_plant_p2pbuf_frames,		\
		.revoked_errno = ENODEV,				\
		.open = conf_plant_open_p2pbuf,				\
		.close = conf_plant_close,				\
		.space = conf_plant_space,				\
		.create = conf_plant_create,				\
		.revoke = conf_plant_revoke,				\
		.restore = conf_plant_restore,				\
		.close_owner = conf_plant_close_owner,			\
		.cpu_rw = conf_plant_cpu_rw,				\
		__VA_ARGS__						\
	}

/* -Woverride-init: the planted callback replaces the real one on purpose. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverride-init"

const struct conf_exporter conf_planted_revoke =
	CONF_PLANTED_P2PBUF("planted_revoke", .revoke = conf_plant_nothing,
			    .close_owner = conf_plant_keep_owner);

const struct conf_exporter conf_planted_unwaited =
	CONF_PLANTED_P2PBUF("planted_unwaited",
			    .revoke = conf_plant_revoke_unwaited);

const struct conf_exporter conf_planted_late =
	CONF_PLANTED_P2PBUF("planted_late", .revoke = conf_plant_revoke_late);

const struct conf_exporter conf_planted_early_restore =
	CONF_PLANTED_P2PBUF("planted_early_restore",
			    .revoke = conf_plant_revoke_restore);

const struct conf_exporter conf_planted_norestore =
	CONF_PLANTED_P2PBUF("planted_norestore",
			    .restore = conf_plant_nothing);

const struct conf_exporter conf_planted_view =
	CONF_PLANTED_P2PBUF("planted_view", .cpu_rw = conf_plant_view_cpu_rw);

const struct conf_exporter conf_planted_offset32 =
	CONF_PLANTED_P2PBUF("planted_offset32",
			    .cpu_rw = conf_plant_offset32_cpu_rw);

const struct conf_exporter conf_planted_order =
	CONF_PLANTED_P2PBUF("planted_order",
			    .cpu_rw = conf_plant_order_cpu_rw);

#pragma GCC diagnostic pop
