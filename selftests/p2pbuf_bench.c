// SPDX-License-Identifier: GPL-2.0
/*
 * p2pbuf_bench: p2pbuf's exporter against vfio-pci's, udmabuf and the
 * system dma-heap, all imported by p2pbuf_importer, in one boot. Writes one
 * JSON document (docs/bench.rst describes it); lab/bench.sh runs it in the
 * lab and lab/bench-report.py turns it into the table and the plot.
 *
 *   p2pbuf_bench [--quick] [--out FILE]
 *
 * Needs, as the lab's guest sets them: P2PBUF_PROVIDER_BDF (an ivshmem
 * device bound to p2pbuf_exporter; its BAR 2 is measured first through
 * p2pbuf_exporter, then through vfio-pci, and it is given back bound to
 * p2pbuf_exporter) and P2PBUF_INITIATOR_BDF (bound to p2pbuf_importer).
 * Knobs, all optional (defaults in bench_defaults()): P2PBUF_BENCH_CYCLES,
 * _BUF_SIZE, _MAX_SIZE, _POINT_MS, _SLAB_CYCLES, _MN ("1 8 64"), _REPS,
 * _DMA_XFERS, _ROUNDS, _ROUND_CYCLES, _ROUND_M, _ROUND_N, _ROUND_REPS,
 * _RANGES_SIZE,
 * _BIG_SIZE, _PROFILE_CYCLES. Exit status 0 when every
 * measurement ran, 1 otherwise (the JSON then says which failed and why).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#define P2PBUF_NO_HARNESS
#include "importer_lib.h"
#include "bench.h"

#define UDMABUF_LIMIT	"/sys/module/udmabuf/parameters/size_limit_mb"

static void bench_defaults(struct bench_cfg *cfg, bool quick)
{
	static const unsigned int mn[] = { 1, 8, 64 }, mn_quick[] = { 1, 4 };

	cfg->cycles = quick ? 50 : 5000;
	cfg->buf_size = 64 * 1024;
	cfg->max_size = quick ? 1 << 20 : 256ULL << 20;
	cfg->point_ms = quick ? 20 : 1500;
	cfg->slab_cycles = quick ? 200 : 10000;
	cfg->revoke_reps = quick ? 2 : 5;
	cfg->dma_xfers = quick ? 2 : 8;
	cfg->rounds = 5;
	cfg->round_cycles = quick ? 20 : 1000;
	cfg->round_m = quick ? 2 : 8;
	cfg->round_n = quick ? 2 : 8;
	cfg->round_reps = quick ? 1 : 3;
	cfg->ranges_size = quick ? 4 << 20 : 16 << 20;
	cfg->big_size = 0;	/* the whole BAR */
	if (quick) {
		memcpy(cfg->mn, mn_quick, sizeof(mn_quick));
		cfg->nr_mn = ARRAY_SIZE(mn_quick);
	} else {
		memcpy(cfg->mn, mn, sizeof(mn));
		cfg->nr_mn = ARRAY_SIZE(mn);
	}
}

/* The number in environment variable @name, or @def. */
static unsigned long long bench_env_ull(const char *name,
					unsigned long long def)
{
	const char *s = p2pbuf_env(name);

	return s ? strtoull(s, NULL, 0) : def;
}

