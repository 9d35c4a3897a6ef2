"""The recruiting-agency scorecard's folding rules (services/complaints/scorecard.py), with a
fake behind its store port: counts, amounts, the median, workers per agency, repeats."""
from __future__ import annotations

import copy
import dataclasses
from datetime import date, datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from services.complaints import awards, domain, scorecard
from shared.errors import PermanentError
from shared.events import Envelope
from tests import harness
from tests.unit.complaints_builders import NOW, STAFF, TODAY, heard, monitored, received

AGENCY, OTHER = "RL-1234", "RL-77"


class FakeScorecardStore:
    """ScorecardStore in memory, with the same rules: a new agency starts every figure at 0."""

    def __init__(self):
        self.complaints: dict[str, dict] = {}
        self.agencies: dict[str, dict] = {}
        self.workers: dict[str, dict] = {}

    def complaint(self, complaint_id):
        return copy.deepcopy(self.complaints.get(complaint_id))

    def save_complaint(self, row):
        self.complaints[row["_id"]] = copy.deepcopy(row)

    def add_to_agency(self, licence, increments):
        agency = self.agencies.setdefault(licence, {
            "_id": licence, **{name: 0 for name in (*scorecard.COUNTED, "workers_sent")},
            "median_days_to_close": None, "complaints_per_1000_workers": None, "by_category": {},
            "unpaid_by_deadline": {}})
        for name, amount in increments.items():
            if "." in name:  # a count kept by key: by_category.<code>, unpaid_by_deadline.<day>
                field, key = name.split(".", 1)
                agency[field][key] = agency[field].get(key, 0) + amount
            else:
                agency[name] += amount
        return copy.deepcopy(agency)

    def set_on_agency(self, licence, values):
        self.agencies[licence].update(values)

    def closed_days(self, licence):
        return [r["days_to_close"] for r in self.complaints.values()
                if licence in r["licences"] and r["days_to_close"] is not None]

    def worker(self, reference):
        return copy.deepcopy(self.workers.get(reference))

    def save_worker(self, row):
        self.workers[row["_id"]] = copy.deepcopy(row)


@pytest.fixture
def tx():
    return SimpleNamespace(scorecard=FakeScorecardStore())


def event(event_type: str, complaint: dict, at: datetime = NOW, data_of=domain.event_data, **extra) -> Envelope:
    """The event core publishes for this complaint (changes.publish)."""
    data = data_of(complaint, **extra)
    envelope = Envelope.new(type=event_type, source="complaints", subject_type=domain.SUBJECT,
                            subject_id=complaint["_id"], aggregate_version=complaint["version"], data=data)
    return dataclasses.replace(envelope, occurred_at=at.isoformat().replace("+00:00", "Z"))


def fold(tx, *events):
    for e in events:
        scorecard.complaint_changed(e, tx)


def agency(tx, licence=AGENCY) -> dict:
    return tx.scorecard.agencies[licence]


def filed(complaint_id="CMP-1", **overrides) -> dict:
    return {**received(**overrides), "_id": complaint_id, "complaint_id": complaint_id}


def closed(complaint: dict, days: int) -> tuple[dict, Envelope]:
    """The complaint dismissed after its hearing and closed `days` after filing."""
    c = domain.dismiss(heard_from(complaint), reason="No proof.", actor=STAFF, now=NOW)
    c = domain.close(c, note=None, actor=STAFF, now=NOW + timedelta(days=days))
    return c, event(domain.CLOSED_EVENT, c, NOW + timedelta(days=days))


def heard_from(complaint: dict) -> dict:
    return {**heard(), "_id": complaint["_id"], "complaint_id": complaint["_id"],
            "category": complaint["category"], "agency_licences": complaint["agency_licences"]}


# -- complaints ------------------------------------------------------------------------------

def test_every_complaint_event_carries_the_amount_claimed_within_its_contract():
    from shared.uow import Tx
    complaint = filed()
    data = domain.event_data(complaint)
    assert data["amount_claimed"] == 250000
    Tx(None, None, "complaints").emit(domain.RECEIVED_EVENT, subject_type=domain.SUBJECT, subject_id="CMP-1",
                                      aggregate_version=1, data=data)


def test_a_filed_complaint_counts_for_its_agency_by_category_open_and_claimed(tx):
    fold(tx, event(domain.RECEIVED_EVENT, filed()))
    card = agency(tx)
    assert card["complaints"] == 1 and card["open"] == 1 and card["resolved"] == 0
    assert card["by_category"] == {"unpaid_wages": 1}
    assert card["amount_claimed"] == 250000 and card["amount_awarded"] == 0


