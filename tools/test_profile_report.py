"""Sums up tools/pytest_profile.py's records: where the suite's wall and CPU time go (#29).

    python tools/test_profile_report.py [.artifacts/test-profile.jsonl] [--top 25]
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("path", nargs="?", default=".artifacts/test-profile.jsonl")
    ap.add_argument("--top", type=int, default=25)
    args = ap.parse_args()
    per_test: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    sleep_sites: dict[str, float] = defaultdict(float)
    for line in open(args.path):
        r = json.loads(line)
        if "sleep_site" in r:
            sleep_sites[r["sleep_site"]] += r["seconds"]
            continue
        t = per_test[r["test"]]
        for k, v in r.items():
            if isinstance(v, (int, float)):
                t[k] += v
                t[f"{r['when']}_{k}"] += v if k in ("wall",) else 0
    keys = ("wall", "cpu", "child_cpu", "airflow_procs", "db_migrate", "sleep_s", "sleeps")
    total = {k: sum(t[k] for t in per_test.values()) for k in keys}
    print(f"{len(per_test)} tests: " + ", ".join(f"{k} {total[k]:.0f}" for k in keys))
    by_dir: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for name, t in per_test.items():
        d = "/".join(name.split("::")[0].split("/")[:2])
        by_dir[d]["n"] += 1
        for k in keys:
            by_dir[d][k] += t[k]
    print(f"\n{'directory':32} {'tests':>6} {'wall s':>8} {'cpu s':>7} {'child s':>8} {'airflow':>8} {'migrate':>8} {'sleep s':>8}")
    for d, v in sorted(by_dir.items(), key=lambda kv: -kv[1]["wall"]):
        print(f"{d:32} {v['n']:6.0f} {v['wall']:8.1f} {v['cpu']:7.1f} {v['child_cpu']:8.1f} "
              f"{v['airflow_procs']:8.0f} {v['db_migrate']:8.0f} {v['sleep_s']:8.1f}")
    print(f"\nslowest {args.top} (wall = setup + call + teardown)")
    for name, t in sorted(per_test.items(), key=lambda kv: -kv[1]["wall"])[: args.top]:
        print(f"{t['wall']:7.1f} s  cpu {t['cpu']:6.1f}  child {t['child_cpu']:6.1f}  "
              f"(setup {t['setup_wall']:.1f}, teardown {t['teardown_wall']:.1f})  {name}")

    print("\nwhere the test processes slept (seconds; a poll's interval counts too)")
    for site, seconds in sorted(sleep_sites.items(), key=lambda kv: -kv[1])[:15]:
        print(f"{seconds:8.1f}  {site}")


if __name__ == "__main__":
    main()
