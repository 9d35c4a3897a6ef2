"""Settlements and awards (services/complaints/awards.py): terms and instalments, compliance
monitoring, payments never above the award, not complied past the deadline, enforcement."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from services.complaints import awards, domain
from shared.errors import Conflict, Invalid

from .complaints_builders import NOW, STAFF, TODAY, awarded, day, heard, monitored


def pay(c, amount, on=None, days=20):
    return awards.record_payment(c, amount=amount, paid_on=on or day(days), reference="bKash-1", actor=STAFF,
                                 now=NOW + timedelta(days=days), today=day(days))


def test_an_award_in_two_instalments_paid_in_full_is_complied_then_closed():
    c = monitored(instalments=[{"due_on": day(30), "amount": 60000}, {"due_on": day(60), "amount": 40000}])
    assert c["status"] == domain.COMPLIANCE_MONITORING
    assert [i["amount"] for i in c["outcome"]["instalments"]] == [60000, 40000]
    c = pay(c, 60000)
    assert (c["status"], c["paid_total"]) == (domain.COMPLIANCE_MONITORING, 60000)
    c = pay(c, 40000, days=50)
    assert (c["status"], c["paid_total"], len(c["payments"])) == (domain.COMPLIED, 100000, 2)
    assert awards.event_data(c)["paid_total"] == 100000
    assert domain.close(c, note=None, actor=STAFF, now=NOW + timedelta(days=51))["status"] == domain.CLOSED


def test_a_settlement_is_the_same_terms_agreed_by_the_parties():
    c = awards.decide(heard(), kind=domain.SETTLED, amount=50000, payment_deadline=day(30), instalments=None,
                      terms="Agency refunds the fee", actor=STAFF, now=NOW, today=TODAY)
    assert c["status"] == domain.SETTLED
    assert c["outcome"]["instalments"] == [{"no": 1, "due_on": day(30).isoformat(), "amount": 50000}]


def test_a_payment_above_what_is_still_owed_is_refused():
    c = pay(monitored(), 70000)
    with pytest.raises(Conflict, match="more than the Tk 30000 still owed") as caught:
        pay(c, 30001)
    assert caught.value.extra == {"remaining": 30000}


@pytest.mark.parametrize("amount, on", [(0, None), (-5, None), (1.5, None), (100, date(2099, 1, 1))])
def test_a_payment_needs_whole_taka_and_a_day_not_later_than_today(amount, on):
    with pytest.raises(Invalid):
        pay(monitored(), amount, on=on)


def test_payments_are_recorded_only_once_compliance_is_monitored():
    with pytest.raises(domain.IllegalStep, match="once compliance is monitored"):
        pay(awarded(), 1000)


@pytest.mark.parametrize("kwargs, field", [
    ({"amount": 0}, "amount"),
    ({"payment_deadline": TODAY}, "payment_deadline"),
    ({"instalments": [{"due_on": day(30), "amount": 0}]}, "instalments"),
    ({"instalments": [{"due_on": day(30), "amount": 50000}]}, "instalments"),
    ({"instalments": [{"due_on": day(40), "amount": 50000}, {"due_on": day(30), "amount": 50000}]}, "instalments"),
    ({"instalments": [{"due_on": day(30), "amount": 50000}, {"due_on": day(90), "amount": 50000}]}, "instalments"),
    ({"kind": "agreed"}, "kind"),
])
def test_terms_that_do_not_add_up_are_refused(kwargs, field):
    args = {"kind": domain.AWARD_ISSUED, "amount": 100000, "payment_deadline": day(60), "instalments": None, **kwargs}
    with pytest.raises(Invalid) as caught:
        awards.decide(heard(), terms=None, actor=STAFF, now=NOW, today=TODAY, **args)
    assert field in caught.value.errors


def test_an_award_unpaid_past_its_deadline_is_not_complied_and_goes_to_enforcement():
    c = pay(monitored(deadline=60), 20000)
    with pytest.raises(Conflict, match="has not passed"):
        awards.mark_not_complied(c, actor=STAFF, now=NOW, today=day(60))
    c = awards.mark_not_complied(c, actor=STAFF, now=NOW + timedelta(days=61), today=day(61))
    assert c["status"] == domain.NOT_COMPLIED and c["non_compliance"]["owed"] == 80000
    with pytest.raises(Invalid):
        awards.enforce(c, action="jail", note="n", actor=STAFF, now=NOW)
    with pytest.raises(Invalid):
        awards.enforce(c, action="draw_security_deposit", note=" ", actor=STAFF, now=NOW)
    c = awards.enforce(c, action="draw_security_deposit", note="Ministry asked to pay from the deposit",
                       actor=STAFF, now=NOW + timedelta(days=62))
    assert (c["status"], c["enforcement"]["action"], c["enforcement"]["owed"]) == (
        domain.ENFORCEMENT, "draw_security_deposit", 80000)
    c = pay(c, 80000, days=70)  # paid from the deposit: recorded, the case stays in enforcement
    assert (c["status"], c["paid_total"]) == (domain.ENFORCEMENT, 100000)
    assert domain.close(c, note="Paid from the deposit", actor=STAFF, now=NOW)["status"] == domain.CLOSED


def test_enforcement_only_follows_non_compliance():
    with pytest.raises(domain.IllegalStep):
        awards.enforce(monitored(), action="recommend_licence_suspension", note="n", actor=STAFF, now=NOW)
    with pytest.raises(domain.IllegalStep):
        awards.mark_not_complied(awarded(), actor=STAFF, now=NOW, today=day(90))


def test_an_award_paid_in_full_after_the_deadline_but_before_enforcement_is_complied():
    c = awards.mark_not_complied(monitored(deadline=60), actor=STAFF, now=NOW + timedelta(days=61), today=day(61))
    c = pay(c, 100000, days=65)
    assert (c["status"], c["paid_total"]) == (domain.COMPLIED, 100000)


def test_a_payment_made_today_in_dhaka_is_accepted_while_utc_is_still_on_yesterday():
    late_evening_utc = NOW.replace(hour=23) + timedelta(days=20)  # 05:00 the next day in Dhaka (UTC+6)
    dhaka_today = late_evening_utc.date() + timedelta(days=1)
    c = awards.record_payment(monitored(), amount=1000, paid_on=dhaka_today, reference=None, actor=STAFF,
                              now=late_evening_utc, today=dhaka_today)
    assert c["payments"][0]["paid_on"] == dhaka_today.isoformat()
