// SPDX-License-Identifier: GPL-2.0
/*
 * conform_canary's adapters: exporters with one planted defect each, built
 * from the real adapters, for the kit to prove that its checks catch what
 * they claim to (conform_test.c, CONF_CANARY):
 *
 * - planted_gate: udmabuf claiming to export peer-to-peer memory. udmabuf
 *   attaches any importer, so attach_gating must fail.
 * - planted_revoke: p2pbuf_exporter whose revoke, restore and owner close
 *   do nothing, as an exporter that forgets to invalidate: the revoke
 *   checks and close_owner must fail.
 * - planted_view: p2pbuf_exporter read back one page off, as an exporter
 *   that places a range's bytes where the buffer does not say: every check
 *   that compares the data must fail.
 */
#define _GNU_SOURCE
/* Helpers of p2pbuf_test.h without the harness (one unit has it). */
#define P2PBUF_NO_HARNESS
#include <errno.h>

#include "conform.h"
#include "importer_lib.h"

static int conf_planted_gate_open(void **priv, char *why, size_t whylen)
{
	return conf_udmabuf.open(priv, why, whylen);
}

static void conf_planted_gate_close(void *priv)
{
	conf_udmabuf.close(priv);
}

static __u64 conf_planted_gate_space(void *priv)
{
	return conf_udmabuf.space(priv);
}

static int conf_planted_gate_create(void *priv, const struct conf_range *r,
				    unsigned int n)
{
	return conf_udmabuf.create(priv, r, n);
}

static int conf_planted_gate_cpu_rw(void *priv, __u64 off, void *data,
				    size_t len, bool write)
{
	return conf_udmabuf.cpu_rw(priv, off, data, len, write);
}

static const char * const conf_planted_gate_frames[] = { "udmabuf", NULL };

const struct conf_exporter conf_planted_gate = {
	.name = "planted_gate",
	.exp_name = "udmabuf",
	.caps = CONF_CAP_P2P,
	.map_type = P2PBUF_MAP_NOT_P2P,
	.leak_frames = conf_planted_gate_frames,
	.open = conf_planted_gate_open,
	.close = conf_planted_gate_close,
	.space = conf_planted_gate_space,
	.create = conf_planted_gate_create,
	.cpu_rw = conf_planted_gate_cpu_rw,
};

static int conf_planted_p2pbuf_open(void **priv, char *why, size_t whylen)
{
	return conf_p2pbuf.open(priv, why, whylen);
}

static void conf_planted_p2pbuf_close(void *priv)
{
	conf_p2pbuf.close(priv);
}

static __u64 conf_planted_p2pbuf_space(void *priv)
{
	return conf_p2pbuf.space(priv);
}

static int conf_planted_p2pbuf_create(void *priv, const struct conf_range *r,
				      unsigned int n)
{
	return conf_p2pbuf.create(priv, r, n);
}

static int conf_planted_p2pbuf_cpu_rw(void *priv, __u64 off, void *data,
				      size_t len, bool write)
{
	return conf_p2pbuf.cpu_rw(priv, off, data, len, write);
}

static int conf_planted_p2pbuf_revoke(void *priv, int buf)
{
	return conf_p2pbuf.revoke(priv, buf);
}

static int conf_planted_p2pbuf_restore(void *priv, int buf)
{
	return conf_p2pbuf.restore(priv, buf);
}

static int conf_planted_p2pbuf_close_owner(void *priv)
{
	return conf_p2pbuf.close_owner(priv);
}

/* The planted defect: nothing is revoked, restored or closed. */
static int conf_planted_nothing(void *priv, int buf)
{
	return 0;
}

static int conf_planted_keep_owner(void *priv)
{
	return 0;
}

static const char * const conf_planted_frames[] = { "p2pbuf_exp_", NULL };

const struct conf_exporter conf_planted_revoke = {
	.name = "planted_revoke",
	.exp_name = "p2pbuf_exporter",
	.caps = CONF_CAP_P2P | CONF_CAP_REVOKE | CONF_CAP_OWNER_REVOKES |
		CONF_CAP_MULTI_RANGE,
	.map_type = P2PBUF_MAP_UNKNOWN,
	.leak_frames = conf_planted_frames,
	.revoked_errno = ENODEV,
	.open = conf_planted_p2pbuf_open,
	.close = conf_planted_p2pbuf_close,
	.space = conf_planted_p2pbuf_space,
	.create = conf_planted_p2pbuf_create,
	.revoke = conf_planted_nothing,
	.restore = conf_planted_nothing,
	.close_owner = conf_planted_keep_owner,
	.cpu_rw = conf_planted_p2pbuf_cpu_rw,
};

/* The planted defect: the exporter's view is one page off. */
static int conf_planted_view_cpu_rw(void *priv, __u64 off, void *data,
				    size_t len, bool write)
{
	return conf_p2pbuf.cpu_rw(priv, off + 4096, data, len, write);
}

const struct conf_exporter conf_planted_view = {
	.name = "planted_view",
	.exp_name = "p2pbuf_exporter",
	.caps = CONF_CAP_P2P | CONF_CAP_REVOKE | CONF_CAP_OWNER_REVOKES |
		CONF_CAP_MULTI_RANGE,
	.map_type = P2PBUF_MAP_UNKNOWN,
	.leak_frames = conf_planted_frames,
	.revoked_errno = ENODEV,
	.open = conf_planted_p2pbuf_open,
	.close = conf_planted_p2pbuf_close,
	.space = conf_planted_p2pbuf_space,
	.create = conf_planted_p2pbuf_create,
	.revoke = conf_planted_p2pbuf_revoke,
	.restore = conf_planted_p2pbuf_restore,
	.close_owner = conf_planted_p2pbuf_close_owner,
	.cpu_rw = conf_planted_view_cpu_rw,
};
