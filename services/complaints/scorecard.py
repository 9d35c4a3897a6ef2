"""The recruiting-agency scorecard (issue 9): a projection, per licence, of the complaints
against it and of the workers it sent abroad. Public-facing later, so it keeps no personal
data where the API reads: counts and amounts per agency, never a complaint or a migrant.

What it learns, through the complaints consumer (consumer.py wires the handlers):
- complaints' own events (`complaints.complaint.*`, data per domain.event_data, awards add
  amount, paid_total, payment_deadline): one row per complaint (`scorecard_complaints`),
  and what each row adds to every licence it names (`scorecard_agencies`). A row keeps the
  version it was folded to and the ids of the events folded at it: an older or repeated
  event changes nothing, so a second delivery leaves the same result even past the
  consumer's inbox.
- registration's migrant registered / updated / snapshot, which carry the migrant's
  `recruiting_agency_licence`: one row per migrant (`scorecard_workers`, the licence and the
  version it came from); a migrant whose licence changes moves from one agency's
  `workers_sent` to the other's.

The figures per licence:
- complaints, by category; open (not closed or withdrawn), resolved (closed), withdrawn;
- median days to close: exact, over the licence's closed complaints, from the first event of
  the complaint (its filing) to its latest closing; recomputed from an indexed read of those
  rows whenever a complaint of the licence closes or reopens, and stored;
- amount claimed, awarded (a settlement or an award: the money decided), paid (taka). A
  complaint against two agencies counts in full for each;
- awards: complaints with money decided; awards unpaid past deadline: those whose payment
  deadline (a Dhaka date) is before today with money still owed. Time passing is no event,
  so this one is computed when read, from the agency's own row: it keeps how many awards
  with money owed fall due on each date (`unpaid_by_deadline`, kept like the other
  figures), and a read adds up the dates before today - not from not_complied/enforcement
  events, which wait for a person or a timer to mark them;
- workers sent, and complaints per 1,000 workers sent (null while none is known).
"""
from __future__ import annotations

import re
import statistics
from datetime import datetime, timezone

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.database import Database

from shared import keyset
from shared.errors import PermanentError

from . import domain

COMPLAINTS = "scorecard_complaints"
AGENCIES = "scorecard_agencies"
WORKERS = "scorecard_workers"

# What each complaint adds to the licences it names; workers_sent comes from registration.
COUNTED = ("complaints", "open", "resolved", "withdrawn", "awards", "amount_claimed", "amount_awarded",
           "amount_paid")
STORED = (*COUNTED, "workers_sent", "median_days_to_close", "complaints_per_1000_workers")
UNPAID = "awards_unpaid_past_deadline"  # computed when read (see above)
METRICS = ("complaints", "open", "resolved", "median_days_to_close", "amount_claimed", "amount_awarded",
           "amount_paid", UNPAID, "complaints_per_1000_workers", "workers_sent")
_CODE = re.compile(r"^[a-z][a-z0-9_]*$")  # a category code, safe as a field name
_DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")  # a payment deadline, safe as a field name
MAPS = ("by_category", "unpaid_by_deadline")  # per-agency counts kept by key


def ensure_indexes(db: Database) -> None:
    """One index per stored rankable figure (ranked pages read it in order, either way), and
    the closed complaints of a licence (its median)."""
    for metric in METRICS:
        if metric != UNPAID:
            db[AGENCIES].create_index([(metric, ASCENDING), ("_id", ASCENDING)], name=f"rank_{metric}")
    db[COMPLAINTS].create_index([("licences", ASCENDING), ("days_to_close", ASCENDING)], name="closed_by_licence")


