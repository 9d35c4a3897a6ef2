"""Administrators keep the guide's data current (issue 12; role admin): recruiting agencies and
links to the official platforms, through the directory's API. Each entry has a form with its
Bangla and English side by side; saving sends the whole entry (PUT) with If-Match naming the
version the form showed, so an entry changed meanwhile (412) is shown again as it is now. Fields
the form does not show (the sources) go back as they were read.

A country's mission is edited through dotted field names ("mission.labour_wing.phone").
A topic's text is edited; its lists (documents, forms, where to go) are carried as read: editing
them needs a form of its own, left for later.
"""
from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, current_app, render_template, request
from flask_babel import gettext as _

from ..backends import BackendError
from ..errors import form_sentence
from ..signin import require, token
from .public import AGENCY_STATUSES, agency_status

bp = Blueprint("admin_guide", __name__, url_prefix="/admin/guide")

# Per entry kind: the collection's path, the key field, and the form's fields as (name, kind,
# required); kinds: label/paragraph (bn and en), text, date, status. Sources are carried as read.
KINDS = {
    "agencies": {"path": "/agencies", "key": "licence_number", "fields": (
        ("name", "label", True), ("status", "status", True), ("valid_until", "date", False),
        ("address", "paragraph", False), ("phone", "text", False), ("note", "paragraph", False),
        ("last_checked", "date", True))},
    "links": {"path": "/links", "key": "id", "fields": (
        ("title", "label", True), ("url", "text", False), ("purpose", "paragraph", True),
        ("note", "paragraph", False), ("last_checked", "date", True))},
    "countries": {"path": "/countries", "key": "code", "fields": (
        ("name", "label", True), ("mission.name", "label", True), ("mission.labour_wing.phone", "text", False),
        ("mission.labour_wing.email", "text", False), ("mission.labour_wing.address", "paragraph", False),
        ("mission.labour_wing.url", "text", False), ("note", "paragraph", False), ("last_checked", "date", True))},
    "topics": {"path": "/guide/topics", "key": "id", "fields": (
        ("title", "label", True), ("summary", "paragraph", True), ("who_may_apply", "paragraph", True),
        ("amounts", "paragraph", False), ("time_limits", "paragraph", False), ("note", "paragraph", False),
        ("last_checked", "date", True))},
}
# Carried as read: a topic's lists (documents, forms, where to go) and place are not edited here yet.
CARRIED = ("sources", "kind", "documents", "forms", "where_to_go", "position")


def directory():
    return current_app.config["BACKENDS"].directory


def field_label(name: str) -> str:
    return {"name": _("Name"), "status": _("Licence status"), "valid_until": _("Licence valid until"),
            "address": _("Address"), "phone": _("Phone"), "note": _("Note for readers"),
            "last_checked": _("Last checked on"), "title": _("Title"), "url": _("Web address"),
            "purpose": _("What it is for"), "mission.name": _("Bangladesh's mission"),
            "mission.labour_wing.phone": _("Labour wing's phone"), "mission.labour_wing.email": _("Labour wing's email"),
            "mission.labour_wing.address": _("Labour wing's address"),
            "mission.labour_wing.url": _("Labour wing's web address"), "summary": _("Summary"),
            "who_may_apply": _("Who may apply"), "amounts": _("What it costs or pays"),
            "time_limits": _("Deadlines and how long it takes")}.get(name, name)


def field_sentence(name: str, kind: str) -> str:
    language = name.rsplit(".", 1)[-1] if "." in name else ""
    if language == "bn":
        return _("Write this in Bangla letters.")
    if language == "en":
        return _("Write this in English letters.")
    return {"date": _("A date not later than today, for example 2026-11-20."),
            "status": _("Choose a status."),
            "label": _("Write it in both Bangla and English."),
            "paragraph": _("Write it in both Bangla and English, or leave both empty."),
            }.get(kind, {"phone": _("A phone number with its country code, for example +880 2 9357972."),
                         "url": _("An https:// address, for example https://www.bmet.gov.bd."),
                         "email": _("An email address, for example labour.wing@example.org.")
                         }.get(name.rsplit(".", 1)[-1], _("Please check this field.")))


def helpers() -> dict:
    return {"field_label": field_label, "agency_statuses": AGENCY_STATUSES, "status_name": agency_status}


def _path(kind: str, key: str) -> str:
    return f"{KINDS[kind]['path']}/{quote(key, safe='')}"


