"""Administrators keep the guide's data current (issue 12; role admin): recruiting agencies,
countries' missions, links to the official platforms and the guide's topics, through the
directory's API. Each entry has a form with its Bangla and English side by side, its lists as
rows (admin_guide_lists.py) and "last checked" set to today (the admin checks it now); saving
sends the whole entry (PUT) with If-Match naming the version the form showed, so an entry
changed meanwhile (412) is shown again as it is now. A new entry is a PUT without If-Match
(the directory creates it; one that exists already is named). A country's mission is edited
through dotted field names ("mission.labour_wing.phone").
"""
from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import quote

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _

from shared import dates

from ..backends import BackendError
from ..errors import form_sentence
from ..signin import require, token
from . import admin_guide_lists as lists
from .admin_guide_lists import dig, place
from .public import AGENCY_STATUSES, agency_status, topic_kinds

bp = Blueprint("admin_guide", __name__, url_prefix="/admin/guide")

# Per entry kind: the collection's path, the key field, and the form's fields as (name, kind,
# required); kinds: label/paragraph (bn and en), text, date, number, status, topic_kind.
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
        ("kind", "topic_kind", True), ("title", "label", True), ("summary", "paragraph", True),
        ("who_may_apply", "paragraph", True), ("amounts", "paragraph", False), ("time_limits", "paragraph", False),
        ("note", "paragraph", False), ("position", "number", False), ("last_checked", "date", True))},
}


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
            "time_limits": _("Deadlines and how long it takes"), "kind": _("Part of the guide"),
            "position": _("Place in the guide's list (smaller comes first)")}.get(name, name)


def key_label(kind: str) -> str:
    return {"agencies": _("Licence number, for example RL-1234"),
            "countries": _("The country's two-letter code, for example SA"),
            "links": _("Short name for its address: small English letters, digits or hyphens"),
            "topics": _("Short name for its address: small English letters, digits or hyphens")}[kind]


def new_title(kind: str) -> str:
    return {"agencies": _("Add a recruiting agency"), "countries": _("Add a country and its mission"),
            "links": _("Add a link to an official platform"), "topics": _("Add a guide topic")}[kind]


def field_sentence(name: str, kind: str) -> str:
    language = name.rsplit(".", 1)[-1] if "." in name else ""
    if language == "bn":
        return _("Write this in Bangla letters.")
    if language == "en":
        return _("Write this in English letters.")
    return {"date": _("A date not later than today, for example 2026-11-20."),
            "status": _("Choose a status."),
            "topic_kind": _("Choose the part of the guide."),
            "number": _("A whole number from 0 to 10000."),
            "label": _("Write it in both Bangla and English."),
            "paragraph": _("Write it in both Bangla and English, or leave both empty."),
            }.get(kind, {"phone": _("A phone number with its country code, for example +880 2 9357972."),
                         "url": _("An https:// address, for example https://www.bmet.gov.bd."),
                         "email": _("An email address, for example labour.wing@example.org.")
                         }.get(name.rsplit(".", 1)[-1], _("Please check this field.")))


def helpers() -> dict:
    return {"field_label": field_label, "status_name": agency_status,
            "status_options": [(code, agency_status(code)) for code in AGENCY_STATUSES], "topic_kinds": topic_kinds(), "list_labels": lists.labels(), "list_parts": lists.PARTS}


def today() -> str:
    return dates.day_of(datetime.now(timezone.utc)).isoformat()  # Dhaka's day, as the directory judges it


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
                           new_titles={kind: new_title(kind) for kind in KINDS}, **helpers())


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
    """`values`: what was typed (a list the form did not send shows as read)."""
    values = {**lists.values_of(kind, entry), **values} if values is not None else form_values(kind, entry)
    return render_template("admin_guide_entry.html", kind=kind, entry=entry, fields=KINDS[kind]["fields"],
                           key=entry.get(KINDS[kind]["key"]), values=values, lists=lists.names(kind),
                           errors=errors or {}, done=done,
                           new_title=new_title(kind) if not entry else None, key_label=key_label(kind),
                           **helpers()), status


def form_values(kind: str, entry: dict) -> dict:
    """The entry as the form's flat fields: "name.bn", "name.en", "status", "documents.0.bn" ...;
    "last checked" is today: saving says the admin checked the entry now."""
    values = lists.values_of(kind, entry)
    for name, field_kind, _required in KINDS[kind]["fields"]:
        value = dig(entry, name)
        if field_kind in ("label", "paragraph"):
            values[f"{name}.bn"], values[f"{name}.en"] = (value or {}).get("bn", ""), (value or {}).get("en", "")
        else:
            values[name] = "" if value is None else value
    values["last_checked"] = today()
    return values


