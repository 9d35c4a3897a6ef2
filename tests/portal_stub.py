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
from werkzeug.serving import make_server

from services.documents.doctypes import DEFAULT_DOCUMENT_TYPES
from tests import portal_stub_complaints

ROOT = Path(__file__).resolve().parent.parent
CODE = "123456"
PHONES = {"01712345678": {"role": "migrant", "migrant_ref": "PB-FXMK-RPFE"},
          "01812345678": {"role": "family", "cases": ["CLM-2026-R6HA9MGP"]}}
STAFF = {"selim.reza": ("ainer-pothe-nirapod-26", "legal_aid")}

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


def problem(status: int, slug: str, detail: str, errors: dict | None = None, headers: dict | None = None):
    body = {"type": f"urn:probashi:problem:{slug}", "title": slug, "status": status, "detail": detail}
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
        self.app = self._app()
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()

    def urls(self) -> dict:
        return {name: self.url for name in ("IDENTITY_URL", "REGISTRATION_URL", "DOCUMENTS_URL", "CLAIMS_URL",
                                            "COMPLAINTS_URL", "CASESTATUS_URL", "DIRECTORY_URL")}

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
                                  "authorization": request.headers.get("Authorization")})
            if request.path in stub.down:
                return problem(503, "unavailable", "down for the test")

        @app.get("/api/v1/claim-types")
        def claim_types():
            return {"number": 1, "version": catalogue["version"], "effective_from": catalogue["effective_from"],
                    "types": catalogue["types"]}

        @app.get("/api/v1/document-types")
        def document_types():
            return {"items": [t._asdict() for t in DEFAULT_DOCUMENT_TYPES]}

        @app.get("/api/v1/guide/topics")
        def topics():
            return {"items": TOPICS}

        @app.get("/api/v1/guide/topics/<topic_id>")
        def topic(topic_id):
            if topic_id != TOPIC["id"]:
                return problem(404, "not-found", "No guide topic with that identifier.")
            return TOPIC

        @app.get("/api/v1/agencies")
        def agencies():
            q = request.args.get("q", "").lower()
            found = [a for a in AGENCIES if q in a["licence_number"].lower() or q in a["name"]["en"].lower()
                     or q in a["name"]["bn"]]
            return {"items": found, "next_cursor": None}

        @app.get("/api/v1/agencies/<licence>")
        def agency(licence):
            for a in AGENCIES:
                if a["licence_number"] == licence.upper():
                    return a
            return problem(404, "not-found", "No agency with that licence.")

        @app.get("/api/v1/countries")
        def countries():
            return {"items": COUNTRIES}

        @app.get("/api/v1/links")
        def links():
            return {"items": LINKS}

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

        portal_stub_complaints.add_routes(app, stub, problem)
        return app
