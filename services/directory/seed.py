"""Load the directory's seed file (services/directory/seed.json, or DIRECTORY_SEED_FILE):

    python -m services.directory.seed [--file PATH] [--force | --if-empty]

Idempotent: an entry already in the database is left alone (an admin may have changed it
since), unless --force, which replaces those that differ; --if-empty seeds only a directory
with no entry at all (`make run` seeds on its first start, once). Every entry is checked first, by
the API's own schemas and rules, so a bad file writes nothing. Each write is an admin's PUT
would be: a version, a `directory.<kind>.changed` event in the outbox, an audit record.

The file holds {"agencies": [...], "countries": [...], "links": [...], "topics": [...]},
each entry as the API answers it (its id field, then the PUT body's fields).
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from marshmallow import ValidationError

from shared.config import Settings
from shared.errors import DomainError

from . import bootstrap, domain
from .config import DirectoryConfig
from .schemas import BODIES

SECTIONS = {"agencies": domain.AGENCY, "countries": domain.COUNTRY, "links": domain.LINK, "topics": domain.TOPIC}


class SeedError(ValueError):
    """The seed file cannot be loaded: names the entry and why."""


def read(path: Path, today=None) -> list[tuple[str, str, dict]]:
    """Every entry of the file as (kind, id, content), checked; SeedError on the first bad one."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SeedError(f"{path}: {exc}") from None
    if not isinstance(data, dict) or set(data) - set(SECTIONS):
        raise SeedError(f"{path}: an object with the sections {', '.join(SECTIONS)}")
    entries = []
    for section, kind in SECTIONS.items():
        for n, raw in enumerate(data.get(section, [])):
            where = f"{section}[{n}]"
            id_field = domain.ID_FIELDS[kind]
            if not isinstance(raw, dict) or not isinstance(raw.get(id_field), str):
                raise SeedError(f"{where}: an object with its {id_field}")
            body = {k: v for k, v in raw.items() if k != id_field}
            try:
                content = BODIES[kind]().load(body)
            except ValidationError as exc:
                raise SeedError(f"{where} ({raw[id_field]}): {exc.messages}") from None
            if domain.entry_id(kind, raw[id_field]) is None:
                raise SeedError(f"{where}: {raw[id_field]!r} is not an id: {domain.ID_HINTS[kind]}")
            if today is not None and (errors := domain.check(kind, content, today)):
                raise SeedError(f"{where} ({raw[id_field]}): {errors}")
            entries.append((kind, raw[id_field], content))
    return entries


def load(service, entries: list[tuple[str, str, dict]], force: bool = False, say=print) -> Counter:
    """Writes each entry through the service; prints progress; returns what happened how often."""
    outcomes: Counter = Counter()
    for n, (kind, entry_id, content) in enumerate(entries, 1):
        outcome = service.seed(kind, entry_id, content, force)
        outcomes[outcome] += 1
        shown = {"kept": "already there, left alone"}.get(outcome, outcome)
        say(f"[{n}/{len(entries)}] {kind} {entry_id}: {shown}")
    return outcomes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="services.directory.seed", description=__doc__.split("\n\n")[0])
    parser.add_argument("--file", type=Path, default=None, help="the seed file (default: DIRECTORY_SEED_FILE or "
                                                                "the shipped seed.json)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--force", action="store_true", help="replace entries already there that differ")
    mode.add_argument("--if-empty", action="store_true", help="only if the directory has no entry yet")
    args = parser.parse_args(argv)
    path = args.file or DirectoryConfig.from_env().seed_path
    service = bootstrap.build(Settings.from_env(bootstrap.SERVICE))
    if args.if_empty and not service.empty():
        print("The directory has entries already: nothing seeded (without --if-empty, missing ones are added).")
        return 0
    try:
        entries = read(path, service.today())
    except SeedError as exc:
        print(f"Refused, nothing written: {exc}", file=sys.stderr)
        return 2
    print(f"Seeding the directory from {path}: {len(entries)} entries"
          f"{' (replacing those that differ)' if args.force else ''}")
    try:
        outcomes = load(service, entries, args.force)
    except DomainError as exc:
        print(f"Refused: {getattr(exc, 'errors', exc.detail)}", file=sys.stderr)
        return 2
    print("Done: " + ", ".join(f"{count} {outcome}" for outcome, count in sorted(outcomes.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
