"""Stand-ins for the services the web portal talks to, over real HTTP on 127.0.0.1, in the
shapes their APIs answer (claims' catalogue, documents' type names, the directory's guide and
agencies, identity's sign-in, case status's timelines). Used by the portal's unit and browser
tests; every request is recorded, so a test can check where tokens went."""
from __future__ import annotations

import json
import threading
import time
import uuid
from pathlib import Path

import jwt
from flask import Flask, jsonify, request
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.serving import make_server

from services.documents.doctypes import DEFAULT_DOCUMENT_TYPES
from services.registration.reference_data import district_list
from tests import portal_stub_admin, portal_stub_complaints

ROOT = Path(__file__).resolve().parent.parent
CODE = "123456"
PHONES = {"01712345678": {"role": "migrant", "migrant_ref": "PB-FXMK-RPFE"},
          "01812345678": {"role": "family", "cases": ["CLM-2026-R6HA9MGP"]}}
STAFF = {"selim.reza": ("ainer-pothe-nirapod-26", "legal_aid"),
         "nasrin.akter": ("kallyan-kormokorta-26", "welfare_officer"),
         "kamal.hossain": ("dwitiyo-onumodon-26", "welfare_officer"),
         portal_stub_admin.ADMIN[0]: (portal_stub_admin.ADMIN[1], "admin")}
OFFICER_ROLES = ("welfare_officer", "admin")
# A 1x1 PNG and the smallest PDF: what the vault would serve as a document's content.
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de0000000c4944415408d763f8cfc0"
                    "00000301010018dd8db00000000049454e44ae426082")
PDF = b"%PDF-1.1\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF"
CLAIM_ID = "CLM-2026-R6HA9MGP"


def officer_claims() -> dict:
    """The claims an officer's pages read: a death grant waiting on two documents (both uploaded,
    neither checked yet) and an overdue medical aid claim."""
    now = "2026-11-28T04:00:00+00:00"

    def claim(claim_id, kind, name_en, name_bn, status, district, due_at, overdue, checklist, heirs):
        return {"claim_id": claim_id, "type": kind, "name_en": name_en, "name_bn": name_bn,
                "catalogue_version": "2026.1", "catalogue_number": 1, "migrant_reference": "PB-FXMK-RPFE",
                "district": district, "destination_country": "SA", "status": status, "stage_since": now,
                "event": {"date": "2026-10-02", "country": "SA"}, "heirs": heirs, "child": None,
                "eligibility": [{"condition": "membership_active_on_event_date", "met": True,
                                 "detail": "Membership valid until 2027-01-10, active since 2024-01-10; active on "
                                           "2026-10-02.", "detail_code": "membership_active",
                                 "detail_args": {"valid_until": "2027-01-10", "since": "2024-01-10",
                                                 "on": "2026-10-02"}},
                                {"condition": "filed_within_days", "met": True,
                                 "detail": "Filed 49 days after the event; the limit is 365.",
                                 "detail_code": "filed_days_after_event", "detail_args": {"days": 49, "limit": 365}},
                                # a finding this portal has no words for yet: the service's English shows
                                {"condition": "clearance_recorded", "met": None,
                                 "detail": "Clearance check pending at BMET.", "detail_code": "bmet_pending",
                                 "detail_args": {}}],
                "eligibility_rules": [], "filed_on": "2026-11-20", "checklist": checklist,
                "amount_rule": {"kind": "fixed", "taka": 300000}, "target_days": {}, "note": None,
                "resume_to": None, "assignee": None, "recommendation": None, "decision": None, "rejection": None,
                "approved_amount": None, "payments": [], "paid_total": 0, "version": 3, "created_at": now,
                "updated_at": now, "overdue": overdue, "overdue_stages": [],
                "clock": {"stage": status, "started_at": now, "running_since": now, "counted_seconds": 0,
                          "paused_for": None, "mission": {"since": None, "counted_seconds": 0, "waits": 0},
                          "due_at": due_at}}

    heirs = [{"heir_id": 1, "name_en": "Rahima Begum", "name_bn": "রহিমা বেগম", "relation": "spouse",
              "share": {"numerator": 1, "denominator": 1}}]
    return {
        CLAIM_ID: claim(CLAIM_ID, "death_grant", "Death grant", "মৃত্যু অনুদান", "documents_pending", "Cumilla",
                        "2026-12-20T18:00:00+00:00", None,
                        [{"doc_types": ["death_certificate"], "status": "uploaded", "document_id": "DOC-7KQ3M9XCA2B4",
                          "reason": None},
                         {"doc_types": ["heirship_certificate"], "status": "uploaded",
                          "document_id": "DOC-9PLM2WQE5TZX", "reason": None}], heirs),
        "CLM-2026-OVERDUE1": claim("CLM-2026-OVERDUE1", "medical_aid", "Medical aid", "চিকিৎসা সহায়তা",
                                   "under_review", "Tangail", "2026-11-01T18:00:00+00:00",
                                   {"stage": "under_review", "due_at": "2026-11-01T18:00:00+00:00",
                                    "marked_at": "2026-11-02T00:00:00+00:00"}, [], None),
    }


