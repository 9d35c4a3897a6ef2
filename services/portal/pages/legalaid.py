"""Legal aid staff's pages (issue 12; roles legal_aid and admin, as the complaints API allows):
the complaints queue by due date, one complaint with every lifecycle step as a form, evidence
previews through the portal, and the recruiting-agency scorecard with charts.

Every step is a POST with CSRF (security.py) and If-Match naming the version the page showed:
a complaint changed meanwhile (412) is shown again as it is now, with a sentence saying so; a
step the status does not allow (409) names the steps it does. The API decides who may see a
complaint (a restricted one only its assignee and admins): its 404/403 becomes a plain sentence.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from .. import i18n
from ..charts import bars
from ..backends import BackendError
from ..documents import passed_through
from ..signin import require, token
from . import legalaid_steps as steps

bp = Blueprint("legalaid", __name__, url_prefix="/legal-aid")
ROLES = ("legal_aid", "admin")
STATUSES = tuple(steps.BY_STATUS)
CATEGORIES_FILE = Path(__file__).resolve().parents[2] / "complaints" / "categories.json"
# Evidence a browser may show inline; anything else is offered as a download.
METRICS = ("complaints", "open", "resolved", "median_days_to_close", "amount_claimed", "amount_awarded",
           "amount_paid", "awards_unpaid_past_deadline", "complaints_per_1000_workers", "workers_sent")
MONEY = ("amount_claimed", "amount_awarded", "amount_paid")


def complaints():
    return current_app.config["BACKENDS"].complaints


@lru_cache(maxsize=1)
def _lists() -> dict:
    """Category and referral-body names: the complaints service's own list (data, shipped with it)."""
    return json.loads(CATEGORIES_FILE.read_text(encoding="utf-8"))


def list_name(kind: str, code: str) -> str:
    for item in _lists().get(kind, []):
        if item["code"] == code:
            return item["name_bn"] if i18n.lang() == "bn" else item["name_en"]
    return (code or "").replace("_", " ")


def category_name(code: str) -> str:
    return list_name("categories", code)


def body_name(code: str) -> str:
    return list_name("referral_bodies", code)


def overdue(complaint: dict) -> bool:
    """Past its earliest due date now (the queue's own `overdue` rule: due_order by now)."""
    try:
        due = datetime.fromisoformat(str(complaint.get("due_order") or "").replace("Z", "+00:00"))
    except ValueError:
        return False
    return due.tzinfo is not None and due <= datetime.now(timezone.utc)


def helpers() -> dict:
    return {"overdue": overdue, "status_name": steps.status_name, "step_name": steps.step_name, "party_name": steps.party_name,
            "action_name": steps.action_name, "category_name": category_name, "body_name": body_name,
            "metric_name": metric_name, "lists": _lists()}


# -- the queue ----------------------------------------------------------------------------------

@bp.get("/complaints")
@require(*ROLES)
def queue():
    args = request.args
    chosen = {"status": args.get("status", ""), "category": args.get("category", ""),
              "district": args.get("district", "").strip()[:40], "respondent": args.get("respondent", "").strip()[:20],
              "assignee": args.get("assignee", "").strip()[:80], "overdue": args.get("overdue", "")}
    params: dict = {"limit": 20}
    if chosen["status"] in STATUSES:
        params["status"] = chosen["status"]
    if chosen["category"] in {c["code"] for c in _lists()["categories"]}:
        params["category"] = chosen["category"]
    for name, param in (("district", "district"), ("assignee", "assignee"), ("respondent", "agency_licence")):
        if chosen[name]:
            params[param] = chosen[name]
    if chosen["overdue"] in ("true", "false"):
        params["overdue"] = chosen["overdue"]
    if args.get("cursor"):
        params["cursor"] = args["cursor"][:200]
    errors, page = {}, None
    try:
        page = complaints().get("/queue", token(), params)
    except BackendError as exc:
        if exc.status != 422:
            raise
        errors = {"form": _("Some filters need fixing; see the notes beside them."),  # e.g. a respondent that is no licence
                  "fields": {name.split(".", 1)[0]: True for name in exc.field_errors}}
    more = {k: v for k, v in chosen.items() if v}
    return render_template("legalaid_queue.html", page=page, chosen=chosen, errors=errors, statuses=STATUSES,
                           more=more, **helpers()), 200 if not errors else 422


