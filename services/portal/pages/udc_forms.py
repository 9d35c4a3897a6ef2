"""What the counter's forms and the migrant's upload form share: numbers typed in Bangla digits,
phone numbers as the services store them, a refusal's sentences by field, and sending a photo or
PDF to the documents vault with the signed-in person's token."""
from __future__ import annotations

import re
from fractions import Fraction

from flask import abort, current_app, request
from flask_babel import gettext as _

from .. import labels
from ..backends import BackendDown, BackendError
from ..errors import explain, field_sentence
from ..signin import token

# The vault takes 20 MiB (DOCUMENT_MAX_BYTES); a phone's photo is a few MB. Only the upload forms
# accept a body this large: every other form keeps the portal's 64 KB (app.py).
UPLOAD_MAX_BYTES = 20 * 1024 * 1024 + 64 * 1024
UPLOAD_ENDPOINTS = frozenset({"udc.upload", "papers.upload"})
BANGLA_DIGITS = str.maketrans("০১২৩৪৫৬৭৮৯", "0123456789")


def allow_uploads(app) -> None:
    """Registered before CSRF's check (which reads the form), so the limit applies in time."""
    @app.before_request
    def _upload_limit():
        if request.endpoint in UPLOAD_ENDPOINTS:
            request.max_content_length = UPLOAD_MAX_BYTES


def ascii_digits(text: str) -> str:
    return text.translate(BANGLA_DIGITS)


def phone(text: str) -> str:
    """01712-345678, +880 1712 345678, ০১৭১২৩৪৫৬৭৮ -> +8801712345678 (else as typed, for the service to refuse)."""
    digits = re.sub(r"[\s()-]", "", ascii_digits(text))
    if re.fullmatch(r"01\d{9}", digits):
        return "+88" + digits
    if re.fullmatch(r"8801\d{9}", digits):
        return "+" + digits
    return digits


def decimal(text: str):
    """A GPA like 4.50 (in either script) as a number; else as typed, for the service to refuse."""
    try:
        return float(ascii_digits(text).replace(",", "."))
    except ValueError:
        return text


def share(text: str) -> Fraction | None:
    match = re.fullmatch(r"\s*(\d{1,4})\s*/\s*(\d{1,4})\s*", ascii_digits(text))
    if not match or int(match.group(2)) == 0 or int(match.group(1)) == 0:
        return None
    return Fraction(int(match.group(1)), int(match.group(2)))


def found(fetch):
    """A record the page is about: a refusal to show it is the page's 404 (or 403)."""
    try:
        return fetch()
    except BackendError as exc:
        if exc.status == 403:
            abort(403)
        if exc.status in (400, 404, 422):
            abort(404)
        raise


def optional(fetch, not_yet=None):
    """A part of a page: None when its service is away or refuses (the rest still shows);
    `not_yet` when it answers 404 (e.g. the vault has not heard of a new registration yet)."""
    try:
        return fetch()
    except BackendError as exc:
        return not_yet if exc.status == 404 else None
    except BackendDown:
        return None


def just_registered() -> str:
    """A service that has not heard of a registration yet: it learns of it by an event, a moment later."""
    return _("This registration is still reaching the other services (it takes a moment after registering). "
             "Please try again in a minute.")


def field_sentences() -> dict:
    """What to fix, by the field's last name part (heirs.0.nid -> nid), in the page's language."""
    return {
        "nid": _("Enter the NID number: 10, 13 or 17 digits."),
        "date_of_birth": _("Enter the date of birth as on the NID or birth certificate."),
        "name_bn": _("Write the name in Bangla letters."),
        "name_en": _("Write the name in English letters."),
        "district": _("Enter one of Bangladesh's 64 districts, for example Cumilla."),
        "destination_country": _("Enter the country's two letters, for example SA for Saudi Arabia."),
        "country": _("Enter the country's two letters, for example SA for Saudi Arabia."),
        "passport_number": _("Enter the passport number as printed: 1 or 2 letters, then 7 or 8 digits."),
        "date": _("Enter the date it happened; it cannot be in the future."),
        "account_number": _("Enter the account or wallet number: 4 to 34 letters or digits."),
        "licence": _("Enter the licence number, for example RL-1234."),
        "narrative": _("Write what happened in at least 20 letters."),
        "name": _("Write the name as the person is known."),
        "phone": _("Enter a Bangladesh mobile number, for example 01712345678."),
        "guardian_phone": _("Enter a Bangladesh mobile number, for example 01712345678."),
        "birth_registration_number": _("Enter the birth registration number: 17 digits."),
        "exam_level": _("Choose SSC or HSC."),
        "exam_year": _("Enter the year of the exam, for example 2026."),
        "gpa": _("Enter the GPA from 1.00 to 5.00, for example 4.50."),
    }


def explain_fields(error: BackendError, fields) -> dict:
    """explain(), with nested fields (event.date, heirs.0.nid) beside their own input and a
    sentence that says what to fix for the fields a counter's form has."""
    result = explain(error, tuple(fields))
    own = field_sentences()
    placed = []
    for key in error.field_errors:
        parts = key.split(".")
        # The input nearest the refused value: heirs.0.share.numerator is beside heirs.0.share.
        shown = next((".".join(parts[:n]) for n in range(len(parts), 0, -1) if ".".join(parts[:n]) in fields), None)
        if shown:
            result["fields"][shown] = own.get(parts[-1]) or field_sentence(key)
            placed.append(key)
    if error.status == 422 and placed and len(placed) == len(error.field_errors):
        result["form"] = None  # every sentence is beside its field
    return result


def document_choices() -> dict:
    """{code: name in the page's language} of the vault's document types."""
    return {code: labels.document_name(code) for code in labels.document_types()}


def upload(owner: str, doc_type: str, case_id: str = "") -> dict:
    """Sends the form's file to the vault. {"document": ...} or {"errors": {...}} to show by the form."""
    file = request.files.get("file")
    if file is None or not file.filename:
        return {"errors": {"form": None, "fields": {"file": _("Choose a file or take a photo.")}, "doc_type": doc_type}}
    data = {"owner": owner, "doc_type": doc_type, **({"case_id": case_id} if case_id else {})}
    files = {"file": (file.filename, file.stream, file.mimetype or "application/octet-stream")}
    try:
        document = current_app.config["BACKENDS"].documents.call("POST", "/documents", token(), data=data,
                                                                 files=files)
    except BackendError as exc:
        errors = explain(exc, ("file", "doc_type"))
        if exc.status == 413:
            errors["fields"]["file"] = _("This file is too large. A photo or a PDF of up to 20 MB is taken.")
        elif "owner" in exc.field_errors:
            errors["fields"]["file"] = just_registered()
        elif exc.status == 415 or "file" in exc.field_errors:
            errors["fields"]["file"] = _("This file was not taken: send a photo (JPEG, PNG or WebP) or a PDF.")
        errors["doc_type"] = doc_type
        return {"errors": errors}
    return {"document": document}
