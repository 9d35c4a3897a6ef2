"""MongoDB adapters of sign-in by SMS code: the phones identity learned from other services'
events (projections.py), the codes it sent (hashed, otp.py) and the requests the rate
limits count. Each is bound to a transaction's session, like every repository."""
from __future__ import annotations

from datetime import datetime

from pymongo import ASCENDING, DESCENDING
from pymongo.database import Database

PHONE_MIGRANTS = "phone_migrants"  # {_id: migrant reference, phone}
PHONE_CASES = "phone_cases"        # {_id: case id, kind: claim|complaint, phone}
OTP_CODES = "otp_codes"            # otp.issued
OTP_REQUESTS = "otp_requests"      # otp.request_record
# One row per phone and per client address, written by every request: two requests at once
# for one phone (or from one address) then conflict and one runs again, seeing the other,
# so a burst cannot all pass the limit together (inserting requests alone never conflicts).
OTP_REQUEST_GATES = "otp_request_gates"


def ensure_indexes(db: Database, keep_requests_seconds: int = 24 * 3600) -> None:
    db[PHONE_MIGRANTS].create_index("phone", name="by_phone")
    db[PHONE_CASES].create_index("phone", name="by_phone")
    db[OTP_CODES].create_index([("phone", ASCENDING), ("created_at", DESCENDING)], name="newest_of_phone")
    db[OTP_REQUESTS].create_index([("phone", ASCENDING), ("at", DESCENDING)], name="by_phone")
    db[OTP_REQUESTS].create_index([("client", ASCENDING), ("at", DESCENDING)], name="by_client")
    # Spent and expired codes, and requests past every window, are of no further use.
    db[OTP_CODES].create_index("expires_at", expireAfterSeconds=keep_requests_seconds, name="expiry")
    db[OTP_REQUESTS].create_index("at", expireAfterSeconds=keep_requests_seconds, name="expiry")


class PhoneBook:
    """Which migrant a phone is the own phone of, and which cases record it."""

    def __init__(self, db: Database, session=None):
        self.migrants = db[PHONE_MIGRANTS]
        self.cases = db[PHONE_CASES]
        self.session = session

    def set_migrant(self, reference: str, phone: str | None) -> None:
        self.migrants.replace_one({"_id": reference}, {"_id": reference, "phone": phone}, upsert=True,
                                  session=self.session)

    def set_case(self, case_id: str, kind: str, phone: str | None) -> None:
        # A case whose phone changes moves to the new phone: one row per case.
        self.cases.replace_one({"_id": case_id}, {"_id": case_id, "kind": kind, "phone": phone}, upsert=True,
                               session=self.session)

    def migrants_of(self, phone: str) -> list[str]:
        return sorted(row["_id"] for row in self.migrants.find({"phone": phone}, {"_id": 1}, session=self.session))

    def cases_of(self, phone: str) -> list[str]:
        return sorted(row["_id"] for row in self.cases.find({"phone": phone}, {"_id": 1}, session=self.session))

    def known(self, phone: str) -> bool:
        return bool(self.migrants_of(phone) or self.cases_of(phone))


class OtpStore:
    """Codes (newest per phone counts) and the requests the rate limits count."""

    def __init__(self, db: Database, session=None):
        self.codes = db[OTP_CODES]
        self.requests = db[OTP_REQUESTS]
        self.session = session

    def requests_since(self, phone: str, client: str, since: datetime) -> list[dict]:
        return list(self.requests.find({"$or": [{"phone": phone}, {"client": client}], "at": {"$gt": since}},
                                       session=self.session))

    def pass_gates(self, phone: str, client: str) -> None:
        gates = self.requests.database[OTP_REQUEST_GATES]
        for key in (f"phone:{phone}", f"client:{client}"):
            gates.update_one({"_id": key}, {"$inc": {"requests": 1}}, upsert=True, session=self.session)

    def add_request(self, record: dict) -> None:
        self.requests.insert_one(record, session=self.session)

    def add_code(self, record: dict) -> None:
        self.codes.insert_one(record, session=self.session)

    def newest_code(self, phone: str) -> dict | None:
        return self.codes.find_one({"phone": phone}, sort=[("created_at", DESCENDING), ("_id", DESCENDING)],
                                   session=self.session)

    def save_code(self, record: dict) -> None:
        self.codes.replace_one({"_id": record["_id"]}, record, session=self.session)