# -- one complaint ------------------------------------------------------------------------------

def _path(complaint_id: str, rest: str = "") -> str:
    return f"/complaints/{quote(complaint_id, safe='')}{rest}"


def load(complaint_id: str) -> dict | Response:
    """The complaint, or the page that says plainly why it cannot be shown."""
    try:
        return complaints().get(_path(complaint_id), token())
    except BackendError as exc:
        if exc.status in (403, 404, 422):
            return not_shown(exc.status)
        raise


def not_shown(status: int):
    message = (_("You may not open this complaint. A confidential complaint is seen only by the staff member "
                 "it is assigned to and by administrators.") if status == 403 else
               _("There is no complaint with that number, or it is confidential: only the staff member it is "
                 "assigned to and administrators can open it."))
    return render_template("error.html", title=_("This complaint cannot be shown"), message=message), \
        (403 if status == 403 else 404)


def render_complaint(complaint: dict, failed: dict | None = None, status: int = 200):
    return render_template("legalaid_complaint.html", c=complaint, offered=steps.offered(complaint),
                           hearing=steps.scheduled_hearing(complaint), failed=failed or {}, parties=steps.PARTIES,
                           actions=steps.ENFORCEMENT_ACTIONS, referral_moves=REFERRAL_MOVES,
                           **helpers()), status


REFERRAL_MOVES = {"pending": ("accepted", "declined"), "accepted": ("completed",)}


@bp.get("/complaints/<complaint_id>")
@require(*ROLES)
def complaint(complaint_id: str):
    found = load(complaint_id)
    if not isinstance(found, dict):
        return found
    return render_complaint(found)


@bp.post("/complaints/<complaint_id>/steps/<step>")
@require(*ROLES)
def take_step(complaint_id: str, step: str):
    if step not in steps.STEPS:
        abort(404)
    rule, make_body = steps.STEPS[step]
    return send(complaint_id, step, _path(complaint_id, f"/{rule}"), make_body)


@bp.post("/complaints/<complaint_id>/referrals/<int:referral_no>")
@require(*ROLES)
def update_referral(complaint_id: str, referral_no: int):
    def body(form, _complaint):
        state = form.get("state", "")
        return {"state": state, **({"note": form["note"].strip()} if form.get("note", "").strip() else {})}
    return send(complaint_id, f"referral-{referral_no}", _path(complaint_id, f"/referrals/{referral_no}"), body)


def send(complaint_id: str, step: str, api_path: str, make_body):
    """One step: the body from the form, If-Match from the version the page showed; on a refusal
    the complaint again (as it is now after a 412) with the sentence beside the form."""
    version = request.form.get("version", "")
    if not version.isdigit():
        abort(400)
    current = load(complaint_id)
    if not isinstance(current, dict):
        return current
    try:
        body = make_body(request.form, current)
    except steps.FormProblem as problem:
        return render_complaint(current, {"step": step, "form": _("Some of what you entered needs fixing; see the "
                                                                    "notes beside the fields."),
                                          "fields": problem.fields, "values": request.form}, 422)
    try:
        complaints().call("POST", api_path, token(), json=body, headers={"If-Match": f'"{version}"'})
    except BackendError as exc:
        if exc.status in (403, 404):  # taken from this officer meanwhile (e.g. made confidential)
            return not_shown(exc.status)
        return render_complaint(current, {"step": step, **refusal(exc), "values": request.form},
                                409 if exc.status in (409, 412, 428) else 422)
    flash(_("Done: %(step)s.", step=steps.step_name(step.split("-")[0])))
    return redirect(url_for("legalaid.complaint", complaint_id=complaint_id) + "#done")  # where "Done" is said