class ScorecardStore:
    """The projection's rows, in the consumer's transaction (`session`). The port the
    folding rules write through; tests put a fake behind it."""

    def __init__(self, db: Database, session=None):
        self.db, self.session = db, session

    def complaint(self, complaint_id: str) -> dict | None:
        return self.db[COMPLAINTS].find_one({"_id": complaint_id}, session=self.session)

    def save_complaint(self, row: dict) -> None:
        self.db[COMPLAINTS].replace_one({"_id": row["_id"]}, row, upsert=True, session=self.session)

    def add_to_agency(self, licence: str, increments: dict) -> dict:
        """The agency's row after adding `increments`; a new agency starts every figure at 0."""
        fresh = {name: 0 for name in COUNTED + ("workers_sent",) if name not in increments}
        fresh.update({"median_days_to_close": None, "complaints_per_1000_workers": None,
                      **{name: {} for name in MAPS}})
        fresh = {k: v for k, v in fresh.items()
                 if not any(name.startswith(k + ".") for name in increments)}
        return self.db[AGENCIES].find_one_and_update(
            {"_id": licence}, {"$inc": increments, "$setOnInsert": fresh}, upsert=True,
            return_document=ReturnDocument.AFTER, session=self.session)

    def set_on_agency(self, licence: str, values: dict) -> None:
        self.db[AGENCIES].update_one({"_id": licence}, {"$set": values}, session=self.session)

    def closed_days(self, licence: str) -> list[float]:
        rows = self.db[COMPLAINTS].find({"licences": licence, "days_to_close": {"$gte": 0}},
                                        {"days_to_close": 1, "_id": 0}, session=self.session)
        return [row["days_to_close"] for row in rows]

    def worker(self, reference: str) -> dict | None:
        return self.db[WORKERS].find_one({"_id": reference}, session=self.session)

    def save_worker(self, row: dict) -> None:
        self.db[WORKERS].replace_one({"_id": row["_id"]}, row, upsert=True, session=self.session)


def store_of(tx) -> ScorecardStore:
    """The transaction's own store when it carries one (fakes, or core's ComplaintsTx), else
    one on its database and session: the scorecard depends on no service's Tx class."""
    return getattr(tx, "scorecard", None) or ScorecardStore(tx.db, tx.session)


# -- folding rules (no I/O) ----------------------------------------------------------------

def occurred(event) -> datetime:
    return datetime.fromisoformat(event.occurred_at.replace("Z", "+00:00"))


def row_after(row: dict | None, event) -> dict:
    """A complaint's scorecard row once `event` is folded into it."""
    data, at = event.data, occurred(event)
    if not isinstance(data.get("status"), str) or not isinstance(data.get("agency_licences"), list):
        raise PermanentError(f"{event.type} without status or agency_licences")
    category = data.get("category")
    if not isinstance(category, str) or not _CODE.fullmatch(category):
        raise PermanentError(f"{event.type} without a category code")
    row = dict(row or {"_id": data.get("case_id") or event.subject.id, "opened_at": at, "amount_claimed": 0,
                       "amount_awarded": 0, "amount_paid": 0, "payment_deadline": None})
    row.update(version=event.aggregate_version, licences=sorted(set(data["agency_licences"])), category=category,
               status=data["status"])
    if isinstance(data.get("amount_claimed"), int):
        row["amount_claimed"] = data["amount_claimed"]
    if isinstance(data.get("amount"), int):
        row["amount_awarded"] = data["amount"]
    if isinstance(data.get("paid_total"), int):
        row["amount_paid"] = data["paid_total"]
    if data.get("payment_deadline"):
        if not _DAY.fullmatch(str(data["payment_deadline"])):
            raise PermanentError(f"{event.type} with a payment deadline that is not a date")
        row["payment_deadline"] = data["payment_deadline"]
    if row["status"] == domain.CLOSED:
        if not row.get("closed_at"):
            row["closed_at"] = at
        closed_for = _aware(row["closed_at"]) - _aware(row["opened_at"])
        row["days_to_close"] = round(closed_for.total_seconds() / 86400, 4)
    else:
        row["closed_at"] = row["days_to_close"] = None
    owed = row["amount_awarded"] - row["amount_paid"]
    row["unpaid_deadline"] = row["payment_deadline"] if owed > 0 and row["payment_deadline"] else None
    return row


def _aware(moment: datetime) -> datetime:
    # The database hands back naive UTC datetimes.
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def contribution(row: dict | None) -> dict:
    """What one complaint row adds to each licence it names."""
    if row is None:
        return {}
    status = row["status"]
    unpaid = {f"unpaid_by_deadline.{row['unpaid_deadline']}": 1} if row.get("unpaid_deadline") else {}
    return {"complaints": 1, f"by_category.{row['category']}": 1, **unpaid,
            "open": int(status not in domain.FINAL), "resolved": int(status == domain.CLOSED),
            "withdrawn": int(status == domain.WITHDRAWN), "awards": int(row["amount_awarded"] > 0),
            "amount_claimed": row["amount_claimed"], "amount_awarded": row["amount_awarded"],
            "amount_paid": row["amount_paid"]}


