"""The test harness itself: SecantusDB starts, keeps data across restarts and crashes, and commits transactions."""
import os

import pymongo
import pytest

from tests import harness

pytestmark = pytest.mark.integration


@pytest.fixture
def server(tmp_path):
    # Always SecantusDB, even when TEST_MONGO_URI sends the rest of the suite elsewhere.
    srv = harness.start_mongo(tmp_path)
    yield srv
    srv.stop()


@pytest.fixture
def items(server):
    """A function giving the test collection through a fresh client (old ones die with a restart)."""
    clients = []

    def get():
        clients.append(pymongo.MongoClient(server.uri, serverSelectionTimeoutMS=5000))
        return clients[-1].harness_check.items

    yield get
    for client in clients:
        client.close()


def test_data_survives_restart_and_crash(server, items):
    items().insert_one({"_id": "before-restart"})
    port = server.port
    server.stop()
    server.start()
    assert server.port == port
    assert items().find_one({"_id": "before-restart"}) is not None

    # An acknowledged write right before a crash survives (the harness runs --sync-on-commit).
    items().insert_one({"_id": "before-kill"})
    server.kill()
    server.start()
    assert {d["_id"] for d in items().find()} == {"before-restart", "before-kill"}


def test_transaction_commits_and_aborts(items):
    coll = items()
    coll.insert_one({"_id": "seed"})  # create the collection outside any transaction
    client = coll.database.client
    with client.start_session() as session:
        session.with_transaction(lambda s: [coll.insert_one({"_id": i}, session=s) for i in ("a", "b")])
    assert coll.count_documents({"_id": {"$in": ["a", "b"]}}) == 2

    def fail(s):
        coll.insert_one({"_id": "never"}, session=s)
        raise RuntimeError("abort")

    with client.start_session() as session, pytest.raises(RuntimeError):
        session.with_transaction(fail)
    assert coll.find_one({"_id": "never"}) is None


def test_uri_for_tests_prefers_env(tmp_path, monkeypatch):
    monkeypatch.setenv("TEST_MONGO_URI", "mongodb://test.invalid/?replicaSet=rs0")
    assert harness.mongo_uri_for_tests(tmp_path) == ("mongodb://test.invalid/?replicaSet=rs0", None)


def test_ensure_rabbitmq_is_quick_when_up():
    harness.ensure_rabbitmq(os.environ.get("TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F"))