def test_a_repeated_or_older_event_changes_nothing(tx):
    first = event(domain.RECEIVED_EVENT, filed())
    later = event(domain.SCRUTINY_EVENT, domain.start_scrutiny(filed(), actor=STAFF, now=NOW))
    fold(tx, first, later)
    before = copy.deepcopy(tx.scorecard.__dict__)
    fold(tx, first, later, later)
    assert tx.scorecard.__dict__ == before
    assert agency(tx)["complaints"] == 1


def test_a_second_event_at_the_same_version_still_folds_once(tx):
    complaint = filed()
    fold(tx, event(domain.RECEIVED_EVENT, complaint))
    withdrawn = {**domain.withdraw(complaint, reason="Moved on.", actor=STAFF, now=NOW), "version": 1}
    again = event(domain.WITHDRAWN_EVENT, withdrawn)  # a producer that repeats a version
    fold(tx, again, again)
    card = agency(tx)
    assert (card["complaints"], card["open"], card["withdrawn"]) == (1, 0, 1)


def test_a_complaint_against_two_agencies_counts_in_full_for_each(tx):
    respondents = [{"kind": "recruiting_agency", "name": "A", "licence": "RL 1234"},
                   {"kind": "recruiting_agency", "name": "B", "licence": "rl-77"}]
    fold(tx, event(domain.RECEIVED_EVENT, filed(respondents=respondents)))
    assert agency(tx, AGENCY)["complaints"] == agency(tx, OTHER)["complaints"] == 1
    assert agency(tx, AGENCY)["amount_claimed"] == agency(tx, OTHER)["amount_claimed"] == 250000


def test_a_complaint_naming_no_agency_is_kept_but_counts_for_none(tx):
    fold(tx, event(domain.RECEIVED_EVENT, filed(respondents=[{"kind": "employer_abroad", "name": "X",
                                                               "country": "SA"}])))
    assert tx.scorecard.agencies == {} and tx.scorecard.complaints["CMP-1"]["licences"] == []


def test_an_award_and_part_payment_count_as_awarded_paid_and_owed(tx):
    fold(tx, event(domain.RECEIVED_EVENT, filed()))
    paying = monitored(amount=100000)
    paid = awards.record_payment(paying, amount=40000, paid_on=TODAY + timedelta(days=9), reference="BANK-1",
                                 actor=STAFF, now=NOW + timedelta(days=9), today=TODAY + timedelta(days=9))
    fold(tx, event(domain.AWARD_ISSUED_EVENT, awards_version(paying, -1), data_of=awards.event_data),
         event(domain.PAYMENT_RECEIVED_EVENT, paid, data_of=awards.event_data))
    card = agency(tx)
    assert (card["awards"], card["amount_awarded"], card["amount_paid"]) == (1, 100000, 40000)
    assert card["complaints"] == 1 and card["open"] == 1
    deadline = paid["outcome"]["payment_deadline"]
    assert tx.scorecard.complaints["CMP-1"]["unpaid_deadline"] == deadline
    assert card["unpaid_by_deadline"] == {deadline: 1}


def test_an_award_counts_as_unpaid_past_deadline_from_the_day_after_it(tx):
    fold(tx, event(domain.AWARD_ISSUED_EVENT, monitored(amount=100000), data_of=awards.event_data))
    [deadline] = agency(tx)["unpaid_by_deadline"]
    before, after = deadline, (date.fromisoformat(deadline) + timedelta(days=1)).isoformat()
    assert scorecard.as_scorecard(agency(tx), before)["awards_unpaid_past_deadline"] == 0
    assert scorecard.as_scorecard(agency(tx), after)["awards_unpaid_past_deadline"] == 1


def awards_version(complaint: dict, by: int) -> dict:
    return {**complaint, "version": complaint["version"] + by}


def test_an_award_paid_in_full_owes_nothing(tx):
    paying = monitored(amount=100000)
    paid = awards.record_payment(paying, amount=100000, paid_on=TODAY + timedelta(days=9), reference=None,
                                 actor=STAFF, now=NOW + timedelta(days=9), today=TODAY + timedelta(days=9))
    fold(tx, event(domain.MONITORING_EVENT, paying, data_of=awards.event_data))
    assert sum(agency(tx)["unpaid_by_deadline"].values()) == 1
    fold(tx, event(domain.COMPLIED_EVENT, paid, data_of=awards.event_data))
    assert tx.scorecard.complaints["CMP-1"]["unpaid_deadline"] is None
    assert agency(tx)["amount_paid"] == 100000 and not any(agency(tx)["unpaid_by_deadline"].values())


