// SPDX-License-Identifier: GPL-2.0
/*
 * (f) p2pbuf_exporter against vfio-pci, interleaved: the same BAR is handed
 * back and forth between the two drivers for P2PBUF_BENCH_ROUNDS rounds
 * (default 5), and which one goes first alternates (ABBA ...), so that a
 * drift of the boot (caches, TCG's translation cache, the host's load)
 * falls on both. In each round each exporter runs
 *  - (a): P2PBUF_BENCH_ROUND_CYCLES map+unmap cycles of buf_size;
 *  - (b): as many cycles of 4 KiB, 1 MiB and 1 GiB (or the whole BAR, if
 *    smaller): the map cost against size;
 *  - (c): round_reps triggers of its own revoke (p2pbuf's REVOKE, vfio-pci's
 *    memory decode off) on round_m buffers imported round_n times each.
 * lab/bench-report.py gives each round's medians and, over the rounds, the
 * median and the spread of every ratio.
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

/* (b)'s sizes in every round; the last is capped by the BAR. */
static const unsigned long long bench_round_sizes[] = {
	4096, 1ULL << 20, 1ULL << 30,
};

/*
 * Sizes above this map in writes of BENCH_ROUND_CHUNK cycles with a pause
 * between them: behind an IOMMU that flushes lazily, freed IOVA windows
 * wait in a flush queue (bench_big() in bench_map.c says more), and 1 GiB
 * windows back to back could empty a 39-bit domain.
 */
#define BENCH_ROUND_CHUNK_ABOVE	(256ULL << 20)
#define BENCH_ROUND_CHUNK	64U
#define BENCH_ROUND_PAUSE_MS	20U

/*
 * One exporter's part of a round: (a) as "<name>", (b) as "<name>_sizes",
 * (c) as "<name>_revoke". @make makes a buffer at offset 0 of the BAR,
 * @src revokes this exporter's way.
 */
static void bench_round_measure(struct bench_ctx *c, const char *name,
				bench_make_buf make, void *priv,
				const struct bench_revoke_src *src)
{
	unsigned long long size;
	char key[32];
	unsigned int i;
	int buf;

	buf = make(c, c->cfg.buf_size, priv);
	if (buf < 0) {
		bench_round_error(c, name, strerror(-buf));
	} else {
		bench_map_n(c, name, buf, c->cfg.round_cycles);
		close(buf);
	}

	snprintf(key, sizeof(key), "%s_sizes", name);
	json_open(c, key, '[');
	for (i = 0; i < BENCH_NR(bench_round_sizes); i++) {
		size = bench_round_sizes[i];
		if (size > c->bar_size)
			size = c->bar_size;
		buf = make(c, size, priv);
		if (buf < 0) {
			json_open(c, NULL, '{');
			json_int(c, "size", size);
			json_error(c, strerror(-buf));
			json_close(c, '}');
			continue;
		}
		if (size > BENCH_ROUND_CHUNK_ABOVE) {
			c->cycle_chunk = BENCH_ROUND_CHUNK;
			c->chunk_pause_ms = BENCH_ROUND_PAUSE_MS;
		}
		bench_map_size(c, NULL, buf, size, c->cfg.round_cycles);
		c->cycle_chunk = 0;
		c->chunk_pause_ms = 0;
		close(buf);
	}
	json_close(c, ']');

	snprintf(key, sizeof(key), "%s_revoke", name);
	bench_revoke_point(c, key, c->cfg.round_m, c->cfg.round_n,
			   c->cfg.round_reps, src);
}

static int bench_round_p2pbuf(struct bench_ctx *c)
{
	struct bench_p2pbuf p = { .exp = -1 };
	struct bench_revoke_src src = BENCH_P2PBUF_REVOKE_SRC(&p);

	p.exp = bench_exp_open(c->provider_bdf);
	if (p.exp < 0) {
		bench_round_error(c, "p2pbuf", strerror(-p.exp));
		return p.exp;
	}
	bench_round_measure(c, "p2pbuf", bench_p2pbuf_make, &p, &src);
	close(p.exp);
	return 0;
}

/* vfio-pci takes the device and gives it back bound to p2pbuf_exporter. */
static int bench_round_vfio(struct bench_ctx *c)
{
	struct imp_vfio v;
	struct bench_revoke_src src = BENCH_VFIO_DECODE_SRC(&v);
	char why[128];
	int ret;

	ret = imp_vfio_open(&v, c->provider_bdf, why, sizeof(why));
	if (ret) {
		bench_round_error(c, "vfio", why);
	} else {
		bench_round_measure(c, "vfio", bench_vfio_make, &v, &src);
		imp_vfio_release(&v);
	}
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