def officer_documents() -> dict:
    def document(document_id, doc_type, content_type, content):
        return {"document_id": document_id, "owner": "PB-FXMK-RPFE", "doc_type": doc_type, "current_version": 1,
                "status": "pending", "case_ids": [CLAIM_ID], "deleted": None, "content": content,
                "current": {"version": 1, "content_type": content_type, "size": len(content), "verification": None}}
    return {"DOC-7KQ3M9XCA2B4": document("DOC-7KQ3M9XCA2B4", "death_certificate", "image/png", PNG),
            "DOC-9PLM2WQE5TZX": document("DOC-9PLM2WQE5TZX", "heirship_certificate", "application/pdf", PDF)}

TOPICS = [
    {"id": "passport", "kind": "migration_paper", "title": {"bn": "পাসপোর্ট", "en": "Passport"},
     "summary": {"bn": "আঞ্চলিক পাসপোর্ট অফিস থেকে ই-পাসপোর্ট", "en": "An e-passport from the regional passport office"},
     "last_checked": "2026-11-20"},
    {"id": "complaint", "kind": "complaint", "title": {"bn": "অভিযোগ করুন", "en": "Make a complaint"},
     "summary": {"bn": "প্রতারণা বা বেতন না পেলে", "en": "Fraud or unpaid wages"}, "last_checked": "2026-11-20"},
]
TOPIC = {**TOPICS[0], "who_may_apply": {"bn": "বাংলাদেশের যেকোনো নাগরিক", "en": "Any citizen of Bangladesh"},
         "documents": [{"bn": "জাতীয় পরিচয়পত্র", "en": "National ID card"},
                       {"bn": "জন্ম নিবন্ধন সনদ", "en": "Birth registration certificate"}],
         "forms": [{"title": {"bn": "অনলাইন আবেদন", "en": "Online application"}, "url": "https://www.epassport.gov.bd"},
                   {"title": {"bn": "ক্ষতিকর লিংক", "en": "Bad link"}, "url": "javascript:alert(1)"}],
         "amounts": {"bn": "৪,০২৫ টাকা থেকে", "en": "From Tk 4,025"},
         "time_limits": {"bn": "১৫ কর্মদিবস", "en": "15 working days"},
         "where_to_go": [{"bn": "আঞ্চলিক পাসপোর্ট অফিস", "en": "The regional passport office"}],
         "sources": [{"title": "Department of Immigration and Passports", "url": "https://www.dip.gov.bd"}]}
