#!/usr/bin/env python3
"""Per-shape table and the list of every false alarm / late detection.

Usage: metrics.py --seeds 1-10 [--labels DIR] [--detail]
"""
import argparse
import collections
import datetime as dt
import json
import os
import statistics
from seeds import parse_seeds

HERE = os.path.dirname(os.path.abspath(__file__))
RANK = {"ok": 0, "watch": 1, "alert": 2, "critical": 3}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", default="1-10")
    ap.add_argument("--labels", default=os.path.join(HERE, "labels"))
    ap.add_argument("--step", type=int, default=14)
    ap.add_argument("--detail", action="store_true")
    a = ap.parse_args()
    rows = collections.defaultdict(lambda: dict(n=0, evals=0, alert=0, watch=0, episodes=0, leads=[],
                                                credit=collections.Counter()))
    fa, late = [], []
    for seed in parse_seeds(a.seeds):
        base = os.path.join(a.labels, f"seed-{seed}")
        plan = json.load(open(os.path.join(base, "files", "plan.json")))
        recs = [json.loads(l) for l in open(os.path.join(base, "risk.jsonl"))]
        for d in plan["distributors"]:
            name, shape = d["name"], d["shape"]
            R = rows[shape]
            R["n"] += 1
            series = [(r["as_of"], r["d"][name]) for r in recs if name in r["d"]]
            if not d["fails"]:
                run = []
                for i, (t, x) in enumerate(series + [(None, None)]):
                    hi = x is not None and RANK[x["level"]] >= 2
                    if x is not None:
                        R["evals"] += 1
                        R["alert"] += hi
                        R["watch"] += RANK[x["level"]] >= 1
                    if hi:
                        run.append((t, x))
                    elif run:
                        R["episodes"] += 1
                        fa.append((seed, name, shape, run))
                        run = []
            else:
                dd = dt.date.fromisoformat(d["default_on"])
                lead = None
                for t, x in reversed(series):
                    if RANK[x["level"]] >= 2:
                        lead = (dd - dt.date.fromisoformat(t)).days
                    else:
                        break
                R["leads"].append(lead)
                if lead is None or lead < 120:
                    late.append((seed, name, shape, d["default_on"], lead, series[-14:], d["params"]))
            cpath = os.path.join(base, "credit.jsonl")
            if os.path.exists(cpath) and not d["fails"]:
                for l in open(cpath):
                    c = json.loads(l)
                    if c["distributor"] == name:
                        R["credit"][c["verdict"]] += 1
        years_by_shape = None
    print("| shape | n | evals | FA episodes / 10 dist-yrs | share evals ≥alert | ≥watch | lead min/med/max (days) | detected ≥120 d | any lead | credit checks refused/total |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for shape, R in rows.items():
        if R["evals"]:
            yrs = R["evals"] * a.step / 365.25
            fa_rate = R["episodes"] / yrs * 10
            share = R["alert"] / R["evals"]
            cr = R["credit"]
            print(f"| {shape} | {R['n']} | {R['evals']} | {fa_rate:.2f} ({R['episodes']} ep) | {share:.1%} | "
                  f"{R['watch'] / R['evals']:.1%} | – | – | – | {cr['refused']}/{sum(cr.values())}"
                  f"{' (' + str(cr['error']) + ' err)' if cr['error'] else ''} |")
        else:
            L = R["leads"]
            got = [x for x in L if x is not None]
            lm = f"{min(got)}/{statistics.median(got):.0f}/{max(got)}" if got else "–"
            print(f"| {shape} | {R['n']} | – | – | – | – | {lm} | {sum(1 for x in got if x >= 120)}/{len(L)} | "
                  f"{len(got)}/{len(L)} | – |")
    if a.detail:
        print("\n## False-alarm episodes")
        for seed, name, shape, run in fa:
            t0, x0 = run[0]
            top = max(run, key=lambda z: RANK[z[1]["level"]])
            print(f"\n- seed {seed} {name} ({shape}): {run[0][0]} → {run[-1][0]} ({len(run)} evals), "
                  f"max {top[1]['level']} on {top[0]}")
            seen = set()
            for t, x in run:
                for s in x["signals"]:
                    if RANK[s["level"]] >= 2 and (s["code"], s["level"]) not in seen:
                        seen.add((s["code"], s["level"]))
                        print(f"    {t} [{x['level']}] {s['code']}={s['level']}: {s['message']}")
        print("\n## Failing distributors detected late (< 120 days) or not at all")
        for seed, name, shape, dd, lead, tail, params in late:
            print(f"\n- seed {seed} {name} ({shape}) default {dd}, lead {lead}; params {params}")
            for t, x in tail:
                print(f"    {t} {x['level']}: " + " | ".join(f"{s['code']}={s['level']}" for s in x["signals"]))
            for t, x in tail[-1:]:
                for s in x["signals"]:
                    print(f"      {s['code']}={s['level']}: {s['message']}")
        print("\n## Credit checks refused (healthy)")
        for seed in parse_seeds(a.seeds):
            cpath = os.path.join(a.labels, f"seed-{seed}", "credit.jsonl")
            if os.path.exists(cpath):
                for l in open(cpath):
                    c = json.loads(l)
                    if c["verdict"] != "passed":
                        print(f"- seed {seed} {c['distributor']} {c['date']} {c['verdict']}: {c['detail'][:600]}")


if __name__ == "__main__":
    main()
