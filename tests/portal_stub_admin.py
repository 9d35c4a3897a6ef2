"""Identity's staff administration for the portal's tests (tests/portal_stub.py registers it): the
accounts by username (keyset pages), a new account and a password reset answering the temporary
password once, deactivation and unlock with If-Match (428/412), in the real shapes. Bodies are
loaded with identity's own schemas, so a 422 names the fields as the service does."""
from __future__ import annotations

import copy
import json
import re

from flask import jsonify, request
from marshmallow import ValidationError

from services.identity.schemas import DeactivationSchema, StaffCreateSchema

NOW = "2026-11-28T04:00:00+00:00"
EXPIRES = "2026-12-01T04:00:00+00:00"
ADMIN = ("farida.yasmin", "proshashoner-kaj-26")  # the admin who signs in to the stand-ins


def account(username, full_name, role, district, udc_centre=None, **more) -> dict:
    return {"username": username, "full_name": full_name, "role": role, "district": district,
            "udc_centre": udc_centre, "status": "active", "must_change_password": False, "failed_attempts": 0,
            "lock_count": 0, "locked_until": None, "created_at": NOW, "created_by": {"user": "bootstrap", "role": "admin"},
            "updated_at": NOW, "last_signed_in_at": None, "password_changed_at": NOW, "version": 1, **more}


def accounts() -> dict:
    found = [account(ADMIN[0], "Farida Yasmin", "admin", "Dhaka"),
             account("kamal.hossain", "Kamal Hossain", "welfare_officer", "Tangail"),
             account("moni.locked", "Moni Akter", "udc_operator", "Cumilla", "UDC Daudkandi",
                     failed_attempts=5, lock_count=1, locked_until="2026-11-28T05:00:00+00:00"),
             account("nasrin.akter", "Nasrin Akter", "welfare_officer", "Cumilla"),
             account("selim.reza", "Selim Reza", "legal_aid", "Dhaka")]
    return {a["username"]: a for a in found}


def add_routes(app, stub, problem) -> None:
    """`stub.staff_accounts` by username; `stub.reset_staff()` starts them again. Pages of 2 here,
    so the portal's paging is exercised with few accounts."""

    def reset():
        stub.staff_accounts = accounts()
        stub.temporary_count = 0
    stub.reset_staff = reset
    reset()

    def admin():
        who = stub.who()
        if who is None:
            return None, problem(401, "unauthorized", "A token is needed.")
        if who.get("role") != "admin":
            return None, problem(403, "forbidden", "Admins only.")
        return who, None

    def etagged(record: dict, status: int = 200):
        response = jsonify(record)
        response.status_code = status
        response.headers["ETag"] = f'"{record["version"]}"'
        response.headers["Cache-Control"] = "no-store"
        return response

    def invalid(errors: dict):
        return problem(422, "validation", "Some fields are not valid; see errors.", errors)

    def temporary(record: dict) -> dict:
        stub.temporary_count += 1
        return {**record, "temporary_password": f"vorsa-{stub.temporary_count}-nodi-akash",
                "temporary_password_expires_at": EXPIRES}

    @app.get("/api/v1/staff")
    def list_staff():
        who, refused = admin()
        if refused:
            return refused
        names = sorted(stub.staff_accounts)
        cursor = request.args.get("cursor")
        if cursor and cursor not in names:
            return invalid({"cursor": ["Not a cursor from this API; start again without it."]})
        start = names.index(cursor) + 1 if cursor else 0
        limit = min(int(request.args.get("limit", 20)), 2)
        chosen = names[start:start + limit]
        more = start + limit < len(names)
        return {"items": [stub.staff_accounts[n] for n in chosen], "next_cursor": chosen[-1] if more else None}

    @app.post("/api/v1/staff")
    def create_staff():
        who, refused = admin()
        if refused:
            return refused
        try:
            body = StaffCreateSchema().load(request.get_json() or {})
        except ValidationError as exc:
            return invalid(exc.messages)
        if body["role"] == "udc_operator" and not body.get("udc_centre"):
            return invalid({"udc_centre": ["A UDC operator works at a Union Digital Centre: name it."]})
        if body["role"] != "udc_operator" and body.get("udc_centre"):
            return invalid({"udc_centre": ["Only a UDC operator works at a Union Digital Centre."]})
        if body["username"] in stub.staff_accounts:
            return problem(409, "conflict", f"The username {body['username']} is taken; choose another.")
        record = account(body["username"], body["full_name"], body["role"], body["district"], body.get("udc_centre"),
                         must_change_password=True, created_by={"user": who["sub"], "role": "admin"})
        stub.staff_accounts[record["username"]] = record
        return etagged(temporary(record), 201)

    @app.get("/api/v1/staff/<username>")
    def get_staff(username):
        who, refused = admin()
        if refused:
            return refused
        if username not in stub.staff_accounts:
            return problem(404, "not-found", f"No staff account {username}.")
        return etagged(stub.staff_accounts[username])

    def step(username, change):
        who, refused = admin()
        if refused:
            return None, refused
        record = stub.staff_accounts.get(username)
        if record is None:
            return None, problem(404, "not-found", f"No staff account {username}.")
        if_match = request.headers.get("If-Match")
        if not if_match:
            return None, problem(428, "precondition-required", "If-Match is needed.")
        if if_match != f'"{record["version"]}"':
            return None, problem(412, "precondition-failed", "The account changed since you read it.")
        if record["status"] == "deactivated":
            return None, problem(409, "conflict", "The account is deactivated: nothing more can be done to it.",
                                 allowed=[])
        changed = copy.deepcopy(record)
        refusal = change(changed, who)
        if refusal is not None:
            return None, refusal
        changed["version"] += 1
        stub.staff_accounts[username] = changed
        return changed, None

    @app.post("/api/v1/staff/<username>/deactivation")
    def deactivate(username):
        try:
            body = DeactivationSchema().load(request.get_json() or {})
        except ValidationError as exc:
            return invalid(exc.messages)

        def change(record, who):
            if record["username"] == who["sub"]:
                return problem(409, "conflict", "An admin cannot deactivate their own account; another admin can.",
                               allowed=["password-reset", "unlock"])
            record.update(status="deactivated", deactivated_at=NOW, deactivated_because=body["reason"])
        done, refused = step(username, change)
        return refused or etagged(done)

    @app.post("/api/v1/staff/<username>/password-reset")
    def reset_password(username):
        def change(record, who):
            record.update(must_change_password=True, failed_attempts=0, locked_until=None)
        done, refused = step(username, change)
        return refused or etagged(temporary(done))

    @app.post("/api/v1/staff/<username>/unlock")
    def unlock(username):
        def change(record, who):
            record.update(failed_attempts=0, locked_until=None)
        done, refused = step(username, change)
        return refused or etagged(done)


