"""A complaint's lifecycle steps as forms: which steps a status offers, and each form's fields
turned into the body the complaints API takes (services/complaints/api.py and schemas.py).

A form's text is read as typed; the API judges it (a 422 comes back as sentences beside the
fields). Only what cannot be typed as JSON is shaped here: numbers, lists, the attendance."""
from __future__ import annotations

from flask_babel import gettext as _

PARTIES = ("complainant", "recruiting_agency", "sub_agent", "employer_abroad", "witness")
ENFORCEMENT_ACTIONS = ("recommend_licence_suspension", "draw_security_deposit")
REFERRAL_STATES = ("accepted", "declined", "completed")
FINAL = ("closed", "withdrawn")


class FormProblem(Exception):
    """What the person typed cannot be sent at all (e.g. letters for an amount): {field: sentence}."""

    def __init__(self, fields: dict):
        super().__init__(", ".join(fields))
        self.fields = fields


def _text(form, name: str) -> str | None:
    value = form.get(name, "").strip()
    return value or None


def _taka(form, name: str, problems: dict):
    raw = form.get(name, "").strip().replace(",", "")
    if not raw.isdigit():
        problems[name] = _("Enter a whole number of taka, for example 50000.")
        return None
    return int(raw)


def _lines(form, name: str) -> list[str]:
    return [line.strip() for line in form.get(name, "").splitlines() if line.strip()]


def _with(body: dict, **optional) -> dict:
    """`body` with the optional fields that were filled in (the API refuses an empty string)."""
    return {**body, **{k: v for k, v in optional.items() if v not in (None, "")}}


def _no_body(_form, _complaint) -> None:
    return None


def _acknowledgement(form, _complaint) -> dict:
    return {"committee": _lines(form, "committee")}


def _assignment(form, _complaint) -> dict:
    return {"assignee": form.get("assignee", "").strip()}


def _evidence(form, _complaint) -> dict:
    return {"document_id": form.get("document_id", "").strip()}


def _hearing(form, _complaint) -> dict:
    return _with({"date": form.get("date", "").strip(), "venue": form.get("venue", "").strip(),
                  "parties": [p for p in form.getlist("parties") if p in PARTIES]},
                 over_cap_reason=_text(form, "over_cap_reason"))


def _held(form, complaint) -> dict:
    """Every party of the scheduled hearing: ticked came, unticked did not."""
    hearing = scheduled_hearing(complaint) or {}
    came = set(form.getlist("came"))
    return {"attendance": {p: p in came for p in hearing.get("parties", [])},
            "minutes": form.get("minutes", "").strip()}


def _adjournment(form, _complaint) -> dict:
    return _with({"next_date": form.get("next_date", "").strip(), "reason": form.get("reason", "").strip()},
                 over_cap_reason=_text(form, "over_cap_reason"))


def _referral(form, _complaint) -> dict:
    return {"body": form.get("body", "").strip(), "note": form.get("note", "").strip()}


def _instalments(form, problems: dict) -> list[dict] | None:
    """One a line, "2027-01-15 25000"; none: the whole amount on the deadline."""
    found = []
    for line in _lines(form, "instalments"):
        parts = line.replace(",", "").split()
        if len(parts) != 2 or not parts[1].isdigit():
            problems["instalments"] = _("One instalment a line: its date and its amount, for example "
                                        "2027-01-15 25000.")
            return None
        found.append({"due_on": parts[0], "amount": int(parts[1])})
    return found or None


def _outcome(form, _complaint) -> dict:
    problems: dict = {}
    amount = _taka(form, "amount", problems)
    instalments = _instalments(form, problems)
    if problems:
        raise FormProblem(problems)
    return _with({"kind": form.get("kind", ""), "amount": amount,
                  "payment_deadline": form.get("payment_deadline", "").strip()},
                 instalments=instalments, terms=_text(form, "terms"))


def _reason(form, _complaint) -> dict:
    return {"reason": form.get("reason", "").strip()}


def _payment(form, _complaint) -> dict:
    problems: dict = {}
    amount = _taka(form, "amount", problems)
    if problems:
        raise FormProblem(problems)
    return _with({"amount": amount, "paid_on": form.get("paid_on", "").strip()},
                 reference=_text(form, "reference"))


def _enforcement(form, _complaint) -> dict:
    return {"action": form.get("action", ""), "note": form.get("note", "").strip()}


def _closure(form, _complaint) -> dict:
    return _with({}, note=_text(form, "note"))


# step name -> (the API's path under /complaints/<id>/, the form's body)
STEPS = {
    "scrutiny": ("scrutiny", _no_body),
    "acknowledgement": ("acknowledgement", _acknowledgement),
    "notice": ("notice", _no_body),
    "assignment": ("assignment", _assignment),
    "evidence": ("evidence", _evidence),
    "hearing": ("hearings", _hearing),
    "held": ("hearings/held", _held),
    "adjournment": ("hearings/adjournment", _adjournment),
    "referral": ("referrals", _referral),
    "outcome": ("outcome", _outcome),
    "dismissal": ("dismissal", _reason),
    "monitoring": ("compliance-monitoring", _no_body),
    "payment": ("payments", _payment),
    "non_compliance": ("non-compliance", _no_body),
    "enforcement": ("enforcement", _enforcement),
    "closure": ("closure", _closure),
    "reopening": ("reopening", _reason),
    "withdrawal": ("withdrawal", _reason),
}

