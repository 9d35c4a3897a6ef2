"""The notifications API (services/casestatus/notifications_api.py) on the real database:
staff list notifications with filters and keyset pages, every list audited; the people
notified stop them or choose their language for their own phone; staff for a named phone.
Registered on an Api here the way the case-status api.py registers it."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from services.casestatus import notifications
from services.casestatus.notification_repository import NotificationTx, ensure_indexes, stores
from services.casestatus.notifications_api import build_service, register
from shared import mongo
from shared.auth import issue_token
from shared.http.api import Api
from shared.http.app import create_app
from shared.uow import MongoUnitOfWork

pytestmark = pytest.mark.integration

MIGRANT, OTHER = "PB-2345-6789", "PB-ABCD-EFGH"
MIGRANT_PHONE, HEIR_PHONE, OTHER_PHONE = "+8801711111111", "+8801822222222", "+8801933333333"
T0 = datetime(2026, 11, 28, 4, 0, tzinfo=timezone.utc)


class Desk:
    def __init__(self, infra):
        self.settings = infra.settings("casestatus")
        self.db = mongo.database(self.settings)
        ensure_indexes(self.db)
        self.uow = MongoUnitOfWork(self.db, "casestatus", NotificationTx)
        self.outbox, self.preferences = stores(self.db)
        api = Api("casestatus")
        register(api, build_service(self.uow, self.db, migrant_phone={MIGRANT: MIGRANT_PHONE}.get))
        self.app = create_app(self.settings, api, title="casestatus", description="test", readiness={},
                              configure_logging=False)
        self.http = self.app.test_client()

    def token(self, role, **claims):
        subject = claims.pop("subject", f"test-{role}")
        return {"Authorization": "Bearer " + issue_token(self.settings, subject=subject, role=role, audience="casestatus",
                                                        **claims)}

    def staff(self, role="welfare_officer"):
        return self.token(role, subject="officer-1", **({"udc_centre": "UDC-01"} if role == "udc_operator" else {}))

    def family(self, phone=HEIR_PHONE):
        return self.token("family", subject=f"family:{phone}", cases=["CLM-1"])

    def migrant(self, reference=MIGRANT):
        return self.token("migrant", migrant_ref=reference)

    def queue(self, n, to, migrant=MIGRANT, state="queued", **fields):
        at = T0 + timedelta(minutes=n)
        planned = [{"_id": notifications.key(f"evt-{n}", to), "event_id": f"evt-{n}", "to": to, "language": "bn",
                    "text": f"text {n}", "urgent": False, "send_at": at, "state": "queued"}]
        self.uow.run(lambda tx: tx.notifications.queue(planned, at, migrant=migrant))
        if state != "queued":
            self.db.notifications.update_one({"_id": planned[0]["_id"]}, {"$set": {"state": state, **fields}})
        return planned[0]["_id"]

    def list(self, headers=None, **query):
        return self.http.get("/api/v1/notifications", query_string=query, headers=headers or self.staff())

    def put(self, headers, body):
        return self.http.put("/api/v1/notification-preferences", json=body, headers=headers)


@pytest.fixture
def desk(infra):
    return Desk(infra)


@pytest.fixture
def five(desk):
    return [desk.queue(0, MIGRANT_PHONE),
            desk.queue(1, MIGRANT_PHONE, state="sent", sent_at=T0, attempts=1, gateway_id="gw-1", segments=2),
            desk.queue(2, HEIR_PHONE, state="failed", attempts=3, last_error="503 gateway busy"),
            desk.queue(3, OTHER_PHONE, migrant=OTHER),
            desk.queue(4, HEIR_PHONE, state="failed", attempts=1, last_error="400 not a mobile number")]


def test_staff_page_through_notifications_newest_first(desk, five):
    seen, cursor = [], None
    for _ in range(3):
        answer = desk.list(limit=2, **({"cursor": cursor} if cursor else {}))
        assert answer.status_code == 200, answer.json
        seen += [item["id"] for item in answer.json["items"]]
        cursor = answer.json["next_cursor"]
    assert seen == list(reversed(five)) and cursor is None


def test_each_notification_shows_its_state_attempts_error_and_times_with_the_phone_in_full(desk, five):
    items = {item["id"]: item for item in desk.list().json["items"]}
    sent, failed = items[five[1]], items[five[2]]
    assert sent["state"] == "sent" and sent["attempts"] == 1 and sent["to"] == MIGRANT_PHONE
    assert sent["sent_at"].startswith("2026-11-28T04:00") and sent["gateway_id"] == "gw-1" and sent["segments"] == 2
    assert failed["state"] == "failed" and failed["last_error"] == "503 gateway busy" and failed["sent_at"] is None
    assert failed["send_at"].startswith("2026-11-28T04:02") and failed["migrant"] == MIGRANT


@pytest.mark.parametrize("query, expected", [
    ({"state": "failed"}, [4, 2]),
    ({"phone": "01822-222222"}, [4, 2]),  # any spelling registration takes
    ({"migrant": OTHER}, [3]),
    ({"event_id": "evt-1"}, [1]),
    ({"state": "failed", "phone": HEIR_PHONE, "limit": 1}, [4]),
    ({"state": "cancelled"}, []),
])
def test_staff_filter_notifications(desk, five, query, expected):
    answer = desk.list(**query)
    assert answer.status_code == 200, answer.json
    assert [item["id"] for item in answer.json["items"]] == [five[n] for n in expected]


def test_every_list_is_audited_with_what_it_showed(desk, five):
    desk.list(state="failed")
    (record,) = desk.db.audit.find({"action": "search", "subject_type": "notification"})
    assert record["actor"] == {"user": "officer-1", "role": "welfare_officer"}
    assert record["details"] == {"query": {"state": "failed"}, "found": [five[4], five[2]]}


@pytest.mark.parametrize("who", ["migrant", "family"])
def test_only_staff_list_notifications(desk, five, who):
    answer = desk.list(headers=getattr(desk, who)())
    assert answer.status_code == 403 and answer.content_type == "application/problem+json"
    assert desk.http.get("/api/v1/notifications").status_code == 401


@pytest.mark.parametrize("query, field", [
    ({"state": "lost"}, "state"), ({"phone": "12345"}, "phone"), ({"limit": "0"}, "limit"),
    ({"limit": "many"}, "limit"), ({"cursor": "not-a-cursor"}, "cursor"), ({"migrant": ""}, "migrant"),
])
def test_a_bad_query_is_a_json_problem_naming_the_field(desk, query, field):
    answer = desk.list(**query)
    assert answer.status_code == 422 and answer.content_type == "application/problem+json"
    assert field in answer.json["errors"]


def test_a_family_member_stops_notifications_to_their_own_phone(desk):
    answer = desk.put(desk.family(), {"opted_out": True})
    assert answer.status_code == 200, answer.json
    assert answer.json == {"phone": HEIR_PHONE, "language": "bn", "opted_out": True}
    assert desk.http.get("/api/v1/notification-preferences", headers=desk.family()).json == answer.json
    assert desk.preferences.for_phones([HEIR_PHONE, MIGRANT_PHONE]) == {HEIR_PHONE: {"language": None,
                                                                                      "opted_out": True}}
    (record,) = desk.db.audit.find({"action": "set_preferences"})
    assert record["subject_id"] == HEIR_PHONE and record["details"] == {"opted_out": True}
    # and resumes them, in English; the earlier choice of opting out is replaced, not kept
    answer = desk.put(desk.family(), {"opted_out": False, "language": "en", "phone": "01822222222"})
    assert answer.json == {"phone": HEIR_PHONE, "language": "en", "opted_out": False}


def test_a_family_member_cannot_change_another_phone(desk):
    answer = desk.put(desk.family(), {"opted_out": True, "phone": OTHER_PHONE})
    assert answer.status_code == 403
    assert desk.preferences.for_phones([OTHER_PHONE]) == {}


def test_a_migrant_changes_the_phone_registration_gave_and_no_other(desk):
    answer = desk.put(desk.migrant(), {"language": "en"})
    assert answer.status_code == 200 and answer.json["phone"] == MIGRANT_PHONE and answer.json["language"] == "en"
    assert desk.put(desk.migrant(), {"language": "en", "phone": OTHER_PHONE}).status_code == 403
    unknown = desk.put(desk.migrant(OTHER), {"opted_out": True})  # no phone known for them yet
    assert unknown.status_code == 404 and "Union Digital Centre" in unknown.json["detail"]


def test_staff_change_a_named_phone_on_the_persons_behalf_audited(desk):
    assert desk.put(desk.staff("udc_operator"), {"opted_out": True}).status_code == 403  # whose? staff name it
    answer = desk.put(desk.staff("udc_operator"), {"opted_out": True, "phone": OTHER_PHONE})
    assert answer.status_code == 200 and answer.json["opted_out"]
    (record,) = desk.db.audit.find({"action": "set_preferences"})
    assert record["actor"] == {"user": "officer-1", "role": "udc_operator", "udc_centre": "UDC-01"}
    read = desk.http.get("/api/v1/notification-preferences", query_string={"phone": OTHER_PHONE},
                         headers=desk.staff())
    assert read.json["opted_out"] and desk.db.audit.count_documents({"action": "read"}) == 1
    assert desk.http.get("/api/v1/notification-preferences", headers=desk.staff()).status_code == 403


def test_the_document_says_a_change_sends_opted_out_or_language(desk):
    schema = desk.http.get("/openapi.json").json["components"]["schemas"]["PreferenceChange"]
    assert schema["anyOf"] == [{"required": ["opted_out"]}, {"required": ["language"]}]


@pytest.mark.parametrize("body", [{}, {"opted_out": "yes"}, {"opted_out": 1}, {"language": "fr"},
                                  {"opted_out": True, "colour": "red"}, {"opted_out": True, "phone": "123"}])
def test_a_bad_preference_change_is_a_json_problem_and_changes_nothing(desk, body):
    answer = desk.put(desk.family(), body)
    assert answer.status_code == 422 and answer.content_type == "application/problem+json"
    assert desk.preferences.for_phones([HEIR_PHONE]) == {}


def test_a_malformed_body_is_a_400_json_problem(desk):
    answer = desk.http.put("/api/v1/notification-preferences", data=b'{"opted_out": tru',
                           content_type="application/json", headers=desk.family())
    assert answer.status_code == 400 and answer.content_type == "application/problem+json"
    assert answer.json["title"] == "Malformed JSON"
    answer = desk.http.put("/api/v1/notification-preferences", data=b"[]", content_type="application/json",
                           headers=desk.family())
    assert answer.status_code == 400


def test_the_openapi_document_lists_the_routes(desk):
    paths = desk.http.get("/openapi.json").json["paths"]
    assert {"get"} <= set(paths["/api/v1/notifications"]) and {"get", "put"} <= set(
        paths["/api/v1/notification-preferences"])


def test_the_case_status_api_serves_them_with_the_phone_registration_gave(infra):
    from services.casestatus import api as casestatus_api
    from services.casestatus.repository import FactsRepository, empty_facts

    desk = Desk(infra)
    FactsRepository(desk.db).put({**empty_facts(MIGRANT), "phone": {"value": MIGRANT_PHONE, "stamp": [1, "e-1"]}})
    http = casestatus_api.create(desk.settings, configure_logging=False).test_client()
    answer = http.put("/api/v1/notification-preferences", json={"opted_out": True}, headers=desk.migrant())
    assert answer.status_code == 200, answer.json
    assert answer.json == {"phone": MIGRANT_PHONE, "language": "bn", "opted_out": True}
    assert http.get("/api/v1/notifications", headers=desk.staff()).status_code == 200
    assert "/api/v1/notifications" in http.get("/openapi.json").json["paths"]
