"""The claim guide's sentences, from the claims catalogue's codes (amount rules, who may claim,
eligibility conditions): the catalogue holds the rules, the message catalogues the words."""
from __future__ import annotations

from flask_babel import gettext as _

from .. import i18n


def claimants(code: str) -> str:
    return {
        "heirs": _("The heirs of a migrant worker who died abroad (spouse, children, parents)."),
        "worker": _("The migrant worker."),
        "child": _("A child of a migrant worker."),
    }.get(code, code.replace("_", " "))


def amount(rule: dict) -> list[str]:
    """The amount as sentences (a scholarship has one per level)."""
    kind = rule.get("rule")
    if kind == "fixed":
        return [i18n.taka(rule["amount"])]
    if kind == "capped":
        return [_("Up to %(amount)s.", amount=i18n.taka(rule["cap"]))]
    if kind == "per_month":
        return [_("%(amount)s a month for %(months)s months.", amount=i18n.taka(rule["monthly"]),
                  months=i18n.number(rule["months"]))]
    if kind == "by_grade":
        lines = []
        for level, steps in (rule.get("levels") or {}).items():
            for step in steps:
                lines.append(_("%(level)s, GPA %(gpa)s or more: %(amount)s", level=level.upper(),
                               gpa=i18n.digits(f"{step['min_gpa']:.2f}"), amount=i18n.taka(step["amount"])))
        return lines
    if kind == "as_recovered":
        return [_("The amount recovered from the employer abroad.")]
    if kind == "assessed":
        return [_("Decided after the case is assessed.")]
    if kind == "referral":
        return [_("No grant: a referral to Probashi Kallyan Bank for a loan.")]
    return [_("Ask at the office.")]


def condition(item: dict) -> str:
    code = item.get("condition", "")
    if code == "filed_within_days":
        return _("Apply within %(days)s days of the event.", days=i18n.number(item.get("days", 0)))
    return {
        "membership_active_on_event_date": _("The worker was a member of the Wage Earners' Welfare Board on the day "
                                             "it happened."),
        "membership_active_on_filing": _("The worker's Welfare Board membership is active on the day you apply."),
        "clearance_recorded": _("The worker went abroad with emigration clearance (the BMET smart card)."),
        "membership_or_clearance": _("The worker is a Welfare Board member or went abroad with emigration "
                                     "clearance."),
    }.get(code, code.replace("_", " ").capitalize())

