#!/usr/bin/env python3
"""summary.py RESULTS_TSV [SESSION]: medians of one bench/run.sh session as a
markdown table (all sessions of the file when SESSION is omitted)."""
import csv
import statistics
import sys


def num(s):
    try:
        return float(s)
    except (TypeError, ValueError):
        return None


def main():
    path = sys.argv[1]
    session = sys.argv[2] if len(sys.argv) > 2 else None
    with open(path, newline="") as f:
        rows = [r for r in csv.DictReader(f, delimiter="\t") if session is None or r["session"] == session]
    if not rows:
        print("no rows")
        return
    order = []
    by = {}
    for r in rows:
        key = (r["dataset"], r["variant"])
        if key not in by:
            by[key] = []
            order.append(key)
        by[key].append(r)

    def med(key, col):
        vals = [num(r[col]) for r in by.get(key, []) if num(r[col]) is not None]
        return statistics.median(vals) if vals else None

    print("| dataset | variant | n | median ms (min–max) | backend CPU ms | de-enrolled | ÷ batched floor | ÷ 1-tx floor | leads/s | peak RSS MB (max) | in-JVM ms | checks | CPU PSI avg10 before (median, max) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for key in order:
        ds, v = key
        rs = by[key]
        ms = [num(r["ms"]) for r in rs if num(r["ms"]) is not None]
        m = statistics.median(ms) if ms else None
        floor = med((ds, "floor"), "ms")
        batched = med((ds, "batched"), "ms")
        de = med(key, "de_enrolled")
        cpu = med(key, "cpu_ms")
        rss = [num(r["rss_kb"]) for r in rs if num(r["rss_kb"])]
        jvm = [num(x) for r in rs for x in r["jvm_duration_ms"].split("/") if num(x) is not None]
        psi = [num(r["cpu_psi10_before"]) for r in rs if num(r["cpu_psi10_before"]) is not None]
        ok = sum(1 for r in rs if r["check"] == "OK" and r["verify_rc"] == "0" and r["exit_rc"] == "0")
        is_tool = v.startswith(("deenroll", "baseline"))
        cells = [
            ds, v, str(len(rs)),
            f"**{m:,.0f}** ({min(ms):,.0f}–{max(ms):,.0f})" if m is not None else "–",
            f"{cpu:,.0f}" if cpu is not None else "–",
            f"{de:,.0f}" if de is not None else "–",
            f"{m / batched:.2f}" if is_tool and m and batched else "–",
            f"{m / floor:.2f}" if is_tool and m and floor else "–",
            f"{de / (m / 1000):,.0f}" if m and de else "–",
            f"{statistics.median(rss) / 1024:.0f} ({max(rss) / 1024:.0f})" if rss else "–",
            f"{statistics.median(jvm):,.0f}" if jvm else "–",
            f"{ok}/{len(rs)} OK",
            f"{statistics.median(psi):.0f}, {max(psi):.0f}" if psi else "–",
        ]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
