"""Builders shared by the complaints unit tests: an intake, a complaint walked to a status."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from services.complaints import awards, categories, domain, hearings, intake as intake_rules

LISTS = categories.load()
NOW = datetime(2026, 11, 28, 9, 0, tzinfo=timezone.utc)
TODAY = NOW.date()
STAFF = {"user": "legal-1", "role": "legal_aid"}
MIGRANT = {"user": "m-1", "role": "migrant", "migrant_ref": "PB-2345-6789"}
PARTIES = ["complainant", "recruiting_agency"]


def intake(**overrides):
    return {"complainant": {"migrant_reference": "PB-2345-6789", "name": "Rahim Uddin", "phone": "01712345678"},
            "channel": "udc", "category": "unpaid_wages",
            "respondents": [{"kind": "recruiting_agency", "name": "Example Overseas", "licence": "RL 1234"},
                            {"kind": "sub_agent", "name": "Karim dalal", "phone": "01811111111"},
                            {"kind": "employer_abroad", "name": "Gulf Build LLC", "country": "sa"}],
            "amount_claimed": 250000, "narrative": "Eight months of wages were never paid by the employer.",
            "district": "Cumilla", **overrides}


def received(actor=STAFF, **overrides):
    return intake_rules.new_complaint(intake(**overrides), complaint_id="CMP-1", receipt_number="CP-2345-678X",
                                lists=LISTS, actor=actor, now=NOW)


def at_notice():
    c = domain.start_scrutiny(received(), actor=STAFF, now=NOW)
    c = domain.acknowledge(c, committee=["Deputy Director", "Legal aid officer"], actor=STAFF, now=NOW)
    return domain.send_notice(c, actor=STAFF, now=NOW)


def day(n: int) -> date:
    return TODAY + timedelta(days=n)


def heard():
    c = hearings.schedule(at_notice(), on=day(7), venue="BMET Dhaka", parties=PARTIES, actor=STAFF, now=NOW,
                          today=TODAY)
    return hearings.hold(c, attendance={"complainant": True, "recruiting_agency": True}, minutes="Both heard.",
                         actor=STAFF, now=NOW + timedelta(days=7))


def awarded(amount=100000, instalments=None, deadline=60):
    return awards.decide(heard(), kind=domain.AWARD_ISSUED, amount=amount, payment_deadline=day(deadline),
                         instalments=instalments, terms=None, actor=STAFF, now=NOW + timedelta(days=8),
                         today=day(8))


def monitored(**kwargs):
    return awards.start_monitoring(awarded(**kwargs), actor=STAFF, now=NOW + timedelta(days=8))
