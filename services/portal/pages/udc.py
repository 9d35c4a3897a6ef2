"""A UDC operator's pages, at the counter with the migrant (or their family) beside them: register
the person (registration's API; a duplicate names the registration that already exists), upload
their papers (documents' API; a phone's camera will do), file a claim (claims' API; a death grant
names the heirs, a scholarship the child and the exam) or a complaint (complaints' API: against
the recruiting agency, a sub-agent or the employer abroad) on their behalf, and print a receipt saying
what to bring next and where to go. Every write goes with the operator's own token, which names
their centre: the services record it, the portal never sends a centre of its own."""
from __future__ import annotations

from fractions import Fraction
from urllib.parse import quote

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _

from .. import i18n
from ..backends import BackendError
from ..signin import require, token
from . import legalaid_steps
from . import udc_forms as forms

bp = Blueprint("udc", __name__, url_prefix="/udc")
OPERATOR = "udc_operator"
HEIR_ROWS = 3
RELATIONS = ("spouse", "son", "daughter", "father", "mother", "brother", "sister", "other")
SEXES = ("female", "male", "third_gender")
MIGRANT_FIELDS = ("name_en", "name_bn", "date_of_birth", "sex", "nid", "passport_number", "phone", "district",
                  "upazila", "destination_country", "occupation")
EVENT_FIELDS = ("date", "country", "body_arrival_record", "requested_amount", "recovered_amount", "exam_level",
                "exam_year", "gpa")
CHILD_FIELDS = ("name_en", "name_bn", "birth_registration_number", "guardian_phone")
EXAM_LEVELS = ("ssc", "hsc")
# The claim types filed at a counter here: the worker's own, a deceased worker's heirs', a child's.
COUNTER_CLAIMANTS = ("worker", "heirs", "child")


def backends():
    return current_app.config["BACKENDS"]


def ref_path(reference: str) -> str:
    return quote(reference, safe="")


# -- the operator's start page ---------------------------------------------------------------------

@bp.get("")
@require(OPERATOR)
def home():
    reference = request.args.get("reference", "").strip().upper()
    if reference:
        return redirect(url_for("udc.person", reference=reference))
    return render_template("udc_home.html")


# -- registering someone ---------------------------------------------------------------------------

@bp.route("/migrants/new", methods=["GET", "POST"])
@require(OPERATOR)
def register():
    values = {name: request.form.get(name, "").strip() for name in MIGRANT_FIELDS}
    if request.method == "GET":
        return render_template("udc_register.html", values=values, errors={}, duplicate=None, sexes=sexes())
    body = {name: forms.ascii_digits(value) if name in ("nid", "phone", "date_of_birth") else value
            for name, value in values.items() if value}
    try:
        migrant = backends().registration.post("/migrants", body, token())
    except BackendError as exc:
        duplicate = None
        if exc.status == 409 and exc.problem.get("existing_reference"):
            duplicate = {"reference": exc.problem["existing_reference"], "field": exc.problem.get("field")}
        errors = forms.explain_fields(exc, MIGRANT_FIELDS) if not duplicate else {}
        return render_template("udc_register.html", values=values, errors=errors, duplicate=duplicate,
                               sexes=sexes()), 409 if duplicate else 422
    return redirect(url_for("udc.person", reference=migrant["reference"], registered=1))


def sexes() -> dict:
    return {"female": _("Female"), "male": _("Male"), "third_gender": _("Third gender")}


# -- one person: their record, papers and cases ----------------------------------------------------

@bp.get("/migrants/<reference>")
@require(OPERATOR)
def person(reference: str):
    migrant = forms.found(lambda: backends().registration.get(f"/migrants/{ref_path(reference)}", token()))
    return render_template("udc_person.html", migrant=migrant, **papers_and_cases(migrant["reference"]),
                           doc_types=forms.document_choices(), errors={}, registered=request.args.get("registered"))


