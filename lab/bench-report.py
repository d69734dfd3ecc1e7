#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Turn p2pbuf_bench's JSON into the table make bench prints and the plot
of map cost against buffer size.

usage: bench-report.py BENCH_JSON PLOT_PNG

Times are the medians (p50) of kernel-side timings unless said otherwise;
"p10-p90" gives the spread. A ratio is the other exporter's median over
p2pbuf's: above 1, p2pbuf is faster. Exit status 1 if the JSON records an
error or the plot cannot be written.
"""
import json
import sys


def us(ns):
    return "-" if ns is None else "%.1f" % (ns / 1000.0)


def p50(d, key):
    st = (d or {}).get(key)
    return st["p50"] if st and st.get("n") else None


def ratio(a, b):
    if a is None or b is None or b <= 0:
        return "-"
    return "%.2f" % (a / b)


def spread(d, key):
    st = (d or {}).get(key)
    if not st or not st.get("n"):
        return "-"
    return "%s-%s" % (us(st["p10"]), us(st["p90"]))


def table(rows, header):
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
    out = ["  ".join(str(h).ljust(w) for h, w in zip(header, widths))]
    for r in rows:
        out.append("  ".join(str(c).ljust(w) for c, w in zip(r, widths)))
    return "\n".join(("  " + line).rstrip() for line in out)


def size_name(b):
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if b >= 1 << shift and b % (1 << shift) == 0:
            return "%d %s" % (b >> shift, unit)
    return "%d B" % b


def errors(node, path=""):
    """Every "error" in the document, with where it was."""
    found = []
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "error":
                found.append("%s: %s" % (path or "/", v))
            else:
                found += errors(v, "%s/%s" % (path, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            found += errors(v, "%s[%d]" % (path, i))
    return found


def report_map_cycle(b):
    p = b.get("p2pbuf", {}).get("map_cycle")
    rows = []
    for name in ("p2pbuf", "vfio", "udmabuf", "heap", "p2pbuf_again"):
        d = b.get(name, {}).get("map_cycle")
        if not d:
            continue
        rows.append([name, d.get("map_type", "-"), us(p50(d, "map_ns")), spread(d, "map_ns"),
                     us(p50(d, "unmap_ns")), us(p50(d, "cycle_ns")),
                     us((d.get("cycle_ns") or {}).get("mad")), (d.get("cycle_ns") or {}).get("n", "-"),
                     ratio(p50(d, "cycle_ns"), p50(p, "cycle_ns"))])
    size = size_name((p or {}).get("size", 0))
    print("(a) map+unmap cycle of one %s buffer, same importer, in-kernel us" % size)
    print(table(rows, ["exporter", "map type", "map", "map p10-p90", "unmap", "cycle",
                       "cycle MAD", "n", "cycle / p2pbuf"]))


def report_sweep(b):
    names = [n for n in ("p2pbuf", "vfio", "udmabuf", "heap") if b.get(n, {}).get("sweep")]
    by_size = {}
    for n in names:
        for pt in b[n]["sweep"]:
            by_size.setdefault(pt["size"], {})[n] = pt
    rows = []
    for size in sorted(by_size):
        pts = by_size[size]
        base = p50(pts.get("p2pbuf"), "map_ns")
        row = [size_name(size)]
        row += [us(p50(pts.get(n), "map_ns")) if "error" not in pts.get(n, {}) else "error"
                for n in names]
        row += [ratio(p50(pts.get(n), "map_ns"), base) for n in names if n != "p2pbuf"]
        rows.append(row)
    print("(b) map cost against size, median in-kernel us (ratio: exporter / p2pbuf)")
    print(table(rows, ["size"] + names + ["%s/p2pbuf" % n for n in names if n != "p2pbuf"]))


def report_revoke(b):
    series = [("p2pbuf REVOKE", b.get("p2pbuf", {}).get("revoke")),
              ("vfio decode off", b.get("vfio", {}).get("revoke")),
              ("p2pbuf close", b.get("p2pbuf", {}).get("close")),
              ("vfio close", b.get("vfio", {}).get("close"))]
    by_mn = {}
    for name, pts in series:
        for pt in pts or []:
            by_mn.setdefault((pt["m"], pt["n"]), {})[name] = pt
    rows = []
    for (m, n) in sorted(by_mn):
        pts = by_mn[(m, n)]
        row = ["%dx%d" % (m, n)]
        for name, _ in series:
            pt = pts.get(name)
            row.append("error" if pt and "error" in pt else us(p50(pt, "wall_ns")))
            row.append(us(p50(pt, "last_cb_ns")))
        row.append(ratio(p50(pts.get("vfio decode off"), "wall_ns"),
                         p50(pts.get("p2pbuf REVOKE"), "wall_ns")))
        row.append(ratio(p50(pts.get("vfio close"), "wall_ns"), p50(pts.get("p2pbuf close"), "wall_ns")))
        rows.append(row)
    print("(c) revoke latency, M buffers x N attachments, median us: wall = the trigger's")
    print("    system call, last cb = latest importer callback entry after its start;")
    print("    like for like: p2pbuf REVOKE against vfio-pci clearing PCI_COMMAND.MEMORY,")
    print("    p2pbuf's file close against vfio-pci's device close")
    hdr = ["MxN"]
    for name, _ in series:
        hdr += [name, "last cb"]
    print(table(rows, hdr + ["vfio decode/p2pbuf REVOKE", "vfio/p2pbuf close"]))


def report_slab(b):
    rows = []
    for name in ("p2pbuf", "vfio", "udmabuf"):
        d = b.get(name, {}).get("slab")
        if not d or "error" in d:
            continue
        caches = ", ".join("%s %+.2f" % (c["cache"], c["objects_per_cycle"]) for c in d.get("caches", []))
        rows.append([name, d["cycles"], "%.1f" % d["sunreclaim_bytes_per_cycle"],
                     "%.1f" % d["slab_bytes_per_cycle"], caches or "none"])
    print("(d) kernel memory per map+unmap cycle (slab before/after)")
    print(table(rows, ["exporter", "cycles", "SUnreclaim B/cycle", "Slab B/cycle",
                       "caches, objects/cycle"]))


def report_dma(b):
    rows = []
    base = {}
    for name in ("p2pbuf", "udmabuf"):
        d = b.get(name, {}).get("dma")
        if not d or "error" in d:
            continue
        for direction in ("to_buf", "from_buf"):
            x = d.get(direction)
            if not x:
                continue
            rate = x["mib_per_s"]
            if name == "p2pbuf":
                base[direction] = rate
            rows.append([name, d.get("map_type", "-"), direction, x["bytes"],
                         us(x["xfer_ns"]["p50"]), "%.4f" % rate,
                         ratio(rate, base.get(direction)), d.get("read_back", "-")])
    print("(e) edu DMA through the mapping, one transfer per ioctl (wall clock)")
    print(table(rows, ["buffer", "map type", "direction", "bytes", "us/xfer", "MiB/s",
                       "rate / p2pbuf", "read back"]))


def report_rounds(b):
    rounds = b.get("rounds") or []
    if not rounds:
        return
    rows, ratios = [], []
    for r in rounds:
        p, v = p50(r.get("p2pbuf"), "cycle_ns"), p50(r.get("vfio"), "cycle_ns")
        if p and v:
            ratios.append(v / p)
        rows.append([r.get("round"), r.get("first"),
                     (r.get("p2pbuf") or {}).get("map_type", "-"),
                     "error" if "error" in (r.get("p2pbuf") or {}) else us(p),
                     "error" if "error" in (r.get("vfio") or {}) else us(v),
                     ratio(v, p)])
    n = b.get("config", {}).get("round_cycles") or \
        (rounds[0].get("p2pbuf") or {}).get("cycle_ns", {}).get("n", "-")
    print("(f) map+unmap cycle, p2pbuf_exporter and vfio-pci interleaved on the same BAR:")
    print("    %d rounds of %s cycles each, who goes first alternating; cycle median" % (len(rounds), n))
    print("    per round, in-kernel us")
    print(table(rows, ["round", "first", "map type", "p2pbuf", "vfio", "vfio/p2pbuf"]))
    if ratios:
        print("  vfio/p2pbuf over %d rounds: %s" % (len(ratios), spread_of(ratios)))
    report_rounds_sizes(b, rounds)
    report_rounds_revoke(b, rounds)


def median(v):
    v = sorted(v)
    return v[len(v) // 2] if len(v) % 2 else (v[len(v) // 2 - 1] + v[len(v) // 2]) / 2


def spread_of(v, fmt="%.2f"):
    """Median and range of per-round values."""
    if not v:
        return "-"
    return ("median " + fmt + ", min " + fmt + ", max " + fmt) % (median(v), min(v), max(v))


def per_round(rounds, key, pick):
    """pick(entry) of every round where both exporters have a value, as
    {name: [values]}; a round where either has none is left out of both."""
    out = {"p2pbuf": [], "vfio": []}
    for r in rounds:
        p, v = pick(r.get("p2pbuf" + key)), pick(r.get("vfio" + key))
        if p is not None and v is not None:
            out["p2pbuf"].append(p)
            out["vfio"].append(v)
    return out


def report_rounds_sizes(b, rounds):
    sizes = []
    for r in rounds:
        for pt in (r.get("p2pbuf_sizes") or []) + (r.get("vfio_sizes") or []):
            if pt.get("size") not in sizes:
                sizes.append(pt.get("size"))
    sizes = sorted(x for x in sizes if x)
    if not sizes:
        return

    def at(size):
        return lambda pts: next((p50(pt, "cycle_ns") for pt in pts or []
                                 if pt.get("size") == size), None)
    rows, cyc = [], {}
    for size in sizes:
        v = cyc[size] = per_round(rounds, "_sizes", at(size))
        r = [x / y for x, y in zip(v["vfio"], v["p2pbuf"]) if y]
        rows.append([size_name(size), len(r),
                     us(median(v["p2pbuf"])) if r else "error",
                     us(median(v["vfio"])) if r else "error",
                     spread_of(r)])
    print("(f)(b) map+unmap cycle against size in the same rounds, median of the")
    print("    per-round medians, in-kernel us; vfio/p2pbuf per round")
    print(table(rows, ["size", "rounds", "p2pbuf", "vfio", "vfio/p2pbuf"]))
    small, big = sizes[0], sizes[-1]
    for name in ("p2pbuf", "vfio"):
        r = []
        for rd in rounds:  # each round's largest over its own smallest
            x, y = at(big)(rd.get(name + "_sizes")), at(small)(rd.get(name + "_sizes"))
            if x and y:
                r.append(x / y)
        print("  %s: %s over %s per round: %s" % (name, size_name(big), size_name(small),
                                                  spread_of(r)))


def report_rounds_revoke(b, rounds):
    # A round whose revoke recorded an error (a partial map) compares nothing.
    v = per_round(rounds, "_revoke",
                  lambda d: None if not d or "error" in d else p50(d, "wall_ns"))
    first = next((r.get("p2pbuf_revoke") for r in rounds if r.get("p2pbuf_revoke")), None)
    if not first:
        return
    r = [x / y for x, y in zip(v["vfio"], v["p2pbuf"]) if y]
    print("(f)(c) revoke in the same rounds: %sx%s, p2pbuf REVOKE against vfio-pci's"
          % (first.get("m"), first.get("n")))
    print("    memory decode off; wall clock per round (median of its triggers), us")
    print(table([[len(r), us(median(v["p2pbuf"])) if r else "error",
                  us(median(v["vfio"])) if r else "error", spread_of(r)]],
                ["rounds", "p2pbuf", "vfio", "vfio/p2pbuf"]))


def point_cell(pt, key="map_ns"):
    if not pt:
        return "-"
    if "error" in pt:
        return "error"
    if "known_defect" in pt:
        return "fails"
    return us(p50(pt, key))


def report_ranges(b):
    names = [n for n in ("p2pbuf", "vfio") if b.get(n, {}).get("ranges")]
    if not names:
        return
    by_nr, defects = {}, set()
    for n in names:
        for pt in b[n]["ranges"]:
            by_nr.setdefault(pt.get("ranges"), {})[n] = pt
            if "known_defect" in pt:
                defects.add("%s: %s" % (n, pt["known_defect"]))
    rows = []
    for nr in sorted(k for k in by_nr if k is not None):
        pts = by_nr[nr]
        row = [nr, size_name(next(iter(pts.values())).get("size", 0))]
        for n in names:
            one = p50(by_nr.get(1, {}).get(n), "cycle_ns")
            row += [pts.get(n, {}).get("map_type", "-"), point_cell(pts.get(n)),
                    point_cell(pts.get(n), "cycle_ns"), ratio(p50(pts.get(n), "cycle_ns"), one)]
        rows.append(row)
    print("(g) one buffer of N ranges of equal length (gaps between them), median in-kernel us;")
    print("    x 1 range = cycle over the cycle of one range of the same size")
    hdr = ["ranges", "size"]
    for n in names:
        hdr += ["%s type" % n, "%s map" % n, "%s cycle" % n, "x 1 range"]
    print(table(rows, hdr))
    for d in sorted(defects):
        print("  fails = known defect, %s" % d)


def report_big(b):
    rows = []
    for n in ("p2pbuf", "vfio"):
        pts = b.get(n, {}).get("big") or []
        if pts and "not_measured" in pts[0]:
            print("(h) one range above 4 GiB: not measured: %s" % pts[0]["not_measured"])
            return
        if len(pts) != 2:
            continue
        small, big = pts
        rows.append([n, big.get("map_type", "-"), size_name(big.get("size", 0)),
                     point_cell(small), point_cell(big), point_cell(small, "cycle_ns"),
                     point_cell(big, "cycle_ns"),
                     ratio(p50(big, "cycle_ns"), p50(small, "cycle_ns"))])
    if not rows:
        return
    print("(h) one range of the whole BAR (above 4 GiB) against one page, median in-kernel us")
    print(table(rows, ["exporter", "map type", "size", "4 KiB map", "big map", "4 KiB cycle",
                       "big cycle", "big / 4 KiB"]))


def report_profile(b):
    """(i): the function_graph profile of both exporters' callbacks, side by
    side. Rows are matched by function and parent; the callbacks become
    map_dma_buf/unmap_dma_buf, and p2pbuf_exp_sgt_map/unmap, p2pbuf's wrapper
    of the helpers vfio-pci calls directly, is a row but not a parent, so
    that the helpers' rows line up."""
    prof = b.get("profile")
    if not prof:
        return
    if "not_measured" in prof:
        print("(i) profile: not measured: %s" % prof["not_measured"])
        return
    print("(i) where a map+unmap cycle goes: function_graph from the exporters' callbacks;")
    print("    calls = per cycle, us = mean us per cycle, share = of the parent's time (roots:")
    print("    of the cycle); the tracer adds its cost to every traced call: read calls and shares")
    profile_table(b, prof, ("p2pbuf", "vfio"))
    if any(isinstance(prof.get(n), dict) for n in ("p2pbuf_one_range", "p2pbuf_ranges")):
        print("(i)(g) p2pbuf_exporter: one range of %s against %s ranges of the same size" %
              (size_name(prof.get("ranges_size", 0)), prof.get("ranges", "several")))
        profile_table(b, prof, ("p2pbuf_ranges", "p2pbuf_one_range"))


