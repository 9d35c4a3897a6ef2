"""What the API says when the database fails: a change whose commit answer was lost must
not be reported as "nothing was changed"."""
from __future__ import annotations

import pytest
from flask import Flask
from pymongo.errors import AutoReconnect, OperationFailure

from shared.http.problems import register_error_handlers


def app_raising(exc: Exception) -> Flask:
    app = Flask("t")
    register_error_handlers(app)

    @app.post("/change")
    def change():
        raise exc

    return app


def labelled(exc, label: str):
    exc._add_error_label(label)
    return exc


def test_an_unreachable_database_means_nothing_was_changed():
    answer = app_raising(AutoReconnect("connection refused")).test_client().post("/change")
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "5"
    assert answer.json["type"] == "urn:probashi:problem:unavailable"
    assert "nothing was changed" in answer.json["detail"]


@pytest.mark.parametrize("exc", [AutoReconnect("reply lost"), OperationFailure("write concern timed out", 64)],
                         ids=["connection", "operation"])
def test_a_commit_whose_answer_was_lost_may_have_been_made(exc):
    answer = app_raising(labelled(exc, "UnknownTransactionCommitResult")).test_client().post("/change")
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "5"
    assert answer.json["type"] == "urn:probashi:problem:outcome-unknown"
    assert "may have been made" in answer.json["detail"] and "nothing was changed" not in answer.json["detail"]