# -- the directory's guide entries an admin keeps (agencies, links) --------------------------------

def guide_entries(agencies: list, links: list, countries: list, topics: list) -> tuple[dict, dict, dict, dict]:
    """The stand-in's entries as the directory answers one: every body field, a version."""
    base = {"note": None, "sources": [], "version": 1, "updated_at": NOW}
    return ({a["licence_number"]: {**base, "address": None, "phone": None, **copy.deepcopy(a)} for a in agencies},
            {link["id"]: {**base, **copy.deepcopy(link)} for link in links},
            {c["code"]: {**base, **copy.deepcopy(c)} for c in countries},
            {t["id"]: {**base, "who_may_apply": None, "documents": [], "forms": [], "amounts": None, "time_limits": None,
                       "where_to_go": [], "position": 0, **copy.deepcopy(t)} for t in topics})


def add_guide_routes(app, stub, problem, agencies: list, links: list, countries: list, topics: list) -> None:
    """PUT with If-Match as the directory takes it (no If-Match: 428 for an entry that exists), bodies
    loaded with its own schemas; `stub.reset_guide()` starts the entries again."""
    from services.directory.schemas import AgencyBodySchema, CountryBodySchema, LinkBodySchema, TopicBodySchema

    def reset():
        stub.agencies, stub.links, stub.countries, stub.topics = guide_entries(agencies, links, countries, topics)
    stub.reset_guide = reset
    reset()

    def put(store, key, id_field, schema):
        who = stub.who()
        if who is None:
            return problem(401, "unauthorized", "A token is needed.")
        if who.get("role") != "admin":
            return problem(403, "forbidden", "Admins only.")
        try:
            body = schema().load(request.get_json() or {})
        except ValidationError as exc:
            return problem(422, "validation", "Some fields are not valid; see errors.", exc.messages)
        body = json.loads(json.dumps(body, default=str))  # dates as the JSON answer has them
        entry, if_match = store.get(key), request.headers.get("If-Match")
        if not valid_key(key):
            return problem(404, "not-found", "The path cannot name an entry.")
        if entry is None and if_match:
            return problem(412, "precondition-failed", "No such entry yet: send no If-Match to create it.")
        if entry is not None and not if_match:
            return problem(428, "precondition-required", "If-Match is needed to replace an entry.")
        if entry is not None and if_match != f'"{entry["version"]}"':
            return problem(412, "precondition-failed", "The entry changed since you read it.")
        replaced = {id_field: key, **body, "version": (entry or {"version": 0})["version"] + 1, "updated_at": NOW}
        store[key] = replaced
        response = jsonify(replaced)
        response.status_code = 201 if entry is None else 200
        response.headers["ETag"] = f'"{replaced["version"]}"'
        return response

    def valid_key(key: str) -> bool:  # the directory's own spellings (services/directory/domain.py)
        return bool(re.fullmatch(r"RL-\d{1,6}|[A-Z]{2}|[a-z][a-z0-9_-]{1,39}", key))

    @app.put("/api/v1/agencies/<licence>")
    def put_agency(licence):
        return put(stub.agencies, licence, "licence_number", AgencyBodySchema)

    @app.get("/api/v1/links/<link_id>")
    def get_link(link_id):
        link = stub.links.get(link_id)
        if link is None:
            return problem(404, "not-found", "No link with that identifier.")
        return link, 200, {"ETag": f'"{link["version"]}"'}

    @app.put("/api/v1/links/<link_id>")
    def put_link(link_id):
        return put(stub.links, link_id, "id", LinkBodySchema)

    @app.get("/api/v1/countries/<code>")
    def get_country(code):
        country = stub.countries.get(code.upper())
        if country is None:
            return problem(404, "not-found", "No country with that code.")
        return country, 200, {"ETag": f'"{country["version"]}"'}

    @app.put("/api/v1/countries/<code>")
    def put_country(code):
        return put(stub.countries, code, "code", CountryBodySchema)

    @app.put("/api/v1/guide/topics/<topic_id>")
    def put_topic(topic_id):
        return put(stub.topics, topic_id, "id", TopicBodySchema)


