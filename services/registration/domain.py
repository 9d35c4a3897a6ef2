"""The migrant record and the rules that change it. No I/O: callers pass the clock,
the reference and the actor, and store what comes back."""
from __future__ import annotations

from datetime import date, datetime

from shared.errors import Invalid

SUBJECT = "migrant"
REGISTERED = "registration.migrant.registered"
UPDATED = "registration.migrant.updated"
STEP_RECORDED = "registration.migrant.step_recorded"
MEMBERSHIP_ACTIVATED = "registration.migrant.membership_activated"

IDENTITY_FIELDS = ("nid", "birth_registration_number", "passport_number")
OPTIONAL_FIELDS = ("nid", "birth_registration_number", "passport_number", "recruiting_agency_licence")


def _stored(value):
    # MongoDB keeps datetimes, not dates; a date of birth is stored as midnight UTC.
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    return value


def new_migrant(details: dict, *, reference: str, actor: dict, now: datetime) -> dict:
    """A registration. `actor` is who registered them (and from which UDC, if assisted)."""
    record = {k: _stored(v) for k, v in details.items() if v is not None and k != "udc_centre"}
    record.update({
        "_id": reference,
        "reference": reference,
        "pre_departure_steps": {},
        "wewb_membership": None,
        "registered_by": {**actor, "udc_centre": actor.get("udc_centre"), "at": now},
        "version": 1,
        "created_at": now,
        "updated_at": now,
    })
    return record


def apply_update(migrant: dict, changes: dict, *, now: datetime) -> tuple[dict, list[str]]:
    """The record with `changes` applied, and the names of the fields that really changed."""
    changes = {k: _stored(v) for k, v in changes.items()}
    changed = sorted(k for k, v in changes.items() if migrant.get(k) != v)
    updated = {**migrant, **changes}
    for name in OPTIONAL_FIELDS:  # null clears an optional field; absent fields stay unindexed
        if updated.get(name) is None:
            updated.pop(name, None)
    if not updated.get("nid") and not updated.get("birth_registration_number"):
        raise Invalid({"nid": ["A migrant needs an NID or a birth registration number."]})
    if changed:
        updated.update(version=migrant["version"] + 1, updated_at=now)
    return updated, changed


def record_step(migrant: dict, *, step: str, when: date, reference: str, note: str | None,
                actor: dict, now: datetime) -> dict:
    steps = dict(migrant.get("pre_departure_steps") or {})
    steps[step] = {"date": _stored(when), "reference": reference, "note": note,
                   "recorded_by": actor["user"], "recorded_at": now}
    return {**migrant, "pre_departure_steps": steps, "version": migrant["version"] + 1, "updated_at": now}


def activate_membership(migrant: dict, *, number: str, valid_until: date, actor: dict, now: datetime) -> dict:
    membership = {"number": number, "valid_until": _stored(valid_until),
                  "activated_by": actor["user"], "activated_at": now}
    return {**migrant, "wewb_membership": membership, "version": migrant["version"] + 1, "updated_at": now}


# What subscribers keep of a migrant: sign-in and notifications reach and greet them.
# NID, passport, birth registration and birth date never leave this service (shared/contracts.py).
CONTACT_FIELDS = ("name_en", "name_bn", "phone")
# And where they went to work: claims reports by destination country. Not an identifier.
# And the recruiting agency that sent them (its licence, RL-<n>): the complaints scorecard
# counts the workers each agency sent. A business's licence, not the person's identifier.
PUBLISHED_FIELDS = (*CONTACT_FIELDS, "destination_country", "recruiting_agency_licence")
OPTIONAL_PUBLISHED = ("destination_country", "recruiting_agency_licence")


def event_data(migrant: dict) -> dict:
    """registration.migrant.registered: the reference, a name to greet, a phone, the destination
    country, the recruiting agency's licence (when they have one), and who registered them where."""
    by = migrant["registered_by"]
    return {"reference": migrant["reference"], **{k: migrant[k] for k in CONTACT_FIELDS},
            **{k: migrant[k] for k in OPTIONAL_PUBLISHED if migrant.get(k)},
            "registered_by": {k: by[k] for k in ("user", "role", "udc_centre") if by.get(k)}}


def update_event_data(migrant: dict, changed: list[str], actor: dict) -> dict:
    """registration.migrant.updated: which fields changed; new values only of the published fields
    (null: an optional one cleared, e.g. the recruiting agency's licence)."""
    return {"reference": migrant["reference"], "changed": changed, "by": actor,
            "values": {k: migrant.get(k) for k in changed if k in PUBLISHED_FIELDS}}


def step_event_data(migrant: dict, step: str, actor: dict) -> dict:
    """registration.migrant.step_recorded: which step and when; its document number stays here."""
    return {"reference": migrant["reference"], "step": step,
            "date": migrant["pre_departure_steps"][step]["date"], "by": actor}


def membership_event_data(migrant: dict, actor: dict) -> dict:
    membership = migrant["wewb_membership"]
    return {"reference": migrant["reference"], "number": membership["number"],
            "valid_until": membership["valid_until"], "by": actor}


# -- the UDC rule (shared/access.py) ---------------------------------------------------

def centres_serving(migrant: dict) -> set[str]:
    """The Union Digital Centres that registered or assisted this person."""
    registered_at = (migrant.get("registered_by") or {}).get("udc_centre")
    return {c for c in [registered_at, *migrant.get("assisted_at", [])] if c}


def note_assisted(migrant: dict, actor: dict) -> dict:
    """After an operator served the person in person, their centre serves them too."""
    centre = actor.get("udc_centre")
    if not actor.get("person_present") or not centre or centre in centres_serving(migrant):
        return migrant
    return {**migrant, "assisted_at": [*migrant.get("assisted_at", []), centre]}


def history_entry(event) -> dict:
    """A migrant's history line for an event, written in the transaction that raised it."""
    english, bangla = summary(event.type, event.data)
    return {"_id": event.id, "reference": event.subject.id, "type": event.type,
            "occurred_at": datetime.fromisoformat(event.occurred_at.replace("Z", "+00:00")),
            "summary": english, "summary_bn": bangla}


def summary(event_type: str, data: dict) -> tuple[str, str]:
    """One line for a migrant's history, in English and Bangla, for a status check on a basic phone."""
    if event_type == REGISTERED:
        by = data.get("registered_by") or {}
        where = f" at {by['udc_centre']}" if by.get("udc_centre") else ""
        return f"Registered{where}", "নিবন্ধন সম্পন্ন" + (f" ({by['udc_centre']})" if where else "")
    if event_type == UPDATED:
        return f"Details updated: {', '.join(data.get('changed', []))}", "তথ্য হালনাগাদ করা হয়েছে"
    if event_type == STEP_RECORDED:
        step = data.get("step", "")
        return f"Pre-departure step recorded: {step.replace('_', ' ')}", "বিদেশ যাত্রার পূর্ব ধাপ সম্পন্ন"
    if event_type == MEMBERSHIP_ACTIVATED:
        return f"WEWB membership active until {data.get('valid_until')}", "কল্যাণ বোর্ডের সদস্যপদ চালু হয়েছে"
    return event_type, event_type