static void bench_env(struct bench_cfg *cfg)
{
	const char *mn = p2pbuf_env("P2PBUF_BENCH_MN");
	unsigned long v;
	char *end;

	cfg->cycles = bench_env_ull("P2PBUF_BENCH_CYCLES", cfg->cycles);
	cfg->buf_size = bench_env_ull("P2PBUF_BENCH_BUF_SIZE", cfg->buf_size);
	cfg->max_size = bench_env_ull("P2PBUF_BENCH_MAX_SIZE", cfg->max_size);
	cfg->point_ms = bench_env_ull("P2PBUF_BENCH_POINT_MS", cfg->point_ms);
	cfg->slab_cycles = bench_env_ull("P2PBUF_BENCH_SLAB_CYCLES",
					 cfg->slab_cycles);
	cfg->revoke_reps = bench_env_ull("P2PBUF_BENCH_REPS",
					 cfg->revoke_reps);
	cfg->dma_xfers = bench_env_ull("P2PBUF_BENCH_DMA_XFERS",
				       cfg->dma_xfers);
	cfg->rounds = bench_env_ull("P2PBUF_BENCH_ROUNDS", cfg->rounds);
	cfg->round_cycles = bench_env_ull("P2PBUF_BENCH_ROUND_CYCLES",
					  cfg->round_cycles);
	cfg->round_m = bench_env_ull("P2PBUF_BENCH_ROUND_M", cfg->round_m);
	cfg->round_n = bench_env_ull("P2PBUF_BENCH_ROUND_N", cfg->round_n);
	cfg->round_reps = bench_env_ull("P2PBUF_BENCH_ROUND_REPS",
					cfg->round_reps);
	cfg->ranges_size = bench_env_ull("P2PBUF_BENCH_RANGES_SIZE",
					 cfg->ranges_size);
	cfg->big_size = bench_env_ull("P2PBUF_BENCH_BIG_SIZE", cfg->big_size);
	if (!mn)
		return;
	cfg->nr_mn = 0;
	while (*mn && cfg->nr_mn < ARRAY_SIZE(cfg->mn)) {
		v = strtoul(mn, &end, 0);
		if (end == mn)
			break;
		if (v)
			cfg->mn[cfg->nr_mn++] = v;
		mn = end;
	}
}

/* A knob of 0 would measure nothing and report an empty figure. */
static bool bench_cfg_valid(const struct bench_cfg *cfg)
{
	const struct {
		const char *name;
		unsigned int val;
	} knobs[] = {
		{ "CYCLES", cfg->cycles },
		{ "POINT_MS", cfg->point_ms },
		{ "SLAB_CYCLES", cfg->slab_cycles },
		{ "REPS", cfg->revoke_reps },
		{ "DMA_XFERS", cfg->dma_xfers },
		{ "ROUNDS", cfg->rounds },
		{ "ROUND_CYCLES", cfg->round_cycles },
		{ "ROUND_M", cfg->round_m },
		{ "ROUND_N", cfg->round_n },
		{ "ROUND_REPS", cfg->round_reps },
		{ "MN", cfg->nr_mn },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(knobs); i++) {
		if (!knobs[i].val) {
			fprintf(stderr, "bench: P2PBUF_BENCH_%s must be at least 1\n",
				knobs[i].name);
			return false;
		}
	}
	return true;
}

/* First line of @path starting with @key, after its ": ", into @out. */
static void bench_grep(const char *path, const char *key, char *out,
		       size_t len)
{
	char line[1024], *p;
	FILE *f = fopen(path, "re");

	snprintf(out, len, "unknown");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (key && strncmp(line, key, strlen(key)))
			continue;
		p = key ? strchr(line, ':') : NULL;
		p = p ? p + 1 + strspn(p + 1, " \t") : line;
		p[strcspn(p, "\n")] = '\0';
		snprintf(out, len, "%s", p);
		break;
	}
	fclose(f);
}

/* The number of @bdf's IOMMU group into @out, or "none". */
static void bench_iommu_group(const char *bdf, char *out, size_t len)
{
	char path[PATH_MAX], link[256];
	const char *name;
	ssize_t n;

	snprintf(path, sizeof(path), IMP_SYSFS_PCI "/%s/iommu_group", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0) {
		snprintf(out, len, "none");
		return;
	}
	link[n] = '\0';
	name = strrchr(link, '/');
	snprintf(out, len, "%s", name ? name + 1 : link);
}