def changes_by_licence(old: dict | None, new: dict) -> dict[str, dict]:
    """Per licence, the increments that turn what `old` added into what `new` adds (none
    that are zero); a licence dropped from the complaint loses all of it."""
    before, after = contribution(old), contribution(new)
    out: dict[str, dict] = {}
    for licence in sorted(set(old["licences"] if old else []) | set(new["licences"])):
        was = before if old and licence in old["licences"] else {}
        now = after if licence in new["licences"] else {}
        increments = {k: now.get(k, 0) - was.get(k, 0) for k in {*was, *now}}
        increments = {k: v for k, v in increments.items() if v}
        if increments:
            out[licence] = increments
    return out


def median(days: list[float]) -> float | None:
    return round(statistics.median(days), 1) if days else None


def per_thousand(complaints: int, workers: int) -> float | None:
    return round(complaints * 1000 / workers, 2) if workers > 0 else None


# -- handlers: fn(event, tx), as the consumer calls them --------------------------------------

def complaint_changed(event, tx) -> None:
    """Any complaints.complaint.* event: the row, then what changed for each licence."""
    store = store_of(tx)
    complaint_id = event.data.get("case_id") or event.subject.id
    old = store.complaint(complaint_id)
    if old is not None and (event.aggregate_version < old["version"] or event.id in old.get("event_ids", ())):
        return  # already folded (a repeat, or older than what the row holds)
    new = row_after(old, event)
    # Like the inbox's mark: a second event at the same version (a producer may raise two
    # in one change) still folds; the same event again does not.
    same_version = old is not None and old["version"] == event.aggregate_version
    new["event_ids"] = [*old.get("event_ids", []), event.id] if same_version else [event.id]
    store.save_complaint(new)
    updates = changes_by_licence(old, new)
    licences = set(updates)
    closure_changed = (old or {}).get("days_to_close") != new["days_to_close"]
    if closure_changed:  # its median moves (a row that changed licences moves both)
        licences |= set(new["licences"]) | set((old or {}).get("licences", []))
    for licence in sorted(licences):
        _apply(store, licence, updates.get(licence, {}), recount_median=closure_changed)


def _apply(store, licence: str, increments: dict, *, recount_median: bool = False) -> None:
    agency = store.add_to_agency(licence, increments)
    derived = {"complaints_per_1000_workers": per_thousand(agency["complaints"], agency["workers_sent"])}
    if recount_median:
        derived["median_days_to_close"] = median(store.closed_days(licence))
    store.set_on_agency(licence, derived)


def _reference(event) -> str:
    reference = event.data.get("reference") or event.subject.id
    if not isinstance(reference, str) or not reference.strip():
        raise PermanentError("registration event without a migrant reference")
    return reference


def _place_worker(event, tx, *, says_licence: bool) -> None:
    """The migrant's licence as of this event's version; `says_licence` False: this event
    does not speak of it (an update of other fields), so it stays what it was."""
    store = store_of(tx)
    reference = _reference(event)
    row = store.worker(reference)
    if row is not None and event.aggregate_version <= row["version"]:
        return  # already known, or older than what is known
    old = row["licence"] if row else None
    new = event.data.get("recruiting_agency_licence") if says_licence else \
        (event.data.get("values") or {}).get("recruiting_agency_licence", old)
    store.save_worker({"_id": reference, "licence": new, "version": event.aggregate_version})
    if old != new:
        if old:
            _apply(store, old, {"workers_sent": -1})
        if new:
            _apply(store, new, {"workers_sent": 1})


def worker_registered(event, tx) -> None:
    """registration.migrant.registered: a worker the agency (if any) sent."""
    _place_worker(event, tx, says_licence=True)


def worker_updated(event, tx) -> None:
    """registration.migrant.updated: the licence moves only when the update names it."""
    _place_worker(event, tx, says_licence=False)


def worker_snapshot(event, tx) -> None:
    """registration.migrant.snapshot (a replay): the whole current state, licence included."""
    _place_worker(event, tx, says_licence=True)


# What the consumer wires: complaints' own event types, and registration's.
COMPLAINT_EVENTS = domain.EVENT_TYPES
REGISTRATION_HANDLERS = {"registration.migrant.registered": worker_registered,
                         "registration.migrant.updated": worker_updated,
                         "registration.migrant.snapshot": worker_snapshot}


# -- reads (the API's) ------------------------------------------------------------------------

DESCENDING_ORDER, ASCENDING_ORDER = "desc", "asc"
FIGURES = ("complaints", "open", "resolved", "withdrawn", "median_days_to_close", "amount_claimed",
           "amount_awarded", "amount_paid", "awards", UNPAID, "workers_sent", "complaints_per_1000_workers")


