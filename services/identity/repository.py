"""MongoDB adapters of the identity service: staff accounts, refresh tokens (their SHA-256
only), the signing keys, and the key ring's guard document. A username is unique because
it is the account's _id, never by check-then-insert."""
from __future__ import annotations

from datetime import datetime

from pymongo import ASCENDING
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from shared.audit import AuditTrail
from shared.errors import PreconditionFailed
from shared.uow import Tx

from .otp_repository import OtpStore, PhoneBook

STAFF = "staff"
REFRESH_TOKENS = "refresh_tokens"
SIGNING_KEYS = "signing_keys"
KEY_RING = "key_ring"


class DuplicateUsername(Exception):
    pass


def ensure_indexes(db: Database) -> None:
    db[STAFF].create_index([("username", ASCENDING)], name="by_username")
    db[REFRESH_TOKENS].create_index([("family_id", ASCENDING)], name="by_family")
    db[REFRESH_TOKENS].create_index([("subject", ASCENDING)], name="by_subject")
    # A refresh token is kept a day past its expiry (a spent one presented late still
    # revokes its family until then), then the database removes it.
    db[REFRESH_TOKENS].create_index([("expires_at", ASCENDING)], name="expiry", expireAfterSeconds=24 * 3600)
    db[SIGNING_KEYS].create_index([("state", ASCENDING)], name="by_state")


class StaffRepository:
    def __init__(self, db: Database, session=None):
        self.collection = db[STAFF]
        self.session = session

    def add(self, account: dict) -> None:
        try:
            self.collection.insert_one(account, session=self.session)
        except DuplicateKeyError:
            raise DuplicateUsername(account["username"]) from None

    def get(self, username: str) -> dict | None:
        return self.collection.find_one({"_id": username}, session=self.session)

    def replace(self, account: dict, expected_version: int) -> None:
        result = self.collection.replace_one({"_id": account["_id"], "version": expected_version}, account,
                                             session=self.session)
        if result.matched_count == 0:
            raise PreconditionFailed("The account changed since it was read; fetch it again and reapply your change.")

    def any_admin(self) -> bool:
        return self.collection.find_one({"role": "admin"}, {"_id": 1}, session=self.session) is not None

    def page(self, limit: int, after: str | None) -> list[dict]:
        query = {"_id": {"$gt": after}} if after else {}
        return list(self.collection.find(query, session=self.session).sort([("_id", ASCENDING)]).limit(limit))


class RefreshTokenRepository:
    def __init__(self, db: Database, session=None):
        self.collection = db[REFRESH_TOKENS]
        self.session = session

    def add(self, record: dict) -> None:
        self.collection.insert_one(record, session=self.session)

    def get(self, token_hash: str) -> dict | None:
        return self.collection.find_one({"_id": token_hash}, session=self.session)

    def spend(self, token_hash: str, now: datetime) -> bool:
        """Marks it spent; False when it already was (or is revoked): a replay."""
        result = self.collection.update_one({"_id": token_hash, "spent_at": None, "revoked_at": None},
                                            {"$set": {"spent_at": now}}, session=self.session)
        return result.modified_count == 1

    def revoke_family(self, family_id: str, now: datetime, reason: str) -> int:
        result = self.collection.update_many({"family_id": family_id, "revoked_at": None},
                                             {"$set": {"revoked_at": now, "revoked_because": reason}},
                                             session=self.session)
        return result.modified_count

    def revoke_subject(self, subject: str, now: datetime, reason: str) -> int:
        result = self.collection.update_many({"subject": subject, "revoked_at": None},
                                             {"$set": {"revoked_at": now, "revoked_because": reason}},
                                             session=self.session)
        return result.modified_count


class SigningKeyRepository:
    def __init__(self, db: Database, session=None):
        self.collection = db[SIGNING_KEYS]
        self.ring = db[KEY_RING]
        self.session = session

    def guard(self) -> None:
        """Every change of the key ring writes this one document first, so two changes at
        once (two processes starting, two rotations) conflict and one of them runs again
        on what the other did, instead of both making keys."""
        self.ring.update_one({"_id": "ring"}, {"$inc": {"changes": 1}}, upsert=True, session=self.session)

    def add(self, key: dict) -> None:
        self.collection.insert_one(key, session=self.session)

    def in_state(self, *states: str) -> list[dict]:
        return list(self.collection.find({"state": {"$in": list(states)}}, session=self.session)
                    .sort([("created_at", ASCENDING), ("_id", ASCENDING)]))

    def all(self) -> list[dict]:
        return list(self.collection.find({}, session=self.session).sort([("created_at", ASCENDING), ("_id", ASCENDING)]))

    def set_state(self, kid: str, state: str, **fields) -> None:
        self.collection.update_one({"_id": kid}, {"$set": {"state": state, **fields}}, session=self.session)


class IdentityTx(Tx):
    def __init__(self, db, session, source):
        super().__init__(db, session, source)
        self.staff = StaffRepository(db, session)
        self.refresh_tokens = RefreshTokenRepository(db, session)
        self.keys = SigningKeyRepository(db, session)
        self.audit = AuditTrail(db, session)  # sign-ins and account changes commit with their record
        # one-time codes (otp package): the phones learned from events, the codes and requests
        self.phones = PhoneBook(db, session)
        self.otp = OtpStore(db, session)


class Reads:
    """Queries outside any transaction."""

    def __init__(self, db: Database):
        self.db = db
        self.staff = StaffRepository(db)
        self.keys = SigningKeyRepository(db)
        self.refresh_tokens = RefreshTokenRepository(db)