def refusal(exc: BackendError) -> dict:
    """{"form": sentence, "fields": {field: sentence}} for a refused step."""
    problem = exc.problem
    if exc.status in (412, 428):
        return {"form": _("Someone else changed this complaint after you opened it. Below is the complaint as it "
                          "is now: check it, then send the form again if it is still needed."), "fields": {}}
    if exc.status == 409:
        if "cap" in problem:
            return {"form": _("%(count)s hearings were already scheduled, the most allowed (%(cap)s). Another one "
                              "needs a reason.", count=i18n.number(problem.get("hearings")),
                              cap=i18n.number(problem["cap"])),
                    "fields": {"over_cap_reason": _("Say why another hearing is needed.")}}
        if "remaining" in problem:
            return {"form": None, "fields": {"amount": _("That is more than the %(owed)s still owed.",
                                                         owed=i18n.taka(problem["remaining"]))}}
        allowed = [steps.status_name(s) for s in problem.get("allowed") or []]
        sentence = _("This step is not possible for the complaint as it is now.")
        if allowed:
            sentence += " " + _("What it can do next: %(steps)s.", steps=", ".join(allowed))
        elif "allowed" in problem:
            sentence += " " + _("Nothing more can be done with it.")
        return {"form": sentence, "fields": {}}
    if exc.status == 403:
        return {"form": _("You are not allowed to do this."), "fields": {}}
    if exc.status == 404:
        return {"form": _("We could not find that."), "fields": {}}
    fields, rest = {}, False
    for name in exc.field_errors:
        top = name.split(".", 1)[0]
        sentence = steps.field_sentence(top)
        if sentence:
            fields[top] = sentence
        else:
            rest = True
    form = _("Some of what you entered needs fixing; see the notes beside the fields.") if fields and not rest \
        else _("The service could not accept this. Please check what you entered.")
    return {"form": form, "fields": fields}


@bp.get("/complaints/<complaint_id>/evidence/<document_id>")
@require(*ROLES)
def evidence(complaint_id: str, document_id: str):
    """A piece of evidence, fetched from the vault with the staff member's token (in a header,
    never in a URL) and passed on; only a document this complaint holds as evidence."""
    found = load(complaint_id)
    if not isinstance(found, dict):
        return found
    if document_id not in {e.get("document_id") for e in found.get("evidence") or []}:
        abort(404)
    return passed_through(document_id, token())


# -- the recruiting-agency scorecard ------------------------------------------------------------

def metric_name(code: str) -> str:
    return {"complaints": _("Complaints"), "open": _("Open complaints"), "resolved": _("Resolved"),
            "withdrawn": _("Withdrawn"), "median_days_to_close": _("Median days to close"),
            "amount_claimed": _("Amount claimed"), "amount_awarded": _("Amount awarded"),
            "amount_paid": _("Amount paid"), "awards": _("Awards"),
            "awards_unpaid_past_deadline": _("Awards unpaid past the deadline"),
            "complaints_per_1000_workers": _("Complaints per 1,000 workers sent"),
            "workers_sent": _("Workers sent")}.get(code, code)


def shown(code: str, value) -> str:
    if value is None:
        return _("none yet")
    if code in MONEY:
        return i18n.taka(value)
    if isinstance(value, float):
        return i18n.digits(f"{value:.1f}")
    return i18n.number(value)


@bp.get("/scorecard")
@require(*ROLES)
def scorecard():
    rank_by = request.args.get("rank_by", "complaints")
    rank_by = rank_by if rank_by in METRICS else "complaints"
    order = "asc" if request.args.get("order") == "asc" else "desc"
    params = {"rank_by": rank_by, "order": order, "limit": 20, "format": "json"}
    if request.args.get("cursor"):
        params["cursor"] = request.args["cursor"][:200]
    page = complaints().get("/agencies/scorecard", token(), params)
    chart = bars([(card["licence"], card.get(rank_by), shown(rank_by, card.get(rank_by)))
                  for card in page.get("items", [])])
    return render_template("legalaid_scorecard.html", page=page, rank_by=rank_by, order=order, metrics=METRICS,
                           chart=chart, shown=shown, **helpers())


@bp.get("/scorecard/<licence>")
@require(*ROLES)
def agency_card(licence: str):
    try:
        card = complaints().get(f"/agencies/{quote(licence, safe='')}/scorecard", token())
    except BackendError as exc:
        if exc.status in (404, 422):
            return render_template("error.html", title=_("No scorecard for this agency"),
                                   message=_("No complaint or worker is known for this licence. A licence looks "
                                             "like RL-1234.")), 404
        raise
    categories = sorted((card.get("by_category") or {}).items(), key=lambda kv: (-kv[1], kv[0]))
    by_category = bars([(category_name(code), count, i18n.number(count)) for code, count in categories])
    money = bars([(metric_name(code), card.get(code), shown(code, card.get(code))) for code in MONEY])
    return render_template("legalaid_agency.html", card=card, by_category=by_category, money=money,
                           figures=[k for k in METRICS if k not in MONEY], shown=shown, **helpers())
