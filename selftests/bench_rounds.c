// SPDX-License-Identifier: GPL-2.0
/*
 * (f) The map+unmap cycle of (a), p2pbuf_exporter against vfio-pci,
 * interleaved: the same BAR is handed back and forth between the two
 * drivers for P2PBUF_BENCH_ROUNDS rounds (default 5) of
 * P2PBUF_BENCH_ROUND_CYCLES cycles each, and which one goes first
 * alternates (ABBA ...), so that a drift of the boot (caches, TCG's
 * translation cache, the host's load) falls on both. lab/bench-report.py
 * gives each round's medians and the spread of the per-round ratio.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <unistd.h>

#define P2PBUF_NO_HARNESS
#include "importer_lib.h"
#include "bench.h"

/* An exporter's entry of a round that could not be measured. */
static void bench_round_error(struct bench_ctx *c, const char *key,
			      const char *why)
{
	json_open(c, key, '{');
	json_error(c, why);
	json_close(c, '}');
}

static int bench_round_p2pbuf(struct bench_ctx *c)
{
	int exp, buf;

	exp = bench_exp_open(c->provider_bdf);
	buf = exp < 0 ? exp : bench_exp_export(exp, 0, c->cfg.buf_size);
	if (buf < 0) {
		bench_round_error(c, "p2pbuf", strerror(-buf));
	} else {
		bench_map_n(c, "p2pbuf", buf, c->cfg.round_cycles);
		close(buf);
	}
	if (exp >= 0)
		close(exp);
	return buf < 0 ? buf : 0;
}

/* vfio-pci takes the device and gives it back bound to p2pbuf_exporter. */
static int bench_round_vfio(struct bench_ctx *c)
{
	struct imp_vfio v;
	char why[128];
	int buf, ret;

	ret = imp_vfio_open(&v, c->provider_bdf, why, sizeof(why));
	if (ret) {
		bench_round_error(c, "vfio", why);
		goto rebind;
	}
	buf = imp_vfio_dmabuf(&v, BENCH_BAR, 0, c->cfg.buf_size);
	if (buf < 0) {
		ret = buf;
		bench_round_error(c, "vfio", strerror(-buf));
	} else {
		bench_map_n(c, "vfio", buf, c->cfg.round_cycles);
		close(buf);
	}
	imp_vfio_release(&v);
rebind:
	/* The next round, and the lab's unbind, need it back. */
	if (p2pbuf_pci_bind(c->provider_bdf, "p2pbuf_exporter")) {
		json_open(c, "rebind", '{');
		json_error(c, "cannot bind the provider to p2pbuf_exporter again");
		json_close(c, '}');
		ret = ret ?: -EIO;
	}
	return ret;
}

int bench_phase_rounds(struct bench_ctx *c)
{
	unsigned int r;
	int ret = 0;

	fprintf(stderr, "bench: %u interleaved rounds, p2pbuf_exporter and vfio-pci\n",
		c->cfg.rounds);
	json_open(c, "rounds", '[');
	for (r = 0; r < c->cfg.rounds; r++) {
		json_open(c, NULL, '{');
		json_int(c, "round", r);
		json_str(c, "first", r % 2 ? "vfio" : "p2pbuf");
		if (r % 2) {
			if (bench_round_vfio(c) | bench_round_p2pbuf(c))
				ret = -EIO;
		} else {
			if (bench_round_p2pbuf(c) | bench_round_vfio(c))
				ret = -EIO;
		}
		json_close(c, '}');
	}
	json_close(c, ']');
	return ret;
}