def profile_table(b, prof, pair):
    """The rows of the two profiles in @pair side by side, and their difference."""
    roots = {"p2pbuf_exp_map": "map_dma_buf", "vfio_pci_dma_buf_map": "map_dma_buf",
             "p2pbuf_exp_unmap": "unmap_dma_buf", "vfio_pci_dma_buf_unmap": "unmap_dma_buf"}
    wrappers = ("p2pbuf_exp_sgt_map", "p2pbuf_exp_sgt_unmap")
    names = [n for n in pair if isinstance(prof.get(n), dict)]
    keys, rows = [], {}
    for name in names:
        for r in prof[name].get("rows", []):
            path = [roots.get(f, f) for f in r["path"].split("/")]
            above = [f for f in path[:-1] if f not in wrappers]
            key = (tuple(above), path[-1])
            rows.setdefault(key, {})[name] = r
            if key in keys:
                continue
            at = len(keys)
            for i, k in enumerate(keys):  # after the parent and its subtree
                if (k[0] + (k[1],))[:len(above)] == key[0]:
                    at = i + 1
            keys.insert(at, key)
    for name in names:
        d = prof[name]
        if "error" in d:
            print("  %s: error: %s" % (name, d["error"]))
            continue
        base = p50(b.get(name, {}).get("map_cycle"), "cycle_ns")
        rs = d.get("rows", [])
        floor = min([r["p50_ns"] for r in rs] or [0])
        calls = sum(r["calls_per_cycle"] for r in rs)
        print("  %s: %s, depth %s, %s of %s cycles traced; cycle median %s us traced%s;" % (
            name, d.get("map_type", "-"), d.get("max_graph_depth", "-"), d.get("traced_cycles", "-"),
            d.get("cycles", "-"), us(p50(d, "cycle_ns_traced")),
            ", %s us in (a)" % us(base) if base else ""))
        print("    %.1f traced calls per cycle, the fastest %s us each (the tracer's cost per call)%s" % (
            calls, us(floor), "; " + d["warning"] if d.get("warning") else ""))
    out = []
    for key in keys:
        pts = rows[key]
        row = ["  " * len(key[0]) + key[1]]
        for name in names:
            r = pts.get(name)
            row += ["%.2f" % r["calls_per_cycle"], "%.2f" % (r["ns_per_cycle"] / 1000.0),
                    "%.0f%%" % (100 * r["share"])] if r else ["-", "-", "-"]
        if len(names) == 2:  # a wrapper's time is its helper's: no difference
            a, v = [(pts.get(n) or {}).get("ns_per_cycle", 0) for n in names]
            row.append("-" if key[1] in wrappers else "%+.2f" % ((a - v) / 1000.0))
        out.append(row)
    hdr = ["call path"]
    for name in names:
        hdr += ["%s calls" % name, "us", "share"]
    if len(names) == 2:
        hdr.append("%s-%s us" % tuple(names))
    if out:
        print(table(out, hdr))
    print()