static void bench_meta(struct bench_ctx *c)
{
	const char *env;
	struct utsname u;
	char buf[1024];

	json_open(c, "meta", '{');
	uname(&u);
	json_str(c, "kernel", u.release);
	env = p2pbuf_env("P2PBUF_TOPOLOGY");
	json_str(c, "topology", env ? env : "unknown");
	env = p2pbuf_env("P2PBUF_ACCEL");
	json_str(c, "accelerator", env ? env : "unknown");
	bench_grep("/proc/cpuinfo", "model name", buf, sizeof(buf));
	json_str(c, "cpu", buf);
	json_int(c, "cpus", sysconf(_SC_NPROCESSORS_ONLN));
	env = p2pbuf_env("P2PBUF_BENCH_HOST_CPU");
	json_str(c, "host_cpu", env ? env : "unknown");
	env = p2pbuf_env("P2PBUF_BENCH_QEMU");
	json_str(c, "qemu", env ? env : "unknown");
	bench_grep("/proc/cmdline", NULL, buf, sizeof(buf));
	json_str(c, "cmdline", buf);
	env = p2pbuf_env("P2PBUF_BENCH_KDEBUG");
	json_str(c, "kernel_debug", env ? env : "unknown");
	json_str(c, "provider", c->provider_bdf);
	json_str(c, "initiator", c->imp_bdf);
	/* vfio-pci owns the provider's group: apart from the initiator's. */
	bench_iommu_group(c->provider_bdf, buf, sizeof(buf));
	json_str(c, "provider_iommu_group", buf);
	bench_iommu_group(c->imp_bdf, buf, sizeof(buf));
	json_str(c, "initiator_iommu_group", buf);
	json_int(c, "bar", BENCH_BAR);
	json_int(c, "bar_size", c->bar_size);
	json_close(c, '}');

	json_open(c, "config", '{');
	json_int(c, "cycles", c->cfg.cycles);
	json_int(c, "buf_size", c->cfg.buf_size);
	json_int(c, "max_size", c->cfg.max_size);
	json_int(c, "point_ms", c->cfg.point_ms);
	json_int(c, "slab_cycles", c->cfg.slab_cycles);
	json_int(c, "revoke_reps", c->cfg.revoke_reps);
	json_int(c, "dma_xfers", c->cfg.dma_xfers);
	json_int(c, "rounds", c->cfg.rounds);
	json_int(c, "round_cycles", c->cfg.round_cycles);
	json_int(c, "round_m", c->cfg.round_m);
	json_int(c, "round_n", c->cfg.round_n);
	json_int(c, "round_reps", c->cfg.round_reps);
	json_int(c, "ranges_size", c->cfg.ranges_size);
	json_int(c, "big_size", c->cfg.big_size);
	json_close(c, '}');
}

/* BAR 2's size from sysfs "resource" (line 3: start end flags). */
static unsigned long long bench_bar_size(const char *bdf)
{
	unsigned long long start = 0, end = 0, flags;
	char path[PATH_MAX], line[256];
	FILE *f;
	int i;

	snprintf(path, sizeof(path), IMP_SYSFS_PCI "/%s/resource", bdf);
	f = fopen(path, "re");
	if (!f)
		return 0;
	for (i = 0; i <= BENCH_BAR && fgets(line, sizeof(line), f); i++)
		if (sscanf(line, "%llx %llx %llx", &start, &end, &flags) != 3)
			end = 0;
	fclose(f);
	return end > start ? end - start + 1 : 0;
}

/* udmabuf refuses buffers above size_limit_mb (64 by default): raise it. */
static void bench_udmabuf_limit(unsigned long long size)
{
	char val[32];

	snprintf(val, sizeof(val), "%llu", (size >> 20) + 1);
	p2pbuf_sysfs_write(UDMABUF_LIMIT, val);
}

/* The p2pbuf_exporter phase. */

static int p2pbuf_make_ranges(struct bench_ctx *c, const struct bench_range *r,
			      unsigned int nr, void *priv)
{
	struct bench_p2pbuf *p = priv;

	return bench_exp_export_ranges(p->exp, r, nr);
}

static int p2pbuf_close(struct bench_ctx *c, void *priv)
{
	struct bench_p2pbuf *p = priv;
	int ret = close(p->exp) ? -errno : 0;

	p->exp = -1;
	return ret;
}

static int p2pbuf_reopen(struct bench_ctx *c, void *priv)
{
	struct bench_p2pbuf *p = priv;

	if (p->exp < 0)
		p->exp = bench_exp_open(c->provider_bdf);
	return p->exp < 0 ? p->exp : 0;
}

