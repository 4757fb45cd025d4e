#!/usr/bin/env python3
"""Import each generated label, replay `risk --as-of` every 14 days from one year after
the start, and check credit before shipments to healthy distributors.

Usage: evaluate.py --seeds 1-10 --labels DIR [--no-credit]   (the binary: $BACKSTOCK_BIN)
Writes labels/seed-N/risk.jsonl (one line per date: level and non-ok signals per
distributor) and labels/seed-N/credit.jsonl.
"""
import argparse
import datetime as dt
import json
import math
import os
import shutil
import subprocess
import sys
from seeds import parse_seeds

HERE = os.path.dirname(os.path.abspath(__file__))
BIN = os.environ.get("BACKSTOCK_BIN", os.path.join(HERE, "backstock"))
D = dt.timedelta


def bs(datadir, *args, check=True):
    p = subprocess.run([BIN, "--data-dir", datadir, *args], capture_output=True, text=True)
    if check and p.returncode != 0:
        raise SystemExit(f"backstock {' '.join(args)} failed ({p.returncode}):\n{p.stdout}\n{p.stderr}")
    return p


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", default="1-10")
    ap.add_argument("--labels", default=os.path.join(HERE, "labels"))
    ap.add_argument("--step", type=int, default=14)
    ap.add_argument("--no-credit", action="store_true")
    ap.add_argument("--credit-every", type=int, default=2, help="check every Nth shipment")
    a = ap.parse_args()
    for seed in parse_seeds(a.seeds):
        base = os.path.join(a.labels, f"seed-{seed}")
        files = os.path.join(base, "files")
        db = os.path.join(base, "db")
        plan = json.load(open(os.path.join(files, "plan.json")))
        start = dt.date.fromisoformat(plan["start"])
        end = dt.date.fromisoformat(plan["end"])
        if os.path.exists(db):
            shutil.rmtree(db)
        bs(db, "init")
        p = bs(db, "import", files)
        with open(os.path.join(base, "import.log"), "w") as f:
            f.write(p.stdout + p.stderr)
        defaults = {d["name"]: d["default_on"] for d in plan["distributors"]}
        first = start.replace(year=start.year + 1)
        t = first
        out = open(os.path.join(base, "risk.jsonl"), "w")
        n = 0
        while t <= end:
            p = bs(db, "risk", "--as-of", str(t), "--format", "json")
            res = json.loads(p.stdout)
            rec = {"as_of": str(t), "d": {}}
            for x in res:
                dd = defaults.get(x["distributor"])
                if dd and str(t) >= dd:
                    continue
                rec["d"][x["distributor"]] = {
                    "level": x["level"], "reason": x["reason"],
                    "exposure": x["exposure"]["amount"],
                    "signals": [dict(code=s["code"], level=s["level"], message=s["message"])
                                for s in x["signals"] if s["level"] != "ok"]}
            out.write(json.dumps(rec) + "\n")
            n += 1
            t += D(days=a.step)
        out.close()
        print(f"seed {seed}: {n} evaluations", flush=True)
        if a.no_credit:
            continue
        # credit checks on a scratch copy with the books closed (nothing gets recorded)
        scratch = os.path.join(base, "scratch")
        if os.path.exists(scratch):
            shutil.rmtree(scratch)
        shutil.copytree(db, scratch)
        bs(scratch, "books", "close", f"{end.year}-{end.month:02d}")
        cout = open(os.path.join(base, "credit.jsonl"), "w")
        for d in plan["distributors"]:
            if d["fails"]:
                continue
            ships = [s for s in d["shipments"] if dt.date.fromisoformat(s[0]) >= first]
            for k, (day, sid, lines) in enumerate(ships):
                if k % a.credit_every:
                    continue
                sku, _, w = max(lines, key=lambda x: x[2])
                value = sum(u * ww for _, u, ww in lines)
                units = int(math.ceil(value / w))
                on = dt.date.fromisoformat(day) - D(days=1)
                p = bs(scratch, "ship", "--to", d["name"], "--sku", sku, "--units", str(units),
                       "--date", str(on), check=False)
                err = p.stderr
                if "credit hold" in err:
                    verdict = "refused"
                elif "closed books" in err or "books are closed" in err:
                    verdict = "passed"
                else:
                    verdict = "error"
                cout.write(json.dumps(dict(distributor=d["name"], shape=d["shape"], shipment=sid, date=str(on),
                                           sku=sku, units=units, value=value / 100, verdict=verdict,
                                           detail=err.strip() if verdict != "passed" else "")) + "\n")
        cout.close()
        shutil.rmtree(scratch)
        print(f"seed {seed}: credit checks done", flush=True)


if __name__ == "__main__":
    main()
