"""What happens next in each open case, from the latest facts folded from its events.

`fold(facts, event)` keeps, for each thing an event describes (a case, one of its hearings,
referrals or its award, a document), only what the event with the highest aggregate_version
said (ties: the event id). Keeping the maximum gives the same facts whatever order events
arrive in, and an event folded twice changes nothing: late and duplicate deliveries are safe.
`facts` are one migrant's: plain dicts, as a repository will store them.

`next_steps(case, documents)` turns a case's facts into sentences in both languages: the
missing or rejected documents by name, the next hearing's date and place, the amount decided,
the office to contact. None for a case that has ended.
"""
from __future__ import annotations

from . import names
from .dates import format_date, format_taka
from .entries import CLAIM, COMPLAINT, kind_of

# Statuses after which nothing more happens (claims and complaints).
ENDED = ("closed", "withdrawn")
_RANK = {"verified": 3, "uploaded": 2, "rejected": 1}
_DOCUMENT_STATUS = {"documents.document.uploaded": "uploaded", "documents.document.version_added": "uploaded",
                    "documents.document.verified": "verified", "documents.document.rejected": "rejected",
                    "documents.document.deleted": "deleted"}


def empty() -> dict:
    return {"cases": {}, "documents": {}}


def _stamp(event) -> list:
    return [event.aggregate_version, event.id]


def _newer(slot: dict | None, event) -> bool:
    return slot is None or _stamp(event) > slot["stamp"]


def _keep(table: dict, key: str, event, value: dict) -> None:
    if _newer(table.get(key), event):
        table[key] = {**value, "stamp": _stamp(event)}


def fold(facts: dict, event) -> dict:
    """`facts` with `event` applied (a new dict; `facts` is not changed)."""
    facts = {"cases": {k: _copy(v) for k, v in facts["cases"].items()}, "documents": dict(facts["documents"])}
    data = event.data
    if event.type in _DOCUMENT_STATUS:
        _keep(facts["documents"], data["document_id"], event, {
            "owner": data["owner"], "doc_type": data["doc_type"], "status": _DOCUMENT_STATUS[event.type],
            "reason": data.get("reason") if event.type.endswith(".rejected") else None})
        return facts
    kind = kind_of(event.type)
    if kind is None or event.type.endswith(".note_added"):
        return facts
    case = facts["cases"].setdefault(data["case_id"], {"case_id": data["case_id"], "kind": kind, "hearings": {},
                                                      "referrals": {}})
    _keep(case, "latest", event, {
        "type": event.type, "status": data["status"], "migrant_reference": data["migrant_reference"],
        "claim_type": data.get("claim_type"), "category": data.get("category"),
        "receipt_number": data.get("receipt_number"), "restricted": bool(data.get("restricted")),
        # Every claim event carries the taka approved (None before a decision, and in events
        # raised before claims published it); every complaint event its assignee, who may see
        # a restricted complaint (None: no one assigned yet); and the case's phone (the
        # claimant's or complainant's: their SMS, and family access to a restricted one).
        "approved_amount": data.get("approved_amount"), "assignee": data.get("assignee"),
        "phone": data.get("claimant_phone") if kind == CLAIM else data.get("complainant_phone")})
    if "hearing_no" in data:
        _keep(case["hearings"], str(data["hearing_no"]), event, {
            "state": event.type.rsplit("_", 1)[-1], "date": data["date"], "venue": data["venue"],
            "next_date": data.get("next_date")})
    if "referral_no" in data:
        _keep(case["referrals"], str(data["referral_no"]), event, {
            "body": data["body"], "state": data["referral_state"], "due_at": data["due_at"]})
    if kind == COMPLAINT and "paid_total" in data:  # a claim's payments carry it too, but award no taka
        _keep(case, "award", event, {"amount": data.get("amount"), "paid_total": data["paid_total"],
                                     "payment_deadline": data.get("payment_deadline")})
    return facts


def _copy(case: dict) -> dict:
    return {**case, "hearings": dict(case["hearings"]), "referrals": dict(case["referrals"])}


def fold_all(events, facts: dict | None = None) -> dict:
    for event in events:
        facts = fold(facts or empty(), event)
    return facts or empty()