static int bench_phase_p2pbuf(struct bench_ctx *c)
{
	struct bench_p2pbuf p = { .exp = -1 };
	struct bench_revoke_src revoke = BENCH_P2PBUF_REVOKE_SRC(&p);
	struct bench_revoke_src close_src = {
		.name = "p2pbuf close", .make = bench_p2pbuf_make_nth,
		.trigger = p2pbuf_close, .reset = p2pbuf_reopen, .priv = &p,
	};
	int buf, ret;

	fprintf(stderr, "bench: p2pbuf_exporter on %s\n", c->provider_bdf);
	json_open(c, "p2pbuf", '{');
	ret = p2pbuf_reopen(c, &p);
	if (ret) {
		json_error(c, strerror(-ret));
		json_close(c, '}');
		return ret;
	}
	buf = bench_exp_export(p.exp, 0, c->cfg.buf_size);
	if (buf < 0) {
		json_error(c, strerror(-buf));
	} else {
		bench_map_one(c, "map_cycle", buf);
		bench_slab_cycles(c, "slab", buf);
		bench_dma(c, "dma", buf);
		close(buf);
	}
	bench_sweep(c, "sweep", bench_p2pbuf_make, &p);
	bench_ranges(c, "ranges", p2pbuf_make_ranges, &p, NULL);
	bench_big(c, "big", bench_p2pbuf_make, &p);
	bench_revoke(c, "revoke", &revoke);
	bench_revoke(c, "close", &close_src);
	if (p.exp >= 0)
		close(p.exp);
	json_close(c, '}');
	return buf < 0 ? buf : 0;
}

static int bench_phase_pages(struct bench_ctx *c)
{
	int buf, ret = 0;

	fprintf(stderr, "bench: udmabuf\n");
	json_open(c, "udmabuf", '{');
	buf = bench_make_udmabuf(c, c->cfg.buf_size, NULL);
	if (buf < 0) {
		ret = buf;
		json_error(c, strerror(-buf));
	} else {
		bench_map_one(c, "map_cycle", buf);
		bench_slab_cycles(c, "slab", buf);
		bench_dma(c, "dma", buf);
		close(buf);
	}
	bench_sweep(c, "sweep", bench_make_udmabuf, NULL);
	json_close(c, '}');

	fprintf(stderr, "bench: system dma-heap\n");
	json_open(c, "heap", '{');
	buf = bench_make_heap(c, c->cfg.buf_size, NULL);
	if (buf < 0) {
		ret = buf;
		json_error(c, strerror(-buf));
	} else {
		bench_map_one(c, "map_cycle", buf);
		close(buf);
	}
	bench_sweep(c, "sweep", bench_make_heap, NULL);
	json_close(c, '}');
	return ret;
}

/* The vfio-pci phase: the same BAR, rebound. */

static int vfio_make_ranges(struct bench_ctx *c, const struct bench_range *r,
			    unsigned int nr, void *priv)
{
	return bench_vfio_dmabuf_ranges(priv, r, nr);
}

static int vfio_close_device(struct bench_ctx *c, void *priv)
{
	struct imp_vfio *v = priv;
	int ret = close(v->device) ? -errno : 0;

	v->device = -1;
	return ret;
}

static int vfio_reopen(struct bench_ctx *c, void *priv)
{
	struct imp_vfio *v = priv;

	if (v->device < 0)
		v->device = ioctl(v->group, VFIO_GROUP_GET_DEVICE_FD, v->bdf);
	return v->device < 0 ? -errno : 0;
}

