"""Outcomes with money and their compliance: a settlement or an award (amount, payment
deadline, instalments), compliance monitoring, each payment received (never above the amount
decided), not complied once the deadline passes unpaid, and enforcement (a recommendation to
suspend the licence or to draw on the agency's security deposit). No I/O.
"""
from __future__ import annotations

from datetime import date, datetime

from shared.errors import Conflict, Invalid

from . import domain

ENFORCEMENT_ACTIONS = ("recommend_licence_suspension", "draw_security_deposit")
PAYABLE = (domain.COMPLIANCE_MONITORING, domain.NOT_COMPLIED, domain.ENFORCEMENT)


def _whole_taka(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _terms(amount, deadline, instalments, today: date) -> list[dict]:
    errors: dict[str, list[str]] = {}
    if not _whole_taka(amount):
        errors["amount"] = ["Must be a positive whole number of taka."]
    if not isinstance(deadline, date) or isinstance(deadline, datetime) or deadline <= today:
        errors["payment_deadline"] = ["Must be a later day."]
    instalments = instalments or [{"due_on": deadline, "amount": amount}]
    if not isinstance(instalments, list) or not all(
            isinstance(i, dict) and _whole_taka(i.get("amount")) and isinstance(i.get("due_on"), date)
            for i in instalments):
        errors["instalments"] = ["Each instalment needs a due date and a positive whole number of taka."]
    if errors:
        raise Invalid(errors)
    days = [i["due_on"] for i in instalments]
    if sum(i["amount"] for i in instalments) != amount:
        errors["instalments"] = [f"The instalments add up to Tk {sum(i['amount'] for i in instalments)}, "
                                 f"not the Tk {amount} decided."]
    elif days != sorted(days) or len(set(days)) != len(days) or days[0] <= today or days[-1] > deadline:
        errors["instalments"] = ["Instalments fall on different later days, in order, none after the deadline."]
    if errors:
        raise Invalid(errors)
    return [{"no": n, "due_on": i["due_on"].isoformat(), "amount": i["amount"]}
            for n, i in enumerate(instalments, start=1)]


def decide(complaint: dict, *, kind: str, amount: int, payment_deadline: date, instalments: list[dict] | None,
           terms: str | None, actor: dict, now: datetime, today: date) -> dict:
    """Settled (the parties agreed) or award_issued (the committee decided); `today` is Dhaka's date."""
    if kind not in (domain.SETTLED, domain.AWARD_ISSUED):
        raise Invalid({"kind": [f"Must be {domain.SETTLED} or {domain.AWARD_ISSUED}."]})
    domain.require_held_hearing(complaint, kind)
    schedule = _terms(amount, payment_deadline, instalments, today)
    outcome = {"kind": kind, "amount": amount, "payment_deadline": payment_deadline.isoformat(),
               "instalments": schedule, "terms": terms, "by": actor["user"], "at": now}
    return domain.moved(complaint, kind, now, outcome=outcome)


def start_monitoring(complaint: dict, *, actor: dict, now: datetime) -> dict:
    return domain.moved(complaint, domain.COMPLIANCE_MONITORING, now,
                        monitoring={"by": actor["user"], "at": now})


def record_payment(complaint: dict, *, amount: int, paid_on: date, reference: str | None, actor: dict,
                   now: datetime, today: date) -> dict:
    """A payment against the award; the total never above it. Paid in full before enforcement:
    complied; in enforcement (e.g. from the security deposit) it stays there until closed.
    `today` is Dhaka's date: a payment made today there is not in the future."""
    if complaint["status"] not in PAYABLE:
        raise domain.IllegalStep(f"Payments are recorded once compliance is monitored; the complaint is "
                                 f"{complaint['status'].replace('_', ' ')}.", complaint_status=complaint["status"],
                                 allowed=sorted(domain.ALLOWED[complaint["status"]]))
    if not _whole_taka(amount):
        raise Invalid({"amount": ["Must be a positive whole number of taka."]})
    if not isinstance(paid_on, date) or isinstance(paid_on, datetime) or paid_on > today:
        raise Invalid({"paid_on": ["The day it was paid, not a later one."]})
    decided = complaint["outcome"]["amount"]
    remaining = decided - complaint["paid_total"]
    if amount > remaining:
        raise Conflict(f"Tk {amount} is more than the Tk {remaining} still owed of the Tk {decided} decided.",
                       remaining=remaining)
    entry = {"payment_no": len(complaint["payments"]) + 1, "amount": amount, "paid_on": paid_on.isoformat(),
             "reference": reference, "recorded_by": actor["user"], "recorded_at": now}
    total = complaint["paid_total"] + amount
    changes = {"payments": [*complaint["payments"], entry], "paid_total": total}
    if total == decided and complaint["status"] in (domain.COMPLIANCE_MONITORING, domain.NOT_COMPLIED):
        return domain.moved(complaint, domain.COMPLIED, now, **changes)
    return domain.touched(complaint, now, **changes)


def mark_not_complied(complaint: dict, *, actor: dict, now: datetime, today: date) -> dict:
    """Only once the deadline has passed with money still owed."""
    domain.check_step(complaint, domain.NOT_COMPLIED)
    outcome = complaint["outcome"]
    if today <= date.fromisoformat(outcome["payment_deadline"]):
        raise Conflict(f"The payment deadline ({outcome['payment_deadline']}) has not passed.",
                       complaint_status=complaint["status"], allowed=[domain.COMPLIED])
    return domain.moved(complaint, domain.NOT_COMPLIED, now,
                        non_compliance={"owed": outcome["amount"] - complaint["paid_total"], "by": actor["user"],
                                        "at": now})


def enforce(complaint: dict, *, action: str, note: str, actor: dict, now: datetime) -> dict:
    if action not in ENFORCEMENT_ACTIONS:
        raise Invalid({"action": [f"Must be one of {', '.join(ENFORCEMENT_ACTIONS)}."]})
    if not isinstance(note, str) or not note.strip():
        raise Invalid({"note": ["Say what is recommended and to whom."]})
    return domain.moved(complaint, domain.ENFORCEMENT, now,
                        enforcement={"action": action, "note": note.strip(), "by": actor["user"], "at": now,
                                     "owed": complaint["outcome"]["amount"] - complaint["paid_total"]})


def event_data(complaint: dict, **extra) -> dict:
    outcome = complaint["outcome"] or {}
    return domain.event_data(complaint, amount=outcome.get("amount"), paid_total=complaint["paid_total"],
                             payment_deadline=outcome.get("payment_deadline"), **extra)
