"""python -m demo [--migrants 2000] [--seed 1] [--workers 6] [--url registration=http://...]

Loads demo data into the services `make run` started (`make demo ARGS='--migrants 500'`),
through their APIs with development tokens (.data/dev-jwt-key.pem, as `make token`):
migrants with papers in the vault, welfare claims and complaints in every status they can
rest in. See demo/plan.py for who and what, demo/load.py for how.

Safe to run again: the same seed makes the same people, and a person already registered is
left alone (so a second run adds nobody), except that awards planned to go unpaid (due the day
after they were made) are then marked not complied, and enforced. Another seed adds other people.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor, as_completed

from tqdm import tqdm

from shared.config import Settings
from shared.fields import today_in_bangladesh
from services.portal.config import BACKENDS

from . import plan
from .client import Client, LoadError, Tokens
from .load import Loader, Outcome

SERVICES = ("registration", "documents", "claims", "complaints", "casestatus")
DEFAULT_KEY_FILE = ".data/dev-jwt-key.pem"


def main(argv: list[str] | None = None, out=None) -> int:
    args = _parser().parse_args(argv)
    out = out or sys.stderr
    urls = {name: os.environ.get(var, default) for name, (var, default) in BACKENDS.items() if name in SERVICES}
    for item in args.url:
        name, _, url = item.partition("=")
        if name not in SERVICES or not url:
            raise SystemExit(f"--url takes NAME=URL, NAME one of {', '.join(SERVICES)}")
        urls[name] = url.rstrip("/")
    key_file = args.key_file or os.environ.get("JWT_DEV_KEY_FILE") or DEFAULT_KEY_FILE
    if not os.path.exists(key_file):
        raise SystemExit(f"no development key at {key_file}: start the services with `make run` first")
    client = Client(urls, Tokens(Settings.from_env("demo"), key_file))
    summary = load(client, plan.plan(args.seed, args.migrants), args.workers, out)
    print(report(summary), file=out)
    return 1 if summary["failed"] else 0


def load(client: Client, people: list[plan.MigrantPlan], workers: int, out=None) -> dict:
    """Every person through a small pool of threads; what each came to, counted."""
    loader = Loader(client, today_in_bangladesh())
    outcomes: list[Outcome] = []
    failures: list[str] = []
    with ThreadPoolExecutor(max_workers=workers) as pool, \
            tqdm(total=len(people), unit="migrant", desc="demo data", file=out or sys.stderr,
                 disable=out is None) as bar:
        futures = {pool.submit(loader.load, person): person for person in people}
        for future in as_completed(futures):
            try:
                outcomes.append(future.result())
            except LoadError as exc:
                failures.append(f"#{futures[future].number} {futures[future].name_en}: {exc}")
            bar.update()
            bar.set_postfix(failed=len(failures), refresh=False)
    return {"outcomes": outcomes, "failed": failures,
            "registered": sum(o.registered for o in outcomes),
            "skipped": sum(not o.registered for o in outcomes),
            "documents": sum(len(o.documents) for o in outcomes),
            "claims": Counter(o.claim[1] for o in outcomes if o.claim),
            "complaints": Counter(o.complaint[1] for o in outcomes if o.complaint),
            "waiting": sum(o.waiting for o in outcomes)}


def report(summary: dict) -> str:
    lines = [f"registered {summary['registered']} migrants ({summary['skipped']} already there, left alone), "
             f"uploaded {summary['documents']} documents",
             "claims by status: " + _counts(summary["claims"]),
             "complaints by status: " + _counts(summary["complaints"])]
    if summary["waiting"]:
        lines.append(f"{summary['waiting']} awards are due tomorrow and left unpaid: run this again on a later day "
                     "to mark them not complied (and enforced)")
    if summary["failed"]:
        lines.append(f"{len(summary['failed'])} failed; the first:")
        lines += [f"  {line}" for line in summary["failed"][:5]]
    return "\n".join(lines)


def _counts(counter: Counter) -> str:
    return ", ".join(f"{status} {n}" for status, n in sorted(counter.items())) or "none"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m demo", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--migrants", type=_positive, default=2000, help="how many people (default 2000; at least "
                        f"{plan.MIN_FOR_EVERY_STATE} for every status)")
    parser.add_argument("--seed", type=int, default=1, help="the same seed makes the same people (default 1)")
    parser.add_argument("--workers", type=_positive, default=6, help="requests at once (default 6)")
    parser.add_argument("--url", action="append", default=[], metavar="NAME=URL",
                        help="a service's base URL (default: the portal's *_URL variables, else make run's ports)")
    parser.add_argument("--key-file", help=f"the development signing key (default JWT_DEV_KEY_FILE, else "
                        f"{DEFAULT_KEY_FILE})")
    return parser


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    sys.exit(main())