def test_closing_resolves_and_the_median_is_exact_over_closed_complaints(tx):
    for n, days in enumerate((10, 30, 40), start=1):
        complaint = filed(f"CMP-{n}")
        fold(tx, event(domain.RECEIVED_EVENT, complaint), closed(complaint, days)[1])
    card = agency(tx)
    assert (card["complaints"], card["open"], card["resolved"]) == (3, 0, 3)
    assert card["median_days_to_close"] == 30.0
    fold(tx, event(domain.RECEIVED_EVENT, filed("CMP-4")), closed(filed("CMP-4"), 50)[1])
    assert agency(tx)["median_days_to_close"] == 35.0


def test_a_reopened_complaint_is_open_again_and_leaves_the_median(tx):
    one, two = filed("CMP-1"), filed("CMP-2")
    fold(tx, event(domain.RECEIVED_EVENT, one), event(domain.RECEIVED_EVENT, two))
    closed_one, closing = closed(one, 10)
    fold(tx, closing, closed(two, 20)[1])
    assert agency(tx)["median_days_to_close"] == 15.0
    reopened = domain.reopen(closed_one, reason="The agency never paid.", window_days=90, actor=STAFF,
                             now=NOW + timedelta(days=12))
    fold(tx, event(domain.REOPENED_EVENT, reopened, NOW + timedelta(days=12)))
    card = agency(tx)
    assert (card["open"], card["resolved"], card["median_days_to_close"]) == (1, 1, 20.0)


def test_a_withdrawn_complaint_is_neither_open_nor_resolved(tx):
    complaint = filed()
    withdrawn = domain.withdraw(complaint, reason="Settled privately.", actor=STAFF, now=NOW)
    fold(tx, event(domain.RECEIVED_EVENT, complaint), event(domain.WITHDRAWN_EVENT, withdrawn))
    card = agency(tx)
    assert (card["complaints"], card["open"], card["resolved"], card["withdrawn"]) == (1, 0, 0, 1)
    assert card["median_days_to_close"] is None


def test_an_event_without_the_case_shape_is_refused_for_good(tx):
    bad = Envelope.new(type=domain.RECEIVED_EVENT, source="complaints", subject_type="complaint",
                       subject_id="CMP-1", aggregate_version=1, data={"case_id": "CMP-1", "status": "received"})
    with pytest.raises(PermanentError):
        scorecard.complaint_changed(bad, tx)


# -- workers sent, from registration ---------------------------------------------------------

def migrant_event(kind: str, version: int, reference="PB-2345-6789", **data) -> Envelope:
    return Envelope.new(type=f"registration.migrant.{kind}", source="registration", subject_type="migrant",
                        subject_id=reference, aggregate_version=version, data={"reference": reference, **data})


def test_workers_sent_and_complaints_per_thousand(tx):
    for n in range(4):
        scorecard.worker_registered(migrant_event("registered", 1, f"PB-0000-000{n}",
                                                  recruiting_agency_licence=AGENCY), tx)
    scorecard.worker_registered(migrant_event("registered", 1, "PB-0000-0009"), tx)  # no agency
    assert agency(tx)["workers_sent"] == 4 and agency(tx)["complaints_per_1000_workers"] == 0.0
    fold(tx, event(domain.RECEIVED_EVENT, filed()))
    assert agency(tx)["complaints_per_1000_workers"] == 250.0
    assert set(tx.scorecard.agencies) == {AGENCY}


def test_per_thousand_is_null_while_no_worker_is_known(tx):
    fold(tx, event(domain.RECEIVED_EVENT, filed()))
    assert agency(tx)["workers_sent"] == 0 and agency(tx)["complaints_per_1000_workers"] is None


def test_a_migrant_whose_licence_changes_moves_to_the_other_agency(tx):
    scorecard.worker_registered(migrant_event("registered", 1, recruiting_agency_licence=AGENCY), tx)
    scorecard.worker_updated(migrant_event("updated", 2, changed=["phone"], values={"phone": "+8801812345678"}), tx)
    assert agency(tx)["workers_sent"] == 1
    scorecard.worker_updated(migrant_event("updated", 3, changed=["recruiting_agency_licence"],
                                           values={"recruiting_agency_licence": OTHER}), tx)
    assert (agency(tx, AGENCY)["workers_sent"], agency(tx, OTHER)["workers_sent"]) == (0, 1)
    scorecard.worker_updated(migrant_event("updated", 4, changed=["recruiting_agency_licence"],
                                           values={"recruiting_agency_licence": None}), tx)
    assert agency(tx, OTHER)["workers_sent"] == 0


