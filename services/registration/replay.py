"""What registration replays to a service that asks (shared/replay/): each migrant as
they stand now, one `registration.migrant.snapshot` at the record's version, read from
its own database page by page by the consumer process."""
from __future__ import annotations

from shared.replay import Snapshot, Source

from . import domain
from .repository import MIGRANTS

SNAPSHOT = "registration.migrant.snapshot"
# Only what a snapshot says: identifiers and the date of birth are never even read here.
STORED_FIELDS = {"reference": 1, "version": 1, "created_at": 1, "registered_by": 1, "pre_departure_steps": 1,
                 "wewb_membership": 1, **{name: 1 for name in domain.PUBLISHED_FIELDS}}


def snapshot_data(migrant: dict) -> dict:
    """What live subscribers learnt from registered, updated, step_recorded and
    membership_activated, folded into the record's current state."""
    steps = migrant.get("pre_departure_steps") or {}
    membership = migrant.get("wewb_membership")
    return {**domain.event_data(migrant),
            "registered_at": migrant["registered_by"].get("at") or migrant["created_at"],
            "steps": [{"step": step, "date": steps[step]["date"]} for step in sorted(steps)],
            "membership": ({"number": membership["number"], "valid_until": membership["valid_until"],
                            "activated_on": membership["activated_at"].date().isoformat()}
                           if membership else None)}


def snapshots(db, migrants: list[dict]) -> list[Snapshot]:
    return [Snapshot(m["_id"], m["version"], snapshot_data(m)) for m in migrants]


MIGRANTS_SOURCE = Source(event_type=SNAPSHOT, subject_type=domain.SUBJECT, collection=MIGRANTS,
                         snapshots=snapshots, projection=STORED_FIELDS)
