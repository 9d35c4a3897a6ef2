"""Hearings (services/complaints/hearings.py): scheduling with notices, attendance and minutes,
adjournment to a next date, the configured cap and the reason past it."""
from __future__ import annotations

from datetime import timedelta

import pytest

from services.complaints import domain, hearings
from shared.errors import Conflict, Invalid

from .complaints_builders import NOW, PARTIES, STAFF, TODAY, at_notice, day, heard, received

BOTH = {"complainant": True, "recruiting_agency": False}


def scheduled(c=None, n=7, **kwargs):
    return hearings.schedule(c or at_notice(), on=day(n), venue="DEMO Cumilla", parties=PARTIES, actor=STAFF,
                             now=NOW, today=TODAY, **kwargs)


def test_the_first_hearing_moves_the_complaint_to_hearing_with_a_notice_to_each_party():
    c = scheduled()
    assert c["status"] == domain.HEARING
    hearing = c["hearings"][0]
    assert (hearing["hearing_no"], hearing["date"], hearing["state"]) == (1, day(7).isoformat(), hearings.SCHEDULED)
    assert [n["party"] for n in hearing["notices"]] == PARTIES
    assert hearings.event_data(c, 1)["venue"] == "DEMO Cumilla"


def test_a_hearing_before_the_notice_is_an_illegal_step():
    with pytest.raises(domain.IllegalStep):
        scheduled(received())


@pytest.mark.parametrize("kwargs, field", [
    ({"on": NOW.date()}, "date"),
    ({"on": NOW}, "date"),
    ({"venue": " "}, "venue"),
    ({"parties": ["complainant"]}, "parties"),
    ({"parties": ["recruiting_agency", "sub_agent"]}, "parties"),
    ({"parties": ["complainant", "judge"]}, "parties"),
])
def test_a_hearing_needs_a_later_day_a_venue_and_the_parties(kwargs, field):
    args = {"on": day(7), "venue": "BMET", "parties": PARTIES, **kwargs}
    with pytest.raises(Invalid) as caught:
        hearings.schedule(at_notice(), actor=STAFF, now=NOW, today=TODAY, **args)
    assert field in caught.value.errors


def test_a_held_hearing_records_who_came_and_the_minutes():
    c = hearings.hold(scheduled(), attendance=BOTH, minutes=" Agency absent. ", actor=STAFF, now=NOW)
    hearing = c["hearings"][0]
    assert hearing["state"] == hearings.HELD and hearing["minutes"] == "Agency absent."
    assert hearings.event_data(c, 1)["respondent_attended"] is False


@pytest.mark.parametrize("attendance, minutes", [
    ({"complainant": True}, "m"), ({"complainant": True, "recruiting_agency": "yes"}, "m"), (BOTH, "  ")])
def test_holding_needs_attendance_of_each_party_and_minutes(attendance, minutes):
    with pytest.raises(Invalid):
        hearings.hold(scheduled(), attendance=attendance, minutes=minutes, actor=STAFF, now=NOW)


def test_nothing_to_hold_or_adjourn_without_a_scheduled_hearing():
    with pytest.raises(Conflict, match="No hearing is scheduled"):
        hearings.hold(heard(), attendance=BOTH, minutes="m", actor=STAFF, now=NOW)
    with pytest.raises(Conflict, match="No hearing is scheduled"):
        hearings.adjourn(at_notice(), next_date=day(9), reason="r", actor=STAFF, now=NOW, today=TODAY)


def test_one_hearing_at_a_time():
    with pytest.raises(Conflict, match="already scheduled"):
        scheduled(scheduled(), n=14)


def test_an_adjournment_records_the_reason_and_schedules_the_next_date():
    c = hearings.adjourn(scheduled(), next_date=day(21), reason="Agency asked for time", actor=STAFF, now=NOW,
                         today=TODAY)
    first, second = c["hearings"]
    assert (first["state"], first["next_date"], first["adjournment_reason"]) == (
        hearings.ADJOURNED, day(21).isoformat(), "Agency asked for time")
    assert (second["hearing_no"], second["state"], second["venue"]) == (2, hearings.SCHEDULED, "DEMO Cumilla")
    assert hearings.event_data(c, 1)["next_date"] == day(21).isoformat()
    with pytest.raises(Invalid):
        hearings.adjourn(scheduled(), next_date=day(21), reason="", actor=STAFF, now=NOW, today=TODAY)
    with pytest.raises(Invalid):
        hearings.adjourn(scheduled(), next_date=NOW.date(), reason="r", actor=STAFF, now=NOW, today=TODAY)


def three_hearings():
    c = scheduled()
    c = hearings.adjourn(c, next_date=day(14), reason="r", actor=STAFF, now=NOW, today=TODAY)
    c = hearings.adjourn(c, next_date=day(21), reason="r", actor=STAFF, now=NOW, today=TODAY)
    return hearings.hold(c, attendance=BOTH, minutes="m", actor=STAFF, now=NOW)


def test_a_fourth_hearing_without_a_reason_is_refused_and_with_one_it_is_scheduled():
    with pytest.raises(Conflict, match=r"\(3\); another needs a reason") as caught:
        scheduled(three_hearings(), n=28)
    assert caught.value.extra == {"hearings": 3, "cap": 3}
    c = scheduled(three_hearings(), n=28, over_cap_reason="Employer's reply from abroad awaited")
    assert c["hearings"][3]["over_cap_reason"] == "Employer's reply from abroad awaited"


def test_adjourning_past_the_cap_needs_a_reason_too_and_the_cap_is_configured():
    c = scheduled()
    c = hearings.adjourn(c, next_date=day(14), reason="r", actor=STAFF, now=NOW, today=TODAY)
    with pytest.raises(Conflict, match="another needs a reason"):
        hearings.adjourn(c, next_date=day(21), reason="r", actor=STAFF, now=NOW, today=TODAY, cap=2)
    assert len(hearings.adjourn(c, next_date=day(21), reason="r", actor=STAFF, now=NOW, today=TODAY)["hearings"]) == 3


def test_a_decision_waits_for_a_held_hearing_and_none_left_scheduled():
    with pytest.raises(Conflict, match="after a hearing is held"):
        domain.dismiss(scheduled(), reason="r", actor=STAFF, now=NOW)
    c = scheduled(heard(), n=30)
    with pytest.raises(Conflict, match="none is still scheduled"):
        domain.dismiss(c, reason="r", actor=STAFF, now=NOW + timedelta(days=1))


def test_a_hearing_is_for_a_later_day_in_dhaka_not_by_the_utc_date():
    late_evening_utc = NOW.replace(hour=23)  # already the next day in Dhaka (UTC+6)
    dhaka_today = late_evening_utc.date() + timedelta(days=1)
    with pytest.raises(Invalid):
        hearings.schedule(at_notice(), on=dhaka_today, venue="BMET", parties=PARTIES, actor=STAFF,
                          now=late_evening_utc, today=dhaka_today)