# -- the facts a person needs ------------------------------------------------------------

def next_hearing(case: dict) -> dict | None:
    """The hearing still to come: the last one if scheduled, or the date it was adjourned to
    (adjourning schedules the next without an event of its own); none once the last was held."""
    if not case["hearings"]:
        return None
    last = case["hearings"][max(case["hearings"], key=int)]
    if last["state"] == "scheduled":
        return {"date": last["date"], "venue": last["venue"]}
    if last["state"] == "adjourned" and last.get("next_date"):
        return {"date": last["next_date"], "venue": last["venue"]}
    return None


def checklist(case: dict, documents: dict) -> list[dict]:
    """Each document the claim type asks for and the best the migrant has sent of it:
    verified beats uploaded beats rejected; nothing (or only deleted ones) is missing."""
    latest = case["latest"]
    own = [d for d in documents.values() if d["owner"] == latest["migrant_reference"] and d["status"] in _RANK]
    items = []
    for doc_types in names.required_documents(latest.get("claim_type")):
        matching = [d for d in own if d["doc_type"] in doc_types]
        best = max(matching, key=lambda d: (_RANK[d["status"]], d["stamp"]), default=None)
        items.append({"doc_types": doc_types, "state": best["status"] if best else "missing",
                      "reason": best["reason"] if best and best["status"] == "rejected" else None})
    return items


def _either(doc_types: list[str], lang: str) -> str:
    return (" অথবা " if lang == "bn" else " or ").join(names.name("document_types", t, lang) for t in doc_types)


def _office(case: dict) -> dict:
    if case["kind"] == CLAIM:
        return names.office("claim", case["latest"].get("claim_type"))
    holding = [r for r in case["referrals"].values() if r["state"] in ("pending", "accepted")]
    if case["latest"]["status"] == "referred" and holding:
        return names.names("referral_bodies", holding[0]["body"])
    return names.office("complaint")


def next_steps(case: dict, documents: dict) -> dict | None:
    """What happens next in an open case, in both languages, and the facts it rests on."""
    latest = case["latest"]
    if latest["status"] in ENDED:
        return None
    items = checklist(case, documents) if case["kind"] == CLAIM else []
    # Only a complaint in its hearing stage has one to come (a late hearing event says nothing after a decision).
    hearing = next_hearing(case) if case["kind"] == COMPLAINT and latest["status"] == "hearing" else None
    award = case.get("award")
    amount = award["amount"] if award else latest.get("approved_amount")
    office = _office(case)
    steps = {}
    for lang in ("en", "bn"):
        lines = (_claim_lines(latest, items, amount, lang) if case["kind"] == CLAIM
                 else _complaint_lines(case, hearing, award, lang))
        lines.append(f"যোগাযোগ: {office['bn']}।" if lang == "bn" else f"Contact: {office['en']}.")
        steps[lang] = lines
    return {"case_id": case["case_id"], "status": latest["status"], "text": steps,
            "missing_documents": [i for i in items if i["state"] in ("missing", "rejected")],
            "next_hearing": hearing, "amount": amount, "office": office}


def all_next_steps(facts: dict) -> dict[str, dict]:
    """Every open case's next steps, by case id."""
    out = {}
    for case_id, case in sorted(facts["cases"].items()):
        if "latest" not in case:
            continue
        steps = next_steps(case, facts["documents"])
        if steps:
            out[case_id] = steps
    return out


