"""A welfare officer's pages: the claims queue (overdue first), one claim with its eligibility,
checklist and the documents beside it, the steps an officer takes on it (each a form; the
claim's version goes back as If-Match, so a change someone else made meanwhile is refused
and shown), and the claims reports as charts. Claims and documents decide who may do what;
the portal asks with the officer's token and explains a refusal beside its field."""
from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import quote

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from .. import i18n
from ..charts import bars
from ..backends import BackendError
from ..documents import INLINE, passed_through
from ..errors import explain
from ..signin import require, token
from . import officer_text as text

bp = Blueprint("officer", __name__, url_prefix="/officer")
OFFICERS = ("welfare_officer", "admin")
VERIFIERS = ("welfare_officer",)  # documents: a welfare officer (or legal aid) verifies; an admin does not
# What a browser may be shown inline from the vault; anything else is offered as a download.
FILTERS = ("status", "type", "district", "assignee", "overdue")
STEP_FIELDS = {
    "approval": ("amount", "reason", "eligibility_override"),
    "rejection": ("reason_code", "reason_en", "reason_bn"),
    "information-requests": ("source", "note"),
    "information-received": ("note",),
    "payment-order": (),
    "payments": ("amount", "method", "account", "reference", "heir_id"),
}
NUMBERS = ("amount", "heir_id")


def backends():
    return current_app.config["BACKENDS"]


def q(value: str) -> str:
    return quote(value, safe="")


@bp.get("/claims")
@require(*OFFICERS)
def queue():
    chosen = {name: request.args.get(name, "").strip()[:80] for name in FILTERS}
    params = {name: value for name, value in chosen.items() if value}
    if params.get("overdue") not in (None, "true", "false"):
        params.pop("overdue")
    params["limit"] = 25
    if request.args.get("cursor"):
        params["cursor"] = request.args["cursor"][:200]
    try:
        page = backends().claims.get("/queue", token(), params)
        errors = {}
    except BackendError as exc:
        if exc.status != 422:
            raise
        page, errors = {"items": [], "next_cursor": None}, explain(exc, FILTERS)
    types = backends().claims.get("/claim-types").get("types", [])
    more = {k: v for k, v in chosen.items() if v}
    next_url = url_for("officer.queue", cursor=page["next_cursor"], **more) if page.get("next_cursor") else None
    return render_template("officer_queue.html", page=page, chosen=chosen, types=types, errors=errors,
                           statuses=text.statuses(), next_url=next_url, now=_now(),
                           mine=url_for("officer.queue", assignee=g.user["subject"]))


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


def is_overdue(claim: dict, now: str) -> bool:
    due = (claim.get("clock") or {}).get("due_at")
    return bool(claim.get("overdue")) or bool(due and due[:19] < now)


@bp.app_template_global()
def overdue(claim: dict, now: str) -> bool:
    return is_overdue(claim, now)


def load_claim(claim_id: str) -> tuple[dict, list, dict]:
    """The claim, its history and the documents its checklist names ({document_id: document})."""
    claims = backends().claims
    claim = claims.get(f"/claims/{q(claim_id)}", token())
    history = claims.get(f"/claims/{q(claim_id)}/history", token(), {"limit": 50}).get("items", [])
    documents = {}
    for item in claim.get("checklist", []):
        document_id = item.get("document_id")
        if document_id and document_id not in documents:
            try:
                documents[document_id] = backends().documents.get(f"/documents/{q(document_id)}", token())
            except BackendError:
                documents[document_id] = None  # deleted or not readable: the checklist still shows its state
    return claim, history, documents


def show_claim(claim_id: str, errors: dict | None = None, form: str | None = None, values: dict | None = None,
               status: int = 200, notice: str | None = None):
    claim, history, documents = load_claim(claim_id)
    return render_template("officer_claim.html", claim=claim, history=history, documents=documents,
                           errors=errors or {}, failed=form, values=values or {}, notice=notice,
                           statuses=text.statuses(), conditions=text.conditions(), finding=text.finding,
                           doc_states=text.doc_states(),
                           inline=INLINE, verifier=g.user["role"] in VERIFIERS, now=_now()), status


@bp.get("/claims/<claim_id>")
@require(*OFFICERS)
def claim(claim_id: str):
    return show_claim(claim_id, notice=text.done(request.args.get("done", "")))


