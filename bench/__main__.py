"""python -m bench [--quick] [--runs N] [--only relay,writes,latency,scaling,claims_filing,claims_checklist,claims_queue,
    complaints_queue,scorecard_freshness,scorecard_ranking,casestatus_latency,casestatus_page]
    [--timeline-entries N]"""
from __future__ import annotations

import argparse
import logging
import platform
import sys
import time
from datetime import datetime, timezone

from .env import BenchEnv
from .report import table

BENCHMARKS = ("relay", "writes", "latency", "scaling", "claims_filing", "claims_checklist", "claims_queue",
              "complaints_queue", "scorecard_freshness", "scorecard_ranking", "casestatus_latency", "casestatus_page")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench", description=__doc__)
    parser.add_argument("--runs", type=int, default=3, help="runs per benchmark; figures are medians")
    parser.add_argument("--quick", action="store_true", help="small sizes, one run: a smoke test of the benchmarks")
    parser.add_argument("--only", default=",".join(BENCHMARKS), help="comma-separated subset of " + ", ".join(BENCHMARKS))
    parser.add_argument("--timeline-entries", type=int, default=None,
                        help="casestatus_page: entries in all, hers among them (default 1,000,000; --quick 20,000)")
    args = parser.parse_args(argv)
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = set(chosen) - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    runs = 1 if args.quick else args.runs
    logging.basicConfig(level=logging.ERROR)

    timeline_entries = args.timeline_entries or (20_000 if args.quick else 1_000_000)
    if timeline_entries <= 1000:
        parser.error("--timeline-entries must be more than the migrant's own 1,000")

    from . import casestatus, claims, complaints_queue, complaints_scorecard, latency, relay, scaling, writes
    plans = {
        "relay": lambda env: relay.run(env, count=2000 if args.quick else 20000, runs=runs),
        "writes": lambda env: writes.run(env, clients=8, seconds=3 if args.quick else 10, runs=runs),
        "latency": lambda env: latency.run(env, rate=25 if args.quick else 50, seconds=3 if args.quick else 15, runs=runs),
        "scaling": lambda env: scaling.run(env, sizes=(1000, 5000) if args.quick else (10_000, 100_000)),
        "claims_filing": lambda env: claims.filing(env, clients=8, seconds=3 if args.quick else 10, runs=runs),
        "claims_checklist": lambda env: claims.checklist(env, rate=10 if args.quick else 25,
                                                         seconds=3 if args.quick else 10, runs=runs),
        "claims_queue": lambda env: claims.queue(env, sizes=(1000, 5000) if args.quick else (10_000, 100_000)),
        "complaints_queue": lambda env: complaints_queue.run(env, sizes=(1000, 5000) if args.quick
                                                             else (10_000, 100_000)),
        "scorecard_freshness": lambda env: complaints_scorecard.freshness(env, rate=10 if args.quick else 25,
                                                                          seconds=3 if args.quick else 10, runs=runs),
        "scorecard_ranking": lambda env: complaints_scorecard.ranking(
            env, sizes=((50, 2000), (200, 10_000)) if args.quick else ((100, 10_000), (1000, 100_000))),
        "casestatus_latency": lambda env: casestatus.timeline_latency(env, rate=10 if args.quick else 50,
                                                                      seconds=3 if args.quick else 15, runs=runs),
        "casestatus_page": lambda env: casestatus.timeline_page(env, total=timeline_entries),
    }
    rows, started = [], time.monotonic()
    with BenchEnv() as env:
        for name in chosen:
            print(f"== {name}", file=sys.stderr, flush=True)
            rows += plans[name](env)
            env.drop_databases()
    print(f"\nProbashi benchmarks, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {platform.node()}, "
          f"medians of {runs} run(s), {time.monotonic() - started:.0f} s in all\n")
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