AGENCIES = [
    {"licence_number": "RL-1234", "name": {"bn": "আল-নূর ওভারসিজ", "en": "Al-Noor Overseas"}, "status": "valid",
     "valid_until": "2027-06-30", "last_checked": "2026-11-25"},
    {"licence_number": "RL-0666", "name": {"bn": "দ্রুত ভিসা লিমিটেড", "en": "Quick Visa Ltd <b>"},
     "status": "cancelled", "valid_until": "2025-01-31", "last_checked": "2026-11-25"},
]
COUNTRIES = [
    {"code": "SA", "name": {"bn": "সৌদি আরব", "en": "Saudi Arabia"},
     "mission": {"name": {"bn": "বাংলাদেশ দূতাবাস, রিয়াদ", "en": "Embassy of Bangladesh, Riyadh"},
                 "labour_wing": {"phone": "+966112345678", "email": "labour.riyadh@example.org",
                                 "address": {"bn": "রিয়াদ", "en": "Riyadh"}, "url": None}},
     "note": None, "last_checked": "2026-11-28", "sources": []},
    {"code": "MY", "name": {"bn": "মালয়েশিয়া", "en": "Malaysia"},
     "mission": {"name": {"bn": "বাংলাদেশ হাইকমিশন, কুয়ালালামপুর", "en": "Bangladesh High Commission, Kuala Lumpur"},
                 "labour_wing": None},
     "note": {"bn": "শ্রম উইংয়ের ফোন এখনো দেওয়া হয়নি", "en": "The labour wing's phone is not listed yet"},
     "last_checked": "2026-11-28", "sources": []},
]
LINKS = [{"id": "bmet", "title": {"bn": "বিএমইটি", "en": "BMET"}, "url": "https://www.bmet.gov.bd",
          "purpose": {"bn": "নিবন্ধন ও স্মার্ট কার্ড", "en": "Registration and smart card"}, "last_checked": "2026-11-20"},
         {"id": "bibhui", "title": {"bn": "বিভূঁই", "en": "Bibhui"}, "url": None,
          "purpose": {"bn": "প্রাক-বহির্গমন ওরিয়েন্টেশন", "en": "Pre-departure orientation"},
          "note": {"bn": "ঠিকানা যাচাই চলছে", "en": "Address being confirmed"}, "last_checked": "2026-11-20"}]


def token_for(who: dict, ttl: int = 900) -> str:
    now = int(time.time())
    claims = {"iss": "probashi", "sub": who.get("sub", f"migrant:{who.get('migrant_ref')}"), "iat": now, "jti": uuid.uuid4().hex,
              "exp": now + ttl, **{k: v for k, v in who.items() if k != "sub"}}
    return jwt.encode(claims, "stub-signature-the-portal-does-not-check", algorithm="HS256")


def problem(status: int, slug: str, detail: str, errors: dict | None = None, headers: dict | None = None, **extra):
    body = {"type": f"urn:probashi:problem:{slug}", "title": slug, "status": status, "detail": detail, **extra}
    if errors:
        body["errors"] = errors
    response = jsonify(body)
    response.status_code, response.mimetype = status, "application/problem+json"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