def test_migrant_events_repeated_or_older_than_known_change_nothing(tx):
    registered = migrant_event("registered", 1, recruiting_agency_licence=AGENCY)
    scorecard.worker_registered(registered, tx)
    scorecard.worker_registered(registered, tx)
    assert agency(tx)["workers_sent"] == 1
    scorecard.worker_snapshot(migrant_event("snapshot", 3, recruiting_agency_licence=OTHER), tx)
    scorecard.worker_updated(migrant_event("updated", 2, changed=["recruiting_agency_licence"],
                                           values={"recruiting_agency_licence": "RL-5"}), tx)
    assert (agency(tx, AGENCY)["workers_sent"], agency(tx, OTHER)["workers_sent"]) == (0, 1)
    assert "RL-5" not in tx.scorecard.agencies


def test_a_snapshot_without_a_licence_takes_the_migrant_off_their_agency(tx):
    scorecard.worker_registered(migrant_event("registered", 1, recruiting_agency_licence=AGENCY), tx)
    scorecard.worker_snapshot(migrant_event("snapshot", 2), tx)
    assert agency(tx)["workers_sent"] == 0


# -- pure helpers ------------------------------------------------------------------------------

def test_the_median_is_exact_and_none_without_closed_complaints():
    assert scorecard.median([]) is None
    assert scorecard.median([3.0, 1.0, 2.0]) == 2.0 and scorecard.median([1.0, 2.0, 3.0, 10.0]) == 2.5


def test_what_a_row_adds_moves_when_its_licences_change():
    old = {"licences": [AGENCY], "status": "received", "category": "other", "amount_awarded": 0,
           "amount_claimed": 5, "amount_paid": 0}
    new = {**old, "licences": [OTHER]}
    changes = scorecard.changes_by_licence(old, new)
    assert changes[AGENCY]["complaints"] == -1 and changes[OTHER]["complaints"] == 1
    assert scorecard.changes_by_licence(old, old) == {}


def test_the_unpaid_deadline_is_a_dhaka_date_while_money_is_owed():
    row = scorecard.row_after(None, event(domain.AWARD_ISSUED_EVENT, monitored(amount=5000),
                                          data_of=awards.event_data))
    assert date.fromisoformat(row["unpaid_deadline"]) > TODAY
    assert row["opened_at"] == NOW.replace(tzinfo=timezone.utc)


# -- the routes' OpenAPI document --------------------------------------------------------------

def test_the_scorecard_routes_declare_their_query_and_answers_for_openapi():
    from shared.config import Settings
    from shared.http.api import Api
    from shared.http.app import create_app
    from services.complaints.scorecard_api import add_routes

    api = Api("complaints")
    add_routes(api, scorecard.ScorecardReads(None), audit=None)
    app = create_app(Settings(service="complaints", jwt_dev_key_file=harness.dev_key_file()), api, title="complaints", description="d",
                     readiness={}, configure_logging=False)
    document = app.test_client().get("/openapi.json").json
    ranked = document["paths"]["/api/v1/agencies/scorecard"]["get"]
    one = document["paths"]["/api/v1/agencies/{licence}/scorecard"]["get"]
    assert set(ranked["responses"]["200"]["content"]) == {"application/json", "text/csv"}
    assert {"401", "403", "422"} <= set(ranked["responses"]) and "404" in one["responses"]
    assert ranked["security"] and one["security"]
    query = str(ranked["parameters"])
    assert "rank_by" in query and "cursor" in query


@pytest.mark.parametrize("position", [[10**30, "RL-1"], [True, "RL-1"], [float("nan"), "RL-1"], [1, 2], [1],
                                      "RL-1"])
def test_a_cursor_that_no_ranking_made_is_refused(position):
    from services.complaints.scorecard_api import _position
    from shared.errors import Invalid
    from shared.pagination import encode_cursor
    cursor = encode_cursor(position) if isinstance(position, list) else "bm9wZQ"
    with pytest.raises(Invalid):
        _position(cursor, "complaints")
    assert _position(encode_cursor([2.5, "RL-1"]), "complaints") == [2.5, "RL-1"]
