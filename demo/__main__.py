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
    """Everyone through each of the loader's rounds in turn, a small pool of threads at a time;
    what each came to, counted. A person whose round failed sits out the rounds after it."""
    loader = Loader(client, today_in_bangladesh())
    outcomes = {person.number: Outcome() for person in people}
    failures: list[str] = []
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for name in Loader.ROUNDS:
            step = getattr(loader, name)
            going = [person for person in people if person.number in outcomes]
            with tqdm(total=len(going), unit="migrant", desc=f"{name:>8}", file=out, disable=out is None) as bar:
                futures = {pool.submit(step, person, outcomes[person.number]): person for person in going}
                for future in as_completed(futures):
                    person = futures[future]
                    try:
                        future.result()
                    except LoadError as exc:
                        failures.append(f"#{person.number} {person.name_en} ({name}): {exc}")
                        del outcomes[person.number]
                    bar.update()
                    bar.set_postfix(failed=len(failures), refresh=False)
    done = list(outcomes.values())
    return {"outcomes": done, "failed": failures,
            "registered": sum(o.registered for o in done),
            "skipped": sum(not o.registered for o in done),
            "documents": sum(len(o.documents) for o in done),
            "claims": Counter(o.claim[1] for o in done if o.claim),
            "complaints": Counter(o.complaint[1] for o in done if o.complaint),
            "waiting": sum(o.waiting for o in done)}


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
    parser.add_argument("--workers", type=_positive, default=8, help="requests at once (default 8)")
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