# The steps a status offers (domain.ALLOWED, as forms); a scheduled hearing is held or adjourned first.
BY_STATUS = {
    "received": ("scrutiny", "withdrawal"),
    "scrutiny": ("acknowledgement", "withdrawal"),
    "acknowledged": ("notice", "withdrawal"),
    "notice_to_respondent": ("hearing", "withdrawal"),
    "hearing": ("hearing", "outcome", "dismissal", "referral", "withdrawal"),
    "settled": ("monitoring",),
    "award_issued": ("monitoring",),
    "dismissed": ("closure",),
    "referred": ("referral", "hearing", "closure", "withdrawal"),
    "compliance_monitoring": ("payment", "non_compliance"),
    "not_complied": ("payment", "enforcement"),
    "enforcement": ("payment", "closure"),
    "complied": ("closure",),
    "closed": ("reopening",),
    "reopened": ("hearing", "withdrawal"),
    "withdrawn": (),
}


def scheduled_hearing(complaint: dict) -> dict | None:
    return next((h for h in complaint.get("hearings") or [] if h.get("state") == "scheduled"), None)


def offered(complaint: dict) -> list[str]:
    """The step forms to show for the complaint as it is now."""
    status = complaint.get("status", "")
    steps = list(BY_STATUS.get(status, ()))
    if scheduled_hearing(complaint) and status == "hearing":
        steps = ["held", "adjournment", "withdrawal"]
    if status not in FINAL:
        steps += ["assignment", "evidence"]
    return steps


def step_name(step: str) -> str:
    return {
        "scrutiny": _("Start scrutiny"), "acknowledgement": _("Acknowledge"), "notice": _("Send the notice"),
        "assignment": _("Assign"), "evidence": _("Attach evidence"), "hearing": _("Schedule a hearing"),
        "held": _("Record the hearing as held"), "adjournment": _("Adjourn the hearing"),
        "referral": _("Refer to another body"), "outcome": _("Record a settlement or award"),
        "dismissal": _("Dismiss"), "monitoring": _("Start compliance monitoring"),
        "payment": _("Record a payment received"), "non_compliance": _("Mark as not complied"),
        "enforcement": _("Recommend enforcement"), "closure": _("Close"), "reopening": _("Reopen"),
        "withdrawal": _("Withdraw"),
    }.get(step, step)


def status_name(code: str) -> str:
    return {
        "received": _("Received"), "scrutiny": _("In scrutiny"), "acknowledged": _("Acknowledged"),
        "notice_to_respondent": _("Notice sent to the respondent"), "hearing": _("Hearing"),
        "settled": _("Settled"), "award_issued": _("Award issued"), "dismissed": _("Dismissed"),
        "referred": _("Referred"), "compliance_monitoring": _("Compliance monitoring"), "complied": _("Complied"),
        "not_complied": _("Not complied"), "enforcement": _("Enforcement"), "closed": _("Closed"),
        "withdrawn": _("Withdrawn"), "reopened": _("Reopened"),
        # a hearing's and a referral's own states
        "scheduled": _("Scheduled"), "held": _("Held"), "adjourned": _("Adjourned"), "pending": _("Pending"),
        "accepted": _("Accepted"), "declined": _("Declined"), "completed": _("Completed"),
    }.get(code, code.replace("_", " "))


def party_name(code: str) -> str:
    return {"complainant": _("Complainant"), "recruiting_agency": _("Recruiting agency"),
            "sub_agent": _("Sub-agent"), "employer_abroad": _("Employer abroad"),
            "witness": _("Witness")}.get(code, code.replace("_", " "))


def action_name(code: str) -> str:
    return {"recommend_licence_suspension": _("Recommend suspending the agency's licence"),
            "draw_security_deposit": _("Draw on the agency's security deposit")}.get(code, code.replace("_", " "))


def field_sentence(name: str) -> str | None:
    """What to fix in a step's field the API refused (its own message is English)."""
    return {
        "committee": _("Name the committee's members, one a line."),
        "assignee": _("Enter the staff member's user id."),
        "document_id": _("Enter the number of one of the complainant's documents in the vault."),
        "date": _("Choose a later day."), "next_date": _("Choose a later day."),
        "venue": _("Say where the hearing is held."),
        "parties": _("Tick the complainant and at least one respondent."),
        "attendance": _("Tick each party who came."), "minutes": _("Write the minutes of the hearing."),
        "reason": _("Give the reason."), "over_cap_reason": _("Give the reason."),
        "body": _("Choose the body."), "note": _("Write a note (at least 2 characters)."),
        "kind": _("Choose settled or award issued."),
        "amount": _("Enter a whole number of taka, for example 50000."),
        "payment_deadline": _("Choose a later day."),
        "instalments": _("The instalments fall on different later days, in order, none after the deadline, "
                         "and add up to the amount."),
        "terms": _("Write the terms (at least 2 characters)."),
        "paid_on": _("The day it was paid: today or earlier."), "reference": _("The bank or wallet reference."),
        "action": _("Choose what to recommend."), "state": _("Choose the body's answer."),
    }.get(name)