def papers_and_cases(reference: str) -> dict:
    documents = forms.optional(lambda: backends().documents.get(f"/migrants/{ref_path(reference)}/documents",
                                                                token(), {"limit": 50}), not_yet={"items": []})
    claims = forms.optional(lambda: backends().claims.get("/claims", token(),
                                                          {"migrant_reference": reference, "limit": 20}))
    return {"documents": documents, "claims": claims}


@bp.post("/migrants/<reference>/documents")
@require(OPERATOR)
def upload(reference: str):
    doc_type = request.form.get("doc_type", "")
    case_id = request.form.get("case_id", "").strip()
    result = forms.upload(reference, doc_type, case_id)
    if result.get("errors"):
        migrant = forms.found(lambda: backends().registration.get(f"/migrants/{ref_path(reference)}", token()))
        return render_template("udc_person.html", migrant=migrant, **papers_and_cases(migrant["reference"]),
                               doc_types=forms.document_choices(), errors=result["errors"], registered=None), 422
    target = request.form.get("back", "")
    if target.startswith("/udc/claims/"):  # from a receipt: back to it, now with one paper fewer missing
        return redirect(i18n.safe_next(target))
    return redirect(url_for("udc.person", reference=reference, uploaded=doc_type))


# -- filing a claim --------------------------------------------------------------------------------

def counter_types() -> list[dict]:
    catalogue = backends().claims.get("/claim-types")
    return [t for t in catalogue.get("types", []) if t.get("claimants") in COUNTER_CLAIMANTS]


@bp.route("/migrants/<reference>/claims/new", methods=["GET", "POST"])
@require(OPERATOR)
def file_claim(reference: str):
    migrant = forms.found(lambda: backends().registration.get(f"/migrants/{ref_path(reference)}", token()))
    types = {t["code"]: t for t in counter_types()}
    code = request.values.get("type", "")
    claim_type = types.get(code)
    if claim_type is None:  # first: which claim
        return render_template("udc_claim_type.html", migrant=migrant, types=list(types.values()))
    form = request.form
    page = dict(migrant=migrant, claim_type=claim_type, form=form, heir_rows=range(HEIR_ROWS),
                relations=relations(), exam_levels={"ssc": _("SSC (secondary)"), "hsc": _("HSC (higher secondary)")},
                errors={})
    if request.method == "GET":
        return render_template("udc_claim.html", **page)
    body, errors = claim_body(migrant, claim_type, form)
    if not errors:
        try:
            claim = backends().claims.post("/claims", body, token())
        except BackendError as exc:
            errors = forms.explain_fields(exc, ("district", "note", *[f"event.{n}" for n in EVENT_FIELDS],
                                                *heir_field_names(), *[f"child.{n}" for n in CHILD_FIELDS]))
            if exc.status == 409 and claim_type.get("claimants") == "child":
                errors["form"] = _("This claim was filed for this child (and this exam) already. Open it from the "
                                   "worker's page.")
            elif exc.status == 409:
                errors["form"] = _("A claim of this kind was filed for this person already. Open it from their page.")
            elif exc.status == 404:  # claims has not heard of the registration yet
                errors["form"] = forms.just_registered()
        else:
            return redirect(url_for("udc.claim_receipt", claim_id=claim["claim_id"]))
    return render_template("udc_claim.html", **{**page, "errors": errors}), 422


def relations() -> dict:
    return {"spouse": _("Spouse"), "son": _("Son"), "daughter": _("Daughter"), "father": _("Father"),
            "mother": _("Mother"), "brother": _("Brother"), "sister": _("Sister"), "other": _("Other relative")}


def heir_field_names() -> list[str]:
    return [f"heirs.{n}.{name}" for n in range(HEIR_ROWS)
            for name in ("name_en", "name_bn", "relation", "nid", "phone", "share", "payout.method", "payout.provider",
                         "payout.account_number")]