@bp.post("/claims/<claim_id>/steps/<step>")
@require(*OFFICERS)
def take_step(claim_id: str, step: str):
    if step not in STEP_FIELDS:
        abort(404)
    values = {name: request.form.get(name, "").strip() for name in STEP_FIELDS[step]}
    body, problems = {}, {}
    for name, value in values.items():
        if not value:
            continue
        if name in NUMBERS:
            try:
                body[name] = int(value.replace(",", "").translate(text.BANGLA_DIGITS))
            except ValueError:
                problems[name] = text.field_sentence(name)
                continue
        else:
            body[name] = value
    if problems:
        return show_claim(claim_id, {"form": None, "fields": problems}, step, values, 422)
    version = request.form.get("version", "")
    try:
        backends().claims.post(f"/claims/{q(claim_id)}/{step}", body, token(), if_match=f'"{version}"')
    except BackendError as exc:
        if exc.status == 412:
            return show_claim(claim_id, {"form": _("Someone else changed this claim while you were looking at it; "
                                                   "here it is now. Nothing was saved: check it and try again.")},
                              step, values, 409)
        if exc.status == 404:
            raise
        explained = explain(exc, STEP_FIELDS[step], text.step_refusals(exc))
        explained["fields"] = {name: text.field_sentence(name) for name in explained["fields"]}
        return show_claim(claim_id, explained, step, values, 422)
    return redirect(url_for("officer.claim", claim_id=claim_id, done=step))


@bp.post("/claims/<claim_id>/documents/<document_id>")
@require(*VERIFIERS)
def decide_document(claim_id: str, document_id: str):
    decision = request.form.get("decision", "")
    reason = request.form.get("reason", "").strip()
    form = f"document-{document_id}"
    if decision not in ("verified", "rejected"):
        abort(400)
    if decision == "rejected" and not reason:
        return show_claim(claim_id, {"fields": {"reason": _("Say why the document is rejected.")}}, form,
                          {"reason": reason}, 422)
    try:
        version = int(request.form.get("version", ""))
    except ValueError:
        abort(400)
    body = {"decision": decision, "version": version, **({"reason": reason} if reason else {})}
    try:
        backends().documents.post(f"/documents/{q(document_id)}/verification", body, token())
    except BackendError as exc:
        if exc.status == 409:
            return show_claim(claim_id, {"form": _("A new version of this document was uploaded since you looked; "
                                                   "here it is now. Nothing was saved: look at it before deciding.")},
                              form, {"reason": reason}, 409)
        explained = explain(exc, ("reason",))
        explained["fields"] = {name: _("Say why the document is rejected, in at least 3 characters.")
                               for name in explained["fields"]}
        return show_claim(claim_id, explained, form, {"reason": reason}, 422)
    return redirect(url_for("officer.claim", claim_id=claim_id, done=decision) + f"#document-{document_id}")


@bp.get("/documents/<document_id>/content")
@require(*OFFICERS)
def document_content(document_id: str):
    """The document's bytes, passed through with the officer's token (which never reaches the browser)."""
    version = request.args.get("version", "")
    return passed_through(document_id, token(), int(version) if version.isdigit() else None)


@bp.get("/reports")
@require(*OFFICERS)
def reports():
    chosen = {key: request.args.get(key, "").strip()[:40] for key in ("from", "to", "type", "district", "group_by")}
    group = chosen["group_by"] if chosen["group_by"] in ("type", "district", "country", "month") else "type"
    params = {k: v for k, v in chosen.items() if v and k != "group_by"}
    params["group_by"] = group
    try:
        report, errors = backends().claims.get("/claim-reports", token(), {**params, "format": "json"}), {}
    except BackendError as exc:
        if exc.status != 422:
            raise
        report, errors = None, explain(exc, ("from", "to", "type", "district"))
        errors["fields"] = {name: _("Enter a date as YYYY-MM-DD, up to a year after the first.")
                            if name in ("from", "to") else _("Please check this field.") for name in errors["fields"]}
    charts = []
    if report:
        labels = [text.row_label(row, group) for row in report["rows"]]
        for measure, title, money in text.measures():
            values = [row.get(measure) or 0 for row in report["rows"]]
            show = i18n.taka if money else i18n.number
            charts.append({"id": measure, "title": title,
                           "bars": bars([(label, value, show(value)) for label, value in zip(labels, values)])})
    types = backends().claims.get("/claim-types").get("types", [])
    return render_template("officer_reports.html", report=report, charts=charts, chosen=chosen, group=group,
                           errors=errors, types=types, groups=text.groups())