static int bench_phase_vfio(struct bench_ctx *c)
{
	struct imp_vfio v;
	struct bench_revoke_src close_src = {
		.name = "vfio close", .make = bench_vfio_make_nth,
		.trigger = vfio_close_device, .reset = vfio_reopen,
		.priv = &v,
	};
	struct bench_revoke_src decode_src = BENCH_VFIO_DECODE_SRC(&v);
	char why[128];
	int buf, ret;

	fprintf(stderr, "bench: vfio-pci on %s\n", c->provider_bdf);
	json_open(c, "vfio", '{');
	ret = imp_vfio_open(&v, c->provider_bdf, why, sizeof(why));
	if (ret) {
		json_error(c, why);
		goto out;
	}
	buf = imp_vfio_dmabuf(&v, BENCH_BAR, 0, c->cfg.buf_size);
	if (buf < 0) {
		ret = buf;
		json_error(c, strerror(-buf));
	} else {
		bench_map_one(c, "map_cycle", buf);
		bench_slab_cycles(c, "slab", buf);
		close(buf);
	}
	bench_sweep(c, "sweep", bench_vfio_make, &v);
	bench_ranges(c, "ranges", vfio_make_ranges, &v,
		     "dma_buf_phys_vec_to_sgt() links every range at IOVA offset 0 (upstream defect, patches/)");
	bench_big(c, "big", bench_vfio_make, &v);
	/* vfio-pci's own revoke trigger, like for like with p2pbuf's REVOKE. */
	bench_revoke(c, "revoke", &decode_src);
	bench_revoke(c, "close", &close_src);
	imp_vfio_release(&v);
out:
	json_close(c, '}');
	/* Give the device back as the lab bound it. */
	p2pbuf_pci_bind(c->provider_bdf, "p2pbuf_exporter");
	return ret;
}

/*
 * Measure (a) once more for p2pbuf_exporter, last: the difference from
 * the first run shows how much the boot drifts between the phases (caches,
 * KASAN's quarantine, the translation cache of TCG).
 */
static int bench_phase_again(struct bench_ctx *c)
{
	int exp, buf;

	fprintf(stderr, "bench: p2pbuf_exporter again\n");
	json_open(c, "p2pbuf_again", '{');
	exp = bench_exp_open(c->provider_bdf);
	buf = exp < 0 ? exp : bench_exp_export(exp, 0, c->cfg.buf_size);
	if (buf < 0) {
		json_error(c, strerror(-buf));
	} else {
		bench_map_one(c, "map_cycle", buf);
		close(buf);
	}
	if (exp >= 0)
		close(exp);
	json_close(c, '}');
	return buf < 0 ? buf : 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "quick", no_argument, NULL, 'q' },
		{ "out", required_argument, NULL, 'o' },
		{ },
	};
	struct bench_ctx c = { .json_depth = -1 };
	const char *out = NULL;
	bool quick = false;
	int opt, ret = 0;

	while ((opt = getopt_long(argc, argv, "qo:", opts, NULL)) != -1) {
		if (opt == 'q') {
			quick = true;
		} else if (opt == 'o') {
			out = optarg;
		} else {
			fprintf(stderr, "usage: %s [--quick] [--out FILE]\n",
				argv[0]);
			return 2;
		}
	}
	bench_defaults(&c.cfg, quick);
	bench_env(&c.cfg);
	if (!bench_cfg_valid(&c.cfg))
		return 2;
	c.provider_bdf = p2pbuf_env("P2PBUF_PROVIDER_BDF");
	if (!c.provider_bdf) {
		fprintf(stderr, "bench: P2PBUF_PROVIDER_BDF is not set\n");
		return 2;
	}
	c.imp = imp_open(c.imp_bdf, sizeof(c.imp_bdf));
	if (c.imp < 0) {
		fprintf(stderr, "bench: no p2pbuf_importer device: %s\n",
			strerror(-c.imp));
		return 2;
	}
	c.bar_size = bench_bar_size(c.provider_bdf);
	if (c.cfg.max_size > c.bar_size)
		c.cfg.max_size = c.bar_size;
	c.json = out ? fopen(out, "we") : stdout;
	if (!c.json) {
		perror(out);
		return 2;
	}
	bench_udmabuf_limit(c.cfg.max_size);

	json_open(&c, NULL, '{');
	bench_meta(&c);
	/* (c) reads the importer's invalidate event: a failure is an error. */
	if (bench_trace_start(&c)) {
		json_error(&c, "cannot switch on the p2pbuf_imp_invalidate trace event");
		ret = 1;
	}
	ret |= bench_phase_p2pbuf(&c);
	ret |= bench_phase_pages(&c);
	ret |= bench_phase_vfio(&c);
	ret |= bench_phase_again(&c);
	ret |= bench_phase_rounds(&c);
	ret |= bench_phase_profile(&c);
	json_close(&c, '}');
	bench_trace_stop(&c);
	if (out)
		fclose(c.json);
	close(c.imp);
	return ret || c.errors ? 1 : 0;
}
