"""Which catalogue version is in force on a day, and the publishing precondition
(services/claims/catalogue_store.py), without I/O."""
from __future__ import annotations

import copy
import json
from datetime import date, datetime, timezone

import pytest

from services.claims import catalogue
from services.claims.catalogue import CatalogueError
from services.claims.catalogue_store import (IN_FORCE, PUBLISHED_EVENT, SCHEDULED, SUPERSEDED, event_data,
                                             expected_number, in_force_number, state_of, version_row)
from shared.contracts import ContractViolation
from shared.errors import PreconditionFailed, PreconditionRequired
from shared.uow import Tx

RAW = json.loads(catalogue.DEFAULT_PATH.read_text(encoding="utf-8"))


def versions(*effective_dates):
    return [{"_id": n, "effective_from": day} for n, day in enumerate(effective_dates, start=1)]


def test_the_only_version_whose_date_has_come_is_in_force():
    assert in_force_number(versions("2026-11-01"), date(2026, 11, 28)) == 1


def test_a_version_takes_effect_on_its_date_not_before():
    published = versions("2026-11-01", "2027-01-01")
    assert in_force_number(published, date(2026, 12, 31)) == 1
    assert in_force_number(published, date(2027, 1, 1)) == 2
    assert in_force_number(published, date(2027, 6, 1)) == 2


def test_nothing_is_in_force_before_the_first_effective_date():
    assert in_force_number(versions("2027-01-01"), date(2026, 12, 31)) is None
    assert in_force_number([], date(2026, 12, 31)) is None


def test_the_latest_effective_date_wins_whatever_order_the_versions_were_published_in():
    # v2 takes effect on 1 January; v3, published later, on 15 December: v3 until
    # 1 January, then v2 (the dates are a timeline, not the order of publishing).
    published = versions("2026-11-01", "2027-01-01", "2026-12-15")
    assert in_force_number(published, date(2026, 12, 14)) == 1
    assert in_force_number(published, date(2026, 12, 20)) == 3
    assert in_force_number(published, date(2027, 1, 2)) == 2


def test_on_one_date_the_later_published_version_wins():
    published = versions("2026-11-01", "2027-01-01", "2027-01-01")
    assert in_force_number(published, date(2027, 1, 1)) == 3


def test_each_version_is_in_force_scheduled_or_superseded():
    published = versions("2026-11-01", "2026-11-20", "2027-01-01")
    today = date(2026, 11, 28)
    in_force = in_force_number(published, today)
    assert [state_of(v, in_force, today) for v in published] == [SUPERSEDED, IN_FORCE, SCHEDULED]


def test_publishing_needs_if_match_naming_a_version_as_answered():
    with pytest.raises(PreconditionRequired):
        expected_number(None)
    assert expected_number('"3"') == 3
    for loose in ("3", 'W/"3"', '"03"', '"３"', '"1_0"', '"-1"', '"0"', "*"):
        with pytest.raises(PreconditionFailed):
            expected_number(loose)


def test_the_effective_date_is_exactly_yyyy_mm_dd_as_the_error_says():
    for spelling in ("20261101", "2026-W44-7"):
        raw = copy.deepcopy(RAW)
        raw["effective_from"] = spelling
        with pytest.raises(CatalogueError, match="effective_from"):
            catalogue.parse(raw)


def test_a_published_version_is_announced_within_its_contract_and_names_who_published_it():
    parsed = catalogue.parse(RAW)
    now = datetime(2026, 11, 28, tzinfo=timezone.utc)
    row = version_row(2, RAW, parsed, by={"user": "admin-1", "role": "admin"}, now=now)
    tx = Tx(db=None, session=None, source="claims")
    event = tx.emit(PUBLISHED_EVENT, subject_type="catalogue", subject_id="claims", aggregate_version=2,
                    data=event_data(row))
    assert event.data["codes"] == list(parsed.codes) and event.data["effective_from"] == RAW["effective_from"]
    with pytest.raises(ContractViolation):
        tx.emit(PUBLISHED_EVENT, subject_type="catalogue", subject_id="claims", aggregate_version=1,
                data=event_data({**row, "published_by": None}))
