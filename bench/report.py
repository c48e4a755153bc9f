#!/usr/bin/python3
"""report.py - make bench's table: the medians of each workload's runs per system and
syncq's ratio to each peer, printed and written as JSON.

    report.py RESULTS.ndjson OUT.json SETTINGS_JSON

RESULTS holds one JSON object per run: {"w": "a".."d", "sys", "rep", metrics...}.
Ratios are taken between medians of the same run of make bench (the machine is shared:
absolute figures drift, ratios within one interleaved run much less)."""
import json
import statistics
import sys

METRICS = {  # workload -> [(metric, label, unit, higher_is_better)]
    "a": [("process", "no-op processed", "jobs/s", True), ("enqueue", "no-op enqueued", "jobs/s", True),
          ("child_anon_kb", "child peak RssAnon", "MB", False), ("writer_anon_kb", "writer peak RssAnon", "MB", False),
          ("cpu_redis_us", "CPU/job Redis", "us", False), ("cpu_pg_us", "CPU/job PostgreSQL", "us", False),
          ("cpu_children_us", "CPU/job children", "us", False), ("cpu_writer_us", "CPU/job writer", "us", False)],
    "b": [("process", "I/O-bound (64 x 20 ms)", "jobs/s", True), ("pss_kb", "I/O-bound total PSS", "MB", False),
          ("child_anon_kb", "I/O child peak RssAnon", "MB", False)],
    "c": [("p50_us", "latency p50", "ms", False), ("p99_us", "latency p99", "ms", False),
          ("p999_us", "latency p99.9", "ms", False), ("rate", "latency load", "jobs/s", True),
          ("q50_us", "queue wait p50 (Redis)", "ms", False), ("q99_us", "queue wait p99 (Redis)", "ms", False),
          ("q999_us", "queue wait p99.9 (Redis)", "ms", False)],
    "d": [("first_s", "sync first", "s", False), ("again_s", "sync no-change", "s", False)],
}
SCALE = {"MB": 1 / 1024, "ms": 1 / 1000}


def main():
    runs = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
    settings = json.loads(sys.argv[3])
    systems = []
    for r in runs:
        if r["sys"] not in systems:
            systems.append(r["sys"])
    out = {"settings": settings, "runs": runs, "medians": {}, "ratios": {}}
    rows = []
    for w, metrics in METRICS.items():
        for m, label, unit, higher in metrics:
            med = {}
            for s in systems:
                v = [r[m] for r in runs if r["w"] == w and r["sys"] == s and r.get(m) is not None]
                if v:
                    med[s] = statistics.median(v) * SCALE.get(unit, 1)
            if not med:
                continue
            key = "%s.%s" % (w, m)
            out["medians"][key] = med
            base = med.get("syncq")
            ratios = {}
            if base is not None:
                for s, v in med.items():
                    if s != "syncq" and v:
                        ratios[s] = base / v if higher else v / base
            out["ratios"][key] = ratios
            # the median of each rep's own ratio: the systems of one rep ran back to
            # back, on the same machine weather
            rep_ratios = {}
            for s in ratios:
                v = []
                for rep in sorted({r["rep"] for r in runs}):
                    a = [r[m] for r in runs if r["w"] == w and r["sys"] == "syncq" and r["rep"] == rep and r.get(m)]
                    b = [r[m] for r in runs if r["w"] == w and r["sys"] == s and r["rep"] == rep and r.get(m)]
                    if a and b:
                        v.append(a[0] / b[0] if higher else b[0] / a[0])
                if v:
                    rep_ratios[s] = statistics.median(v)
            out.setdefault("rep_ratios", {})[key] = rep_ratios
            rows.append((w, label, unit, med, ratios, rep_ratios))
    cols = systems
    if not cols:  # BENCH_ONLY named no side-by-side workload (only exec, web or audit)
        return
    width = max(12, max(len(s) for s in cols) + 2)
    print("syncq bench (%s): medians of %s interleaved runs; x = syncq's advantage (>1: syncq better)" %
          (", ".join("%s=%s" % kv for kv in settings.items()), settings.get("reps")))
    print("%-2s %-26s %-7s" % ("", "", "") + "".join("%*s" % (width, c) for c in cols))
    for w, label, unit, med, ratios, rep_ratios in rows:
        cells = "".join("%*s" % (width, ("%.2f" % med[c]) if c in med else "-") for c in cols)
        print("%-2s %-26s %-7s%s" % (w, label, unit, cells.replace("%*s" % (width, "-"), "%*s" % (width, "-"))))
        if ratios:
            cells = "".join("%*s" % (width, ("x%.2f" % ratios[c]) if c in ratios else "") for c in cols)
            print("%-2s %-26s %-7s%s" % ("", "  ratio of medians", "", cells))
            cells = "".join("%*s" % (width, ("x%.2f" % rep_ratios[c]) if c in rep_ratios else "") for c in cols)
            print("%-2s %-26s %-7s%s" % ("", "  median of rep ratios", "", cells))
    with open(sys.argv[2], "w") as f:
        json.dump(out, f, indent=1)
    print("written: %s" % sys.argv[2])


if __name__ == "__main__":
    main()