def claim_body(migrant: dict, claim_type: dict, form) -> tuple[dict, dict]:
    """The filing, and the fields the portal can already tell are wrong (a share like "1/2")."""
    event = {}
    for name in claim_type.get("event_fields", []):
        value = forms.ascii_digits(form.get(f"event.{name}", "").strip())
        if name in ("requested_amount", "recovered_amount", "exam_year"):
            value = int(value) if value.isdigit() else value
        elif name == "gpa":
            value = forms.decimal(value)
        elif name == "country":
            value = value.upper()
        if value != "":
            event[name] = value
    body = {"type": claim_type["code"], "migrant_reference": migrant["reference"],
            "district": form.get("district", "").strip() or migrant.get("district", ""), "event": event}
    if form.get("note", "").strip():
        body["note"] = form["note"].strip()
    errors: dict = {"fields": {}}
    if claim_type.get("claimants") == "child":
        child = {name: form.get(f"child.{name}", "").strip() for name in CHILD_FIELDS}
        child["birth_registration_number"] = forms.ascii_digits(child["birth_registration_number"]).replace(" ", "")
        if child["guardian_phone"]:
            child["guardian_phone"] = forms.phone(child["guardian_phone"])
        body["child"] = {name: value for name, value in child.items() if value}
    if claim_type.get("claimants") == "heirs":
        heirs = []
        for n in range(HEIR_ROWS):
            row = {name: form.get(f"heirs.{n}.{name}", "").strip()
                   for name in ("name_en", "name_bn", "relation", "nid", "phone", "share", "payout.method",
                                "payout.provider", "payout.account_number")}
            if not any(v for k, v in row.items() if k not in ("relation", "payout.method")):
                continue  # an empty row
            share = forms.share(row["share"])
            if share is None:
                errors["fields"][f"heirs.{n}.share"] = _("Write the share as a fraction, for example 1/2.")
                continue
            heirs.append({"name_en": row["name_en"], "name_bn": row["name_bn"], "relation": row["relation"],
                          "nid": forms.ascii_digits(row["nid"]), "phone": forms.phone(row["phone"]),
                          "share": {"numerator": share.numerator, "denominator": share.denominator},
                          "payout": {"method": row["payout.method"], "provider": row["payout.provider"],
                                     "account_number": forms.ascii_digits(row["payout.account_number"])}})
        if not heirs and not errors["fields"]:
            errors["form"] = _("Name at least one heir, as the heirship certificate does.")
        elif heirs and sum((Fraction(h["share"]["numerator"], h["share"]["denominator"]) for h in heirs),
                           Fraction(0)) != 1:
            errors["form"] = _("The heirs' shares must add up to the whole (for example 1/2 and 1/2).")
        body["heirs"] = heirs
    return body, (errors if errors["fields"] or errors.get("form") else {})


# -- filing a complaint ----------------------------------------------------------------------------

COMPLAINT_FIELDS = ("name", "phone", "relation", "category", "district", "amount_claimed", "narrative",
                    "agency_name", "agency_licence", "sub_agent_name", "sub_agent_phone", "employer_name",
                    "employer_country")
COMPLAINT_TOPIC = "complaint"  # the directory's guide topic on complaints
# Whom a complaint is against: each part of the form the operator filled is one respondent.
RESPONDENTS = (("recruiting_agency", "agency", "licence"), ("sub_agent", "sub_agent", "phone"),
               ("employer_abroad", "employer", "country"))


