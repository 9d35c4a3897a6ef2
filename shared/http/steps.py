"""Lifecycle steps over HTTP: one POST per step, each needing If-Match, each answering the
record with its ETag. Claims and complaints declare their steps with `StepRoutes.step`."""
from __future__ import annotations

from flask import request

from shared.etags import etag
from shared.http.api import Api, Reply


def with_etag(record: dict, status: int = 200, **headers) -> Reply:
    return Reply(record, status, {"ETag": etag(record), **headers})


def if_match_header(noun: str) -> dict:
    """The If-Match request header as the OpenAPI document describes it."""
    return {"If-Match": f"the ETag of the {noun} as read (GET answers it), e.g. \"3\""}


def step_problems(noun: str) -> dict:
    return {409: f"Not a step the {noun}'s status allows; names the allowed ones",
            412: f"If-Match is stale: the {noun} changed since it was read", 428: "If-Match is missing"}


class StepRoutes:
    """Steps under `/{collection}/<{id_name}>/`: `@steps.step(rule, name, summary, schema)` on
    `fn(principal, record_id, if_match, **kwargs)` registers `POST .../{rule}`."""

    def __init__(self, api: Api, collection: str, id_name: str, noun: str, *, roles, response, response_headers):
        self.api, self.collection, self.id_name = api, collection, id_name
        self.roles, self.response, self.response_headers = roles, response, response_headers
        self.if_match, self.problems = if_match_header(noun), step_problems(noun)

    def step(self, rule: str, name: str, summary: str, schema=None, problems=None, roles=None):
        def register(fn):
            def run(principal, **kwargs):
                record_id = kwargs.pop(self.id_name)
                return with_etag(fn(principal, record_id, request.headers.get("If-Match"), **kwargs))
            run.__name__ = name
            self.api.route(f"/{self.collection}/<{self.id_name}>/{rule}", "POST", roles=roles or self.roles,
                           body=schema, response=self.response, response_headers=self.response_headers,
                           summary=summary + "; needs If-Match", problems={**self.problems, **(problems or {})},
                           headers=self.if_match)(run)
            return fn
        return register