# -- the claims service's catalogue versions (an admin publishes the next) --------------------------

def add_catalogue_routes(app, stub, problem, shipped: dict) -> None:
    """Versions newest first, one version, and publishing with If-Match on the latest, checked by
    the claims service's own catalogue code; `stub.reset_catalogue()` starts again from the file."""
    from services.claims import catalogue as catalogue_module
    from shared.fields import today_in_bangladesh

    def version(number, raw, by=None):
        return {"number": number, "version": raw["version"], "effective_from": raw["effective_from"],
                "state": "in_force" if number == 1 else "scheduled", "codes": [t["code"] for t in raw["types"]],
                "published_by": by, "published_at": NOW, "types": raw["types"]}

    def reset():
        stub.catalogue_versions = [version(1, shipped)]
    stub.reset_catalogue = reset
    reset()

    def staff(roles):
        who = stub.who()
        if who is None:
            return problem(401, "unauthorized", "A token is needed.")
        if who.get("role") not in roles:
            return problem(403, "forbidden", "Not for your role.")
        return None

    @app.get("/api/v1/claim-types/versions")
    def catalogue_versions():
        refused = staff(("welfare_officer", "legal_aid", "udc_operator", "admin"))
        if refused:
            return refused
        items = [{k: v for k, v in row.items() if k != "types"} for row in reversed(stub.catalogue_versions)]
        response = jsonify({"items": items, "next_cursor": None})
        response.headers["ETag"] = f'"{len(stub.catalogue_versions)}"'
        return response

    @app.get("/api/v1/claim-types/versions/<int:number>")
    def catalogue_version(number):
        refused = staff(("welfare_officer", "legal_aid", "udc_operator", "admin"))
        if refused:
            return refused
        if not 1 <= number <= len(stub.catalogue_versions):
            return problem(404, "not-found", "No such version.")
        return stub.catalogue_versions[number - 1]

    @app.post("/api/v1/claim-types/versions")
    def publish_catalogue():
        refused = staff(("admin",))
        if refused:
            return refused
        raw = request.get_json() or {}
        missing = {k: ["Missing data for required field."] for k in ("version", "effective_from", "types") if k not in raw}
        if missing:
            return problem(422, "validation", "Some fields are not valid; see errors.", missing)
        if not request.headers.get("If-Match"):
            return problem(428, "precondition-required", "If-Match is needed.")
        if request.headers["If-Match"] != f'"{len(stub.catalogue_versions)}"':
            return problem(412, "precondition-failed", "Another version was published since you read.")
        try:
            parsed = catalogue_module.parse(raw)
        except catalogue_module.CatalogueError as exc:
            return problem(422, "validation", f"The catalogue cannot be published: {exc}", {"catalogue": [str(exc)]})
        if str(parsed.effective_from) < str(today_in_bangladesh()):
            return problem(422, "validation", "Too early.", {"effective_from": ["A new version takes effect today or later."]})
        if any(row["version"] == raw["version"] for row in stub.catalogue_versions):
            return problem(409, "conflict", f"The label {raw['version']} is taken.")
        who = stub.who()
        row = version(len(stub.catalogue_versions) + 1, raw, {"user": who["sub"], "role": "admin"})
        stub.catalogue_versions.append(row)
        return row, 201