@bp.route("/migrants/<reference>/complaints/new", methods=["GET", "POST"])
@require(OPERATOR)
def file_complaint(reference: str):
    migrant = forms.found(lambda: backends().registration.get(f"/migrants/{ref_path(reference)}", token()))
    categories = backends().complaints.get("/complaint-categories").get("items", [])
    values = {name: request.form.get(name, "").strip() for name in COMPLAINT_FIELDS}
    page = dict(migrant=migrant, categories=categories, values=values, errors={})
    if request.method == "GET":
        values.update(name=i18n.bilingual({"bn": migrant.get("name_bn"), "en": migrant.get("name_en")}),
                      phone=migrant.get("phone", ""), district=migrant.get("district", ""), relation="self",
                      employer_country=migrant.get("destination_country", ""))
        return render_template("udc_complaint.html", **page)
    amount = forms.ascii_digits(values["amount_claimed"]).replace(",", "")
    respondents, prefixes = complaint_respondents(values)
    body = {"complainant": {"migrant_reference": migrant["reference"], "name": values["name"],
                            "phone": forms.phone(values["phone"]), "relation": values["relation"] or "self"},
            "channel": "udc", "category": values["category"], "district": values["district"],
            "narrative": values["narrative"], "amount_claimed": int(amount) if amount.isdigit() else 0,
            "respondents": respondents}
    try:
        complaint = backends().complaints.post("/complaints", body, token())
    except BackendError as exc:
        errors = forms.explain_fields(exc, ("complainant", "category", "district", "amount_claimed", "narrative"))
        errors["fields"].update(respondent_errors(exc, prefixes))
        if "respondents" in exc.field_errors:
            errors["form"] = _("Say whom the complaint is against: the recruiting agency, a sub-agent or the "
                               "employer abroad.")
        if exc.status == 404:  # complaints has not heard of the registration yet
            errors = {"form": forms.just_registered(), "fields": {}}
        return render_template("udc_complaint.html", **{**page, "errors": errors}), 422
    return redirect(url_for("udc.complaint_receipt", complaint_id=complaint["complaint_id"]))


def complaint_respondents(values: dict) -> tuple[list[dict], list[str]]:
    """The respondents the form names, and the form part each came from (for the refusals)."""
    respondents, prefixes = [], []
    for kind, prefix, detail in RESPONDENTS:
        name, known = values[f"{prefix}_name"], values[f"{prefix}_{detail}"]
        if not (name or (known and detail != "country")):  # the country is filled in from the registration
            continue
        known = forms.phone(known) if detail == "phone" else known.upper()  # licences and countries in capitals
        respondents.append({"kind": kind, "name": name, detail: known})
        prefixes.append(prefix)
    return respondents, prefixes


def respondent_errors(error: BackendError, prefixes: list[str]) -> dict:
    """respondents.1.phone -> the sub-agent's phone field, with what to fix."""
    own, found = forms.field_sentences(), {}
    for key in error.field_errors:
        parts = key.split(".")
        if parts[0] != "respondents" or len(parts) < 3 or not parts[1].isdigit() or int(parts[1]) >= len(prefixes):
            continue
        detail = parts[2] if parts[2] in ("name", "licence", "phone", "country") else "name"
        found[f"{prefixes[int(parts[1])]}_{detail}"] = own.get(detail) or _("Please check this field.")
    return found


# -- receipts --------------------------------------------------------------------------------------

@bp.get("/claims/<claim_id>/receipt")
@require(OPERATOR)
def claim_receipt(claim_id: str):
    claim = forms.found(lambda: backends().claims.get(f"/claims/{quote(claim_id, safe='')}", token()))
    missing = [item for item in claim.get("checklist", []) if item.get("status") in ("missing", "rejected")]
    return render_template("udc_receipt_claim.html", claim=claim, missing=missing,
                           doc_types=forms.document_choices(), centre=centre())


@bp.get("/complaints/<complaint_id>/receipt")
@require(OPERATOR)
def complaint_receipt(complaint_id: str):
    complaint = forms.found(lambda: backends().complaints.get(f"/complaints/{quote(complaint_id, safe='')}",
                                                              token()))
    # What to bring and where else to turn, as the guide keeps them (the fixed words if it is away).
    guide = forms.optional(lambda: backends().directory.get(f"/guide/topics/{COMPLAINT_TOPIC}"))
    return render_template("udc_receipt_complaint.html", complaint=complaint, centre=centre(), guide=guide,
                           party_name=legalaid_steps.party_name)


def centre() -> str | None:
    import jwt  # the centre the operator's own sign-in names (shown on the receipt)
    claims = jwt.decode(token(), options={"verify_signature": False})
    return claims.get("udc_centre")


@bp.errorhandler(404)
def _not_found(_exc):
    return render_template("error.html", title=_("Page not found"),
                           message=_("We could not find that. Check the number and try again.")), 404