def unpaid_past_deadline(agency: dict, today: str) -> int:
    """Awards with money owed whose deadline is before `today` (ISO dates compare as text)."""
    return sum(n for day, n in (agency.get("unpaid_by_deadline") or {}).items() if day < today)


def as_scorecard(agency: dict, today: str) -> dict:
    return {"licence": agency["_id"], **{name: agency.get(name, 0) for name in FIGURES if name != UNPAID},
            UNPAID: unpaid_past_deadline(agency, today),
            "by_category": {code: n for code, n in (agency.get("by_category") or {}).items() if n}}


class ScorecardReads:
    """Ranked pages and one agency's card, for the API; `today` is Dhaka's date (ISO text)."""

    def __init__(self, db: Database):
        self.db = db

    def agency(self, licence: str, today: str) -> dict | None:
        agency = self.db[AGENCIES].find_one({"_id": licence})
        return as_scorecard(agency, today) if agency is not None else None

    def ranked(self, rank_by: str, order: str, limit: int, after: list | None, today: str) -> tuple[list[dict], list | None]:
        """A page of agencies ranked by `rank_by` (ties by licence, the same way), and the
        position (value, licence) of its last one when more follow."""
        if rank_by == UNPAID:
            agencies = self._ranked_by_unpaid(order, limit + 1, after, today)
        else:
            agencies = list(self.db[AGENCIES].find(*self.ranked_query(rank_by, order, after))
                            .sort(self.ranked_sort(rank_by, order)).limit(limit + 1))
        cards = [as_scorecard(a, today) for a in agencies]
        page = cards[:limit]
        position = [page[-1][rank_by], page[-1]["licence"]] if len(cards) > limit else None
        return page, position

    @staticmethod
    def ranked_sort(rank_by: str, order: str) -> list:
        way = DESCENDING if order == DESCENDING_ORDER else ASCENDING
        return [(rank_by, way), ("_id", way)]

    @staticmethod
    def ranked_query(rank_by: str, order: str, after: list | None) -> tuple[dict, dict]:
        """Keyset: after (value, licence). Nulls (no median, no workers) sort lowest."""
        projection = {"_id": 1, **{name: 1 for name in (*STORED, *MAPS)}}
        if after is None:
            return {}, projection
        value, licence = after
        if order == DESCENDING_ORDER:
            if value is None:
                return {rank_by: None, "_id": {"$lt": licence}}, projection
            return {"$or": [{rank_by: {"$lt": value}}, {rank_by: value, "_id": {"$lt": licence}},
                            {rank_by: None}]}, projection
        if value is None:
            return {"$or": [{rank_by: None, "_id": {"$gt": licence}}, {rank_by: {"$gte": 0}}]}, projection
        return {"$or": [{rank_by: {"$gt": value}}, {rank_by: value, "_id": {"$gt": licence}}]}, projection

    def _ranked_by_unpaid(self, order: str, want: int, after: list | None, today: str) -> list[dict]:
        """Ranked by a figure that depends on today, so no index holds its order: every
        agency's dates (a small map each; some 1,500 licensed agencies) ranked here, then the
        page's rows read by licence."""
        desc = order == DESCENDING_ORDER
        keys = sorted(((unpaid_past_deadline(a, today), a["_id"])
                       for a in self.db[AGENCIES].find({}, {"unpaid_by_deadline": 1})), reverse=desc)
        if after is not None:
            position = (after[0], after[1])
            keys = [k for k in keys if (k < position if desc else k > position)]
        licences = [licence for _, licence in keys[:want]]
        found = {a["_id"]: a for licence in licences
                 for a in [self.db[AGENCIES].find_one({"_id": licence}, self.ranked_query(UNPAID, order, None)[1])]
                 if a is not None}
        return [found[licence] for licence in licences if licence in found]

    def explain(self, rank_by: str, order: str = DESCENDING_ORDER) -> dict:
        """The winning plan of a ranked first page (the bench prints its stage)."""
        filter_, projection = self.ranked_query(rank_by, order, None)
        answer = self.db.command("explain", {"find": AGENCIES, "filter": filter_, "projection": projection,
                                             "sort": dict(self.ranked_sort(rank_by, order)), "limit": 21},
                                 verbosity="queryPlanner")
        return keyset.winning_plan(answer) or answer