class StubServices:
    def __init__(self):
        self.requests: list[dict] = []
        self.down: set[str] = set()  # paths answering 503
        self.tokens: dict[str, dict] = {}  # access token -> who
        self.refresh: dict[str, dict] = {}
        self.signed_out: list[str] = []
        self.access_ttl = 900
        self.steps: list = []  # complaint steps taken (portal_stub_complaints)
        self.claims, self.documents = officer_claims(), officer_documents()
        self.payment_references: set[str] = set()
        self.app = self._app()
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()

    def urls(self) -> dict:
        return {**{name: self.url for name in ("IDENTITY_URL", "REGISTRATION_URL", "DOCUMENTS_URL", "CLAIMS_URL",
                                               "CASESTATUS_URL", "DIRECTORY_URL")},
                "COMPLAINTS_URL": f"{self.url}/complaints"}

    def pair(self, who: dict) -> dict:
        access, refresh = token_for(who, self.access_ttl), f"refresh-{len(self.refresh)}-{time.time_ns()}"
        self.tokens[access], self.refresh[refresh] = who, who
        return {"access_token": access, "refresh_token": refresh, "token_type": "Bearer", "expires_in": self.access_ttl}

    def who(self):
        header = request.headers.get("Authorization", "")
        return self.tokens.get(header.removeprefix("Bearer ")) if header.startswith("Bearer ") else None

    def _app(self) -> Flask:
        app, stub = Flask("stub"), self
        catalogue = json.loads((ROOT / "services/claims/catalogue.json").read_text(encoding="utf-8"))

        @app.before_request
        def record():
            stub.requests.append({"method": request.method, "path": request.full_path,
                                  "authorization": request.headers.get("Authorization"),
                                  "if_match": request.headers.get("If-Match")})
            if request.path in stub.down:
                return problem(503, "unavailable", "down for the test")

        @app.get("/api/v1/claim-types")
        def claim_types():
            return {"number": 1, "version": catalogue["version"], "effective_from": catalogue["effective_from"],
                    "types": catalogue["types"]}

        @app.get("/api/v1/document-types")
        def document_types():
            return {"items": [t._asdict() for t in DEFAULT_DOCUMENT_TYPES]}

        @app.get("/api/v1/districts")
        def districts():
            return {"items": district_list()}

        @app.get("/api/v1/guide/topics")
        def topics():
            return {"items": [{k: t[k] for k in ("id", "kind", "title", "summary", "last_checked")}
                              for t in stub.topics.values()]}

        @app.get("/api/v1/guide/topics/<topic_id>")
        def topic(topic_id):
            if topic_id not in stub.topics:
                return problem(404, "not-found", "No guide topic with that identifier.")
            found = stub.topics[topic_id]
            return found, 200, {"ETag": f'"{found["version"]}"'}

        @app.get("/api/v1/agencies")
        def agencies():
            q = request.args.get("q", "").lower()
            found = [a for a in stub.agencies.values() if q in a["licence_number"].lower() or q in a["name"]["en"].lower()
                     or q in a["name"]["bn"]]
            return {"items": found, "next_cursor": None}

        @app.get("/api/v1/agencies/<licence>")
        def agency(licence):
            for a in stub.agencies.values():
                if a["licence_number"] == licence.upper():
                    return a, 200, {"ETag": f'"{a["version"]}"'}
            return problem(404, "not-found", "No agency with that licence.")

        @app.get("/api/v1/countries")
        def countries():
            return {"items": list(stub.countries.values())}

        @app.get("/api/v1/links")
        def links():
            return {"items": list(stub.links.values())}

        @app.post("/api/v1/otp/requests")
        def otp_request():
            phone = (request.get_json() or {}).get("phone", "")
            if phone == "01700000429":
                return problem(429, "too-many-requests", "Too many codes.", headers={"Retry-After": "600"})
            if not (phone.startswith("01") and len(phone) == 11):
                return problem(422, "validation", "Some fields are not valid; see errors.",
                               {"phone": ["Not a Bangladesh mobile number."]})
            return {"sent": True, "expires_in": 300}, 202

        @app.post("/api/v1/otp/verifications")
        def otp_verify():
            body = request.get_json() or {}
            who = PHONES.get(body.get("phone"))
            if body.get("code") != CODE or not who:
                return problem(401, "code-refused", "The code is not valid.")
            return stub.pair(dict(who))

        @app.post("/api/v1/sessions")
        def staff_sign_in():
            body = request.get_json() or {}
            known = STAFF.get(body.get("username"))
            if not known or body.get("password") not in (known[0], "temporary-pass"):
                return problem(401, "unauthorized", "Wrong username or password.")
            if body["password"] == "temporary-pass" and not body.get("new_password"):
                return problem(403, "password-change-required", "This password is temporary.")
            return stub.pair({"sub": body["username"], "role": known[1], "preferred_username": body["username"]})

        @app.post("/api/v1/tokens/refresh")
        def refresh():
            who = stub.refresh.pop((request.get_json() or {}).get("refresh_token"), None)
            if who is None:
                return problem(401, "invalid-refresh-token", "Sign in again.")
            return stub.pair(who)

        @app.post("/api/v1/sessions/sign-out")
        def sign_out():
            token = (request.get_json() or {}).get("refresh_token")
            stub.signed_out.append(token)
            stub.refresh.pop(token, None)
            return "", 204

        def entries(lang):
            bn = lang == "bn"
            return [{"id": "e2", "type": "claims.claim.paid", "occurred_at": "2026-11-28T09:05:00Z",
                     "when": "২৮ নভেম্বর ২০২৬, ১৫:০৫" if bn else "28 November 2026, 15:05",
                     "text": "টাকা পাঠানো হয়েছে" if bn else "Payment sent", "replayed": False,
                     "case": {"id": "CLM-2026-R6HA9MGP", "kind": "claim", "title": "মৃত্যু অনুদান" if bn else "Death grant"}},
                    {"id": "e1", "type": "claims.claim.filed", "occurred_at": "2026-11-20T04:00:00Z",
                     "when": "২০ নভেম্বর ২০২৬, ১০:০০" if bn else "20 November 2026, 10:00",
                     "text": "<b>আবেদন</b> জমা হয়েছে" if bn else "<b>Claim</b> filed", "replayed": False,
                     "case": {"id": "CLM-2026-R6HA9MGP", "kind": "claim", "title": "x"}}]

        def next_steps(lang):
            bn = lang == "bn"
            return {"case_id": "CLM-2026-R6HA9MGP", "kind": "claim", "title": "মৃত্যু অনুদান" if bn else "Death grant",
                    "status": "paid", "steps": ["টাকা আপনার ব্যাংক হিসাবে যাবে" if bn else "The money goes to your bank account"],
                    "office": "জেলা কর্মসংস্থান ও জনশক্তি অফিস" if bn else "District employment and manpower office",
                    "missing_documents": [{"doc_types": ["heirship_certificate"], "state": "missing", "reason": None}],
                    "next_hearing": None, "amount": 300000}

        @app.get("/api/v1/migrants/<reference>/timeline")
        def migrant_timeline(reference):
            who = stub.who()
            if who is None:
                return problem(401, "unauthorized", "A token is needed.")
            if who.get("role") == "migrant" and who.get("migrant_ref") != reference:
                return problem(403, "forbidden", "Your own timeline only.")
            lang = request.args.get("lang", "bn")
            return {"migrant_reference": reference, "lang": lang, "items": entries(lang), "next_cursor": None,
                    "open_cases": [next_steps(lang)]}

        @app.get("/api/v1/cases/<case_id>/timeline")
        def case_timeline(case_id):
            who = stub.who()
            if who is None:
                return problem(401, "unauthorized", "A token is needed.")
            if case_id != "CLM-2026-R6HA9MGP" or (who.get("role") == "family" and case_id not in who.get("cases", [])):
                return problem(403, "forbidden", "Not your case.")
            lang = request.args.get("lang", "bn")
            return {"case_id": case_id, "kind": "claim", "title": "মৃত্যু অনুদান" if lang == "bn" else "Death grant",
                    "status": "paid", "lang": lang, "items": entries(lang), "next_cursor": None,
                    "next_steps": next_steps(lang)}

        self._officer_routes(app)
        portal_stub_admin.add_routes(app, stub, problem)
        portal_stub_admin.add_guide_routes(app, stub, problem, AGENCIES, LINKS, COUNTRIES, [TOPIC, TOPICS[1]])
        portal_stub_admin.add_catalogue_routes(app, stub, problem, catalogue)
        # Complaints answers on a path of its own: its routes (/queue) share names with claims'.
        complaints = Flask("stub-complaints")
        complaints.before_request(record)
        portal_stub_complaints.add_routes(complaints, stub, problem)
        app.wsgi_app = DispatcherMiddleware(app.wsgi_app, {"/complaints": complaints.wsgi_app})
        return app

    def reset_claims(self) -> None:
        self.claims, self.documents = officer_claims(), officer_documents()
        self.payment_references = set()

    def _officer_routes(self, app: Flask) -> None:
        """Claims' queue, claim, history, steps and reports; documents' record, content and verification."""
        stub = self

        def officer():
            who = stub.who()
            if who is None:
                return None, problem(401, "unauthorized", "A token is needed.")
            if who.get("role") not in OFFICER_ROLES:
                return None, problem(403, "forbidden", "Officers only.")
            return who, None

        def found(claim_id):
            claim = stub.claims.get(claim_id)
            return claim, None if claim else problem(404, "not-found", "No claim with that id.")

        @app.get("/api/v1/queue")
        def due_queue():
            who, refused = officer()
            if refused:
                return refused
            items = sorted(stub.claims.values(), key=lambda c: (c["clock"]["due_at"] or "9", c["claim_id"]))
            for name in ("status", "type", "district", "assignee"):
                if request.args.get(name):
                    items = [c for c in items if c.get(name) == request.args[name]]
            if request.args.get("overdue") in ("true", "false"):
                items = [c for c in items if bool(c["overdue"]) == (request.args["overdue"] == "true")]
            start = int(request.args.get("cursor", "0") or 0)
            limit = int(request.args.get("limit", 20))
            page = items[start:start + limit]
            more = str(start + limit) if start + limit < len(items) else None
            return {"items": page, "next_cursor": more}

        @app.get("/api/v1/claims/<claim_id>")
        def get_claim(claim_id):
            who, refused = officer()
            claim, missing = found(claim_id)
            return refused or missing or (claim, 200, {"ETag": f'"{claim["version"]}"'})

        @app.get("/api/v1/claims/<claim_id>/history")
        def claim_history(claim_id):
            who, refused = officer()
            claim, missing = found(claim_id)
            if refused or missing:
                return refused or missing
            return {"items": claim.setdefault("_history", [
                {"event_id": "h1", "type": "claims.claim.submitted", "occurred_at": "2026-11-20T04:00:00Z",
                 "summary": "Claim filed", "summary_bn": "আবেদন জমা হয়েছে", "status": "documents_pending"}]),
                "next_cursor": None}

        def changed(claim, status, summary, summary_bn, **fields):
            claim.update(fields)
            claim["version"] += 1
            if status:
                claim["status"] = status
            claim.setdefault("_history", []).insert(0, {
                "event_id": f"h{claim['version']}", "type": "claims.claim.changed",
                "occurred_at": "2026-11-28T05:00:00Z", "summary": summary, "summary_bn": summary_bn,
                "status": claim["status"]})

        @app.post("/api/v1/claims/<claim_id>/<step>")
        def claim_step(claim_id, step):
            who, refused = officer()
            claim, missing = found(claim_id)
            if refused or missing:
                return refused or missing
            tag = request.headers.get("If-Match")
            if not tag:
                return problem(428, "precondition-required", "Send If-Match.")
            if tag.strip('"') != str(claim["version"]):
                return problem(412, "precondition-failed", "The claim changed since it was read.")
            body, status = request.get_json() or {}, claim["status"]
            reviewable = ("documents_pending", "under_review", "review_requested", "recommended")
            allowed = {"approval": reviewable, "rejection": reviewable, "payment-order": ("approved",),
                       "payments": ("payment_ordered",), "information-requests": reviewable[:3],
                       "information-received": ("awaiting_information",)}
            if step not in allowed:
                return problem(404, "not-found", "No such step.")
            if status not in allowed[step]:
                return problem(409, "illegal-transition", f"Not from {status}.", None)
            user = who.get("sub")
            if step == "approval":
                amount = body.get("amount", 300000)
                if amount > 300000:
                    return problem(422, "validation", "Above the cap.", {"amount": ["At most Tk 300000."]})
                if status != "recommended":
                    changed(claim, "recommended", "Approval recommended", "অনুমোদনের সুপারিশ",
                            recommendation={"amount": amount, "by": user})
                elif claim["recommendation"]["by"] == user:
                    return problem(403, "forbidden", "You recommended this amount; another officer approves it.")
                else:
                    changed(claim, "approved", "Approved", "অনুমোদিত", approved_amount=amount,
                            decision={"amount": amount, "by": user})
            elif step == "rejection":
                missing_fields = {n: ["Missing data for required field."] for n in ("reason_code", "reason_en",
                                                                                  "reason_bn") if not body.get(n)}
                if missing_fields:
                    return problem(422, "validation", "Some fields are not valid; see errors.", missing_fields)
                changed(claim, "rejected", "Rejected", "নামঞ্জুর", rejection=body)
            elif step == "payment-order":
                changed(claim, "payment_ordered", "Payment ordered", "টাকা দেওয়ার আদেশ হয়েছে")
            elif step == "payments":
                if body.get("reference") in stub.payment_references:
                    return problem(409, "conflict", f"Payment reference {body['reference']} is already recorded.",
                                   existing_claim=None)
                remaining = claim["approved_amount"] - claim["paid_total"]
                if body.get("amount", 0) > remaining:
                    return problem(409, "conflict", f"Tk {body.get('amount')} is more than the Tk {remaining} still to pay.",
                                   remaining=remaining)
                stub.payment_references.add(body.get("reference"))
                total = claim["paid_total"] + body["amount"]
                changed(claim, "paid" if total == claim["approved_amount"] else None, "Payment recorded",
                        "টাকা পাঠানো হয়েছে", paid_total=total, payments=[*claim["payments"], body])
            elif step == "information-requests":
                changed(claim, "awaiting_information", "Information requested", "তথ্য চাওয়া হয়েছে",
                        information_request=body)
            else:
                changed(claim, "under_review", "Information received", "তথ্য পাওয়া গেছে")
            return claim, 200, {"ETag": f'"{claim["version"]}"'}

        def public(document):
            return {k: v for k, v in document.items() if k != "content"}

        @app.get("/api/v1/documents/<document_id>")
        def get_document(document_id):
            who, refused = officer()
            document = stub.documents.get(document_id)
            return refused or (public(document) if document else problem(404, "not-found", "No such document."))

        @app.get("/api/v1/documents/<document_id>/content")
        def document_content(document_id):
            evidence = portal_stub_complaints.evidence_content(stub, problem, document_id)
            if evidence is not None:
                return evidence
            who, refused = officer()
            document = stub.documents.get(document_id)
            if refused or not document:
                return refused or problem(404, "not-found", "No such document.")
            return document["content"], 200, {"Content-Type": document["current"]["content_type"],
                                              "Cache-Control": "private, no-store"}

        @app.post("/api/v1/documents/<document_id>/verification")
        def verify_document(document_id):
            who, refused = officer()
            document = stub.documents.get(document_id)
            if refused or not document:
                return refused or problem(404, "not-found", "No such document.")
            body = request.get_json() or {}
            if body.get("decision") == "rejected" and len(body.get("reason") or "") < 3:
                return problem(422, "validation", "Some fields are not valid; see errors.",
                               {"reason": ["Shorter than minimum length 3."]})
            if body.get("version") != document["current_version"]:
                return problem(409, "conflict", "Not the current version.")
            document["status"] = body["decision"]
            document["current"]["verification"] = {"status": body["decision"], "reason": body.get("reason")}
            # What claims does when the vault's event arrives: tick the item, move on when all are verified.
            for claim in stub.claims.values():
                for item in claim["checklist"]:
                    if item["document_id"] == document_id:
                        item.update(status=body["decision"], reason=body.get("reason"))
                        everything = all(i["status"] == "verified" for i in claim["checklist"])
                        moved = "under_review" if everything and claim["status"] == "documents_pending" else None
                        changed(claim, moved, "Checklist updated", "কাগজের তালিকা হালনাগাদ হয়েছে")
            return public(document)

        @app.get("/api/v1/claim-reports")
        def claim_reports():
            who, refused = officer()
            if refused:
                return refused
            if request.args.get("from") == "not-a-date":
                return problem(422, "validation", "Some fields are not valid; see errors.",
                               {"from": ["Not a valid date."]})
            figures = {"withdrawn": 0, "amount_approved": 0, "median_days_to_decision": None,
                       "median_days_to_payment": None}
            rows = [{"type": "death_grant", "type_name_en": "Death grant", "type_name_bn": "মৃত্যু অনুদান",
                     "claims": 12, "approved": 9, "rejected": 1, "paid": 7, "amount_paid": 2100000, **figures},
                    {"type": "medical_aid", "type_name_en": "Medical aid <b>", "type_name_bn": "চিকিৎসা সহায়তা",
                     "claims": 30, "approved": 21, "rejected": 4, "paid": 20, "amount_paid": 1000000, **figures}]
            total = {k: sum(r[k] for r in rows) for k in ("claims", "approved", "rejected", "paid", "amount_paid")}
            return {"from": request.args.get("from") or "2026-01-01", "to": request.args.get("to") or "2026-11-28",
                    "type": None, "district": None, "group_by": [request.args.get("group_by", "type")],
                    "rows": rows, "total": {**figures, **total}}