def posted_values(kind: str) -> dict:
    names = [f"{n}.{lang}" if k in ("label", "paragraph") else n for n, k, _r in KINDS[kind]["fields"]
             for lang in (("bn", "en") if k in ("label", "paragraph") else ("",))]
    return {**{name: request.form.get(name, "").strip() for name in names}, **lists.values_from(kind, request.form)}


def body_of(kind: str, values: dict, entry: dict) -> tuple[dict, dict]:
    """The whole entry to send (what the form does not show carried as read), and where each
    list item came from in the form (for the directory's refusals)."""
    shown, rows_of = lists.items(kind, values)
    body = {name: entry[name] for name in ("sources", *lists.names(kind)) if name in entry}
    body.update(shown)
    for name, field_kind, required in KINDS[kind]["fields"]:
        if field_kind in ("label", "paragraph"):
            pair = {"bn": values[f"{name}.bn"], "en": values[f"{name}.en"]}
            place(body, name, pair if (required or pair["bn"] or pair["en"]) else None)
        elif field_kind == "number":
            value = values[name]
            place(body, name, int(value) if value.isdigit() else (value or 0))
        else:
            place(body, name, values[name] if (required or values[name]) else None)
    return body, rows_of


def refused_fields(kind: str, exc: BackendError, rows_of: dict) -> dict:
    fields = lists.errors_by_row(exc.field_errors, rows_of)
    for name in exc.field_errors:
        if name.split(".", 1)[0] not in rows_of:
            fields[name] = field_sentence(name, kind_of(kind, name))
    return fields


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
    if not found:
        return not_found()
    return render_entry(kind, found, done=_("Added. Readers see it now.") if request.args.get("created") else None)


@bp.post("/<kind>/<key>")
@require("admin")
def save(kind: str, key: str):
    if kind not in KINDS:
        return not_found()
    values = posted_values(kind)
    version = request.form.get("version", "")
    current = read(kind, key)
    if current is None:
        return not_found()
    body, rows_of = body_of(kind, values, current)
    try:
        saved = directory().put(_path(kind, key), body, token(), if_match=f'"{version}"' if version.isdigit() else None)
    except BackendError as exc:
        if exc.status in (412, 428):
            now = read(kind, key) or current
            return render_entry(kind, now, errors={"form": _(
                "Someone else changed this entry after you opened it. Here it is as it is now; "
                "make your change again if it is still needed.")}, status=412)
        if exc.status != 422:
            raise
        errors = {"form": form_sentence(exc), "fields": refused_fields(kind, exc, rows_of)}
        return render_entry(kind, current, values=values, errors=errors, status=422)
    return render_entry(kind, saved, done=_("Saved. Readers see the change now."))


# -- a new entry -------------------------------------------------------------------------------------

def new_key(kind: str, typed: str) -> str:
    """The key as the directory spells it: licences and country codes in capitals, short names small."""
    return typed.upper() if kind in ("agencies", "countries") else typed.lower()


@bp.route("/new/<kind>", methods=["GET", "POST"])
@require("admin")
def create(kind: str):
    if kind not in KINDS:
        return not_found()
    if request.method == "GET":
        values = form_values(kind, {})
        values["key"] = ""
        return render_entry(kind, {}, values=values)
    values = {**posted_values(kind), "key": new_key(kind, request.form.get("key", "").strip())}
    body, rows_of = body_of(kind, values, {})
    errors: dict = {"form": None, "fields": {}}
    if not values["key"] or "/" in values["key"]:
        errors["fields"]["key"] = key_label(kind)
        return render_entry(kind, {}, values=values, errors=errors, status=422)
    try:
        saved = directory().put(_path(kind, values["key"]), body, token())  # no If-Match: create
    except BackendError as exc:
        if exc.status == 428:  # it exists: creating would replace it unseen
            errors["form"] = _("There is already an entry %(key)s. Open it from the list to change it.",
                               key=values["key"])
        elif exc.status in (404, 412):  # a key the directory cannot take
            errors["fields"]["key"] = key_label(kind)
        elif exc.status == 422:
            errors = {"form": form_sentence(exc), "fields": refused_fields(kind, exc, rows_of)}
        else:
            raise
        return render_entry(kind, {}, values=values, errors=errors, status=409 if exc.status == 428 else 422)
    return redirect(url_for("admin_guide.entry", kind=kind, key=saved[KINDS[kind]["key"]], created=1))