def plot(b, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5))
    styles = {"p2pbuf": "o-", "udmabuf": "s-", "heap": "^-", "vfio": "x--"}
    labels = {"p2pbuf": "p2pbuf_exporter (BAR)", "udmabuf": "udmabuf (memfd pages)",
              "heap": "system dma-heap", "vfio": "vfio-pci (same BAR)"}
    for name, style in styles.items():
        pts = [p for p in b.get(name, {}).get("sweep", []) if p.get("map_ns")]
        if not pts:
            continue
        x = [p["size"] for p in pts]
        y = [p["map_ns"]["p50"] / 1000.0 for p in pts]
        lo = [(p["map_ns"]["p50"] - p["map_ns"]["p10"]) / 1000.0 for p in pts]
        hi = [(p["map_ns"]["p90"] - p["map_ns"]["p50"]) / 1000.0 for p in pts]
        ax.errorbar(x, y, yerr=[lo, hi], fmt=style, capsize=3, label=labels[name])
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("buffer size (bytes)")
    ax.set_ylabel("dma_buf_map_attachment, median us (p10-p90)")
    m = b.get("meta", {})
    ax.set_title("map cost vs size: %s, %s, %s" % (m.get("topology"), m.get("kernel"),
                                                  m.get("accelerator")))
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    b = json.load(open(argv[1]))
    m = b.get("meta", {})
    print("p2pbuf bench: kernel %s, topology %s, accelerator %s" % (
        m.get("kernel"), m.get("topology"), m.get("accelerator")))
    print("  cpu: %s x %s; provider %s BAR %d (%s), initiator %s" % (
        m.get("cpu"), m.get("cpus"), m.get("provider"), m.get("bar", 2),
        size_name(m.get("bar_size", 0)), m.get("initiator")))
    print("  host: %s; %s" % (m.get("host_cpu", "unknown"), m.get("qemu", "unknown")))
    print("  kernel debug: %s" % m.get("kernel_debug"))
    print("  IOMMU groups: provider %s, initiator %s" % (
        m.get("provider_iommu_group", "-"), m.get("initiator_iommu_group", "-")))
    print("  command line: %s" % m.get("cmdline"))
    print()
    for part in (report_map_cycle, report_sweep, report_revoke, report_slab, report_dma,
                 report_ranges, report_big):
        part(b)
        print()
    if b.get("rounds"):
        report_rounds(b)
        print()
    report_profile(b)
    rc = 0
    try:
        plot(b, argv[2])
        print("plot: %s" % argv[2])
    except Exception as e:  # no matplotlib, unwritable path
        print("plot: not written: %s" % e)
        rc = 1
    errs = errors(b)
    for e in errs:
        print("error: %s" % e)
    return 1 if errs else rc


if __name__ == "__main__":
    sys.exit(main(sys.argv))