def _claim_lines(latest: dict, items: list[dict], amount, lang: str) -> list[str]:
    bn = lang == "bn"
    status = latest["status"]
    missing = [_either(i["doc_types"], lang) for i in items if i["state"] == "missing"]
    rejected = [(_either(i["doc_types"], lang), i["reason"]) for i in items if i["state"] == "rejected"]
    lines = []
    if status in ("submitted", "documents_pending", "awaiting_information"):
        if missing:
            lines.append(f"এই কাগজগুলো জমা দিন: {', '.join(missing)}।" if bn
                         else f"Send these documents: {', '.join(missing)}.")
        for doc, reason in rejected:
            why = f" ({reason})" if reason else ""
            lines.append(f"আবার জমা দিন: {doc}{why}।" if bn else f"Submit again: {doc}{why}.")
        if status == "awaiting_information":
            lines.append("অফিস আপনার কাছে আরও তথ্য চেয়েছে।" if bn else "The office has asked you for more information.")
        if not lines:
            lines.append("অফিস আপনার কাগজ যাচাই করছে।" if bn else "The office is checking your documents.")
    elif status in ("under_review", "review_requested", "recommended"):
        lines.append("একজন কর্মকর্তা আবেদনটি পর্যালোচনা করছেন; আপনার কিছু করার দরকার নেই।" if bn
                     else "An officer is reviewing the application; nothing is needed from you now.")
    elif status in ("approved", "payment_ordered"):
        what = format_taka(amount, lang) if isinstance(amount, int) else ("মঞ্জুরকৃত অর্থ" if bn else "The approved amount")
        lines.append(f"{what} পাঠানো হবে।" if bn else f"{what} will be sent to you.")
    elif status == "paid":
        lines.append("সম্পূর্ণ অর্থ পরিশোধ হয়েছে; আবেদনটি বন্ধ করা হবে।" if bn
                     else "The full amount is paid; the application will be closed.")
    elif status == "rejected":
        lines.append("সিদ্ধান্তে আপত্তি থাকলে পুনর্বিবেচনার আবেদন করতে পারেন।" if bn
                     else "If you disagree, you may ask for the decision to be reviewed.")
    return lines


def _complaint_lines(case: dict, hearing: dict | None, award: dict | None, lang: str) -> list[str]:
    bn = lang == "bn"
    status = case["latest"]["status"]
    if hearing:
        when, where = format_date(hearing["date"], lang), hearing["venue"]
        return [f"শুনানিতে আসুন: {when}, {where}। আপনার কাগজপত্র সঙ্গে আনুন।" if bn
                else f"Come to the hearing on {when} at {where}. Bring your papers."]
    if status in ("received", "scrutiny", "acknowledged", "notice_to_respondent", "reopened"):
        return ["শুনানির তারিখ ঠিক হলে আপনাকে এসএমএসে জানানো হবে।" if bn
                else "You will get an SMS when a hearing date is set."]
    if status == "hearing":
        return ["শুনানির পর কমিটি সিদ্ধান্ত দেবে।" if bn else "The committee will decide after the hearing."]
    if status == "referred":
        holding = [r for r in case["referrals"].values() if r["state"] in ("pending", "accepted")]
        if holding:
            body = names.name("referral_bodies", holding[0]["body"], lang)
            due = format_date(holding[0]["due_at"], lang)
            return [f"অভিযোগটি এখন {body}-এর কাছে; {due}-এর মধ্যে ব্যবস্থা নেওয়ার কথা।" if bn
                    else f"Your complaint is with {body}, which is to act by {due}."]
        return ["অভিযোগটি আবার শুনানিতে যাবে অথবা বন্ধ হবে।" if bn else "The complaint will be heard again or closed."]
    if award and status in ("settled", "award_issued", "compliance_monitoring", "not_complied", "enforcement"):
        amount = award["amount"] if isinstance(award["amount"], int) else 0
        owed = format_taka(amount - award["paid_total"], lang)
        deadline = format_date(award["payment_deadline"], lang) if award.get("payment_deadline") else ""
        if status in ("not_complied", "enforcement"):
            return [f"এজেন্সির কাছে এখনও {owed} পাওনা; তাদের বিরুদ্ধে ব্যবস্থা নেওয়া হচ্ছে।" if bn
                    else f"The agency still owes you {owed}; action is being taken against it."]
        return [f"এজেন্সি {deadline}-এর মধ্যে আপনাকে {owed} দেবে।" if bn
                else f"The agency is to pay you {owed} by {deadline}."]
    if status == "complied":
        return ["পুরো অর্থ পরিশোধ হয়েছে; অভিযোগটি বন্ধ করা হবে।" if bn else "You were paid in full; the complaint will be closed."]
    if status == "dismissed":
        return ["অভিযোগটি বন্ধ করা হবে। আপত্তি থাকলে অফিসে যোগাযোগ করুন।" if bn
                else "The complaint will be closed. If you disagree, contact the office."]
    return []