@bp.get("")
@require("admin")
def index():
    params: dict = {"limit": 20}
    if request.args.get("cursor"):
        params["cursor"] = request.args["cursor"][:200]
    agencies = directory().get("/agencies", params=params)
    links, countries = directory().get("/links"), directory().get("/countries")
    topics = directory().get("/guide/topics")
    return render_template("admin_guide.html", agencies=agencies, links=links, countries=countries, topics=topics,
                           **helpers())


def read(kind: str, key: str):
    try:
        return directory().get(_path(kind, key))
    except BackendError as exc:
        if exc.status in (404, 422):
            return None
        raise


def not_found():
    return render_template("error.html", title=_("Page not found"),
                           message=_("There is no such entry in the guide.")), 404


def render_entry(kind: str, entry: dict, values: dict | None = None, errors: dict | None = None, status: int = 200,
                 done: str | None = None):
    return render_template("admin_guide_entry.html", kind=kind, entry=entry, fields=KINDS[kind]["fields"],
                           key=entry[KINDS[kind]["key"]], values=values if values is not None else form_values(kind, entry),
                           errors=errors or {}, done=done, **helpers()), status


def dig(entry: dict, name: str):
    """The value at a dotted name ("mission.labour_wing.phone"); None where a part is missing."""
    for part in name.split("."):
        entry = entry.get(part) if isinstance(entry, dict) else None
    return entry


def place(body: dict, name: str, value) -> None:
    *parents, last = name.split(".")
    for part in parents:
        body = body.setdefault(part, {})
    body[last] = value


def form_values(kind: str, entry: dict) -> dict:
    """The entry as the form's flat fields: "name.bn", "name.en", "status" ..."""
    values = {}
    for name, field_kind, _required in KINDS[kind]["fields"]:
        value = dig(entry, name)
        if field_kind in ("label", "paragraph"):
            values[f"{name}.bn"], values[f"{name}.en"] = (value or {}).get("bn", ""), (value or {}).get("en", "")
        else:
            values[name] = value or ""
    return values


def body_of(kind: str, values: dict, entry: dict) -> dict:
    body = {name: entry[name] for name in CARRIED if name in entry}
    for name, field_kind, required in KINDS[kind]["fields"]:
        if field_kind in ("label", "paragraph"):
            pair = {"bn": values[f"{name}.bn"], "en": values[f"{name}.en"]}
            place(body, name, pair if (required or pair["bn"] or pair["en"]) else None)
        else:
            place(body, name, values[name] if (required or values[name]) else None)
    return body


def kind_of(kind: str, error_name: str) -> str:
    """The form field's kind a refused name belongs to ("mission.name.bn" -> label)."""
    for name, field_kind, _required in KINDS[kind]["fields"]:
        if error_name == name or error_name.startswith(name + "."):
            return field_kind
    return ""


@bp.get("/<kind>/<key>")
@require("admin")
def entry(kind: str, key: str):
    found = read(kind, key) if kind in KINDS else None
    return render_entry(kind, found) if found else not_found()


@bp.post("/<kind>/<key>")
@require("admin")
def save(kind: str, key: str):
    if kind not in KINDS:
        return not_found()
    names = [f"{n}.{lang}" if k in ("label", "paragraph") else n for n, k, _r in KINDS[kind]["fields"]
             for lang in (("bn", "en") if k in ("label", "paragraph") else ("",))]
    values = {name: request.form.get(name, "").strip() for name in names}
    version = request.form.get("version", "")
    current = read(kind, key)
    if current is None:
        return not_found()
    try:
        saved = directory().put(_path(kind, key), body_of(kind, values, current), token(),
                                if_match=f'"{version}"' if version.isdigit() else None)
    except BackendError as exc:
        if exc.status in (412, 428):
            now = read(kind, key) or current
            return render_entry(kind, now, errors={"form": _(
                "Someone else changed this entry after you opened it. Here it is as it is now; "
                "make your change again if it is still needed.")}, status=412)
        if exc.status != 422:
            raise
        fields = {name: field_sentence(name, kind_of(kind, name)) for name in exc.field_errors}
        errors = {"form": form_sentence(exc), "fields": fields}
        return render_entry(kind, current, values=values, errors=errors, status=422)
    return render_entry(kind, saved, done=_("Saved. Readers see the change now."))
