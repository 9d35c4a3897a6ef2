"""OpenAPI 3 document generated from the marshmallow schemas of an Api."""
from __future__ import annotations

import html
import json

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask, Response, send_from_directory
from swagger_ui_bundle import swagger_ui_path

PROBLEM_SCHEMA = {
    "type": "object",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string"}, "instance": {"type": "string", "nullable": True},
        "errors": {"type": "object", "description": "messages per field"},
        "request_id": {"type": "string"},
    },
}


def _schema_name(schema) -> str:
    cls = schema if isinstance(schema, type) else type(schema)
    name = cls.__name__.removesuffix("Schema") or cls.__name__
    # Partial or restricted instances get their own component instead of clashing.
    if not isinstance(schema, type) and (schema.partial or schema.only or schema.exclude):
        name += "Partial"
    return name


def build_spec(api, *, title: str, version: str, description: str, extra_paths: dict | None = None) -> dict:
    spec = APISpec(title=title, version=version, openapi_version="3.0.3", info={"description": description},
                   plugins=[MarshmallowPlugin(schema_name_resolver=_schema_name)])
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    spec.components.schema("Problem", PROBLEM_SCHEMA)
    # Rules across fields (one of two fields required ...) that marshmallow states in a
    # schema validator: the schema class carries them as OPENAPI_EXTRA.
    for schema in dict.fromkeys(op.body or op.form for op in api.operations):
        if getattr(schema, "OPENAPI_EXTRA", None):
            spec.components.schema(_schema_name(schema), component=schema.OPENAPI_EXTRA, schema=schema)
    for path, operations in api.openapi_paths():
        spec.path(path=path, operations=operations)
    for path, operations in (extra_paths or {}).items():
        spec.path(path=path, operations=operations)
    return _null_only(spec.to_dict())


# apispec writes a nullable nested schema (OpenAPI 3.0) as anyOf [its $ref, this], and
# this admits any object at all, so a body's {"note": {}} looked valid: null it is.
_ANY_OBJECT_OR_NULL = {"type": "object", "nullable": True}


def _null_only(node):
    if isinstance(node, dict):
        if _ANY_OBJECT_OR_NULL in node.get("anyOf", []):
            node["anyOf"] = [{"nullable": True, "enum": [None]} if branch == _ANY_OBJECT_OR_NULL else branch
                             for branch in node["anyOf"]]
        for value in node.values():
            _null_only(value)
    elif isinstance(node, list):
        for value in node:
            _null_only(value)
    return node


# Swagger UI from the pinned swagger-ui-bundle package, served by the service itself: no
# third-party CDN, nothing loaded that the deployment did not install. No inline script.
DOCS_ASSETS = ("swagger-ui.css", "swagger-ui-bundle.js")
DOCS_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>{title}</title>
<link rel="stylesheet" href="/docs/swagger-ui.css"></head>
<body><div id="ui"><p>The machine-readable API description is at <a href="{spec}">{spec}</a>.</p></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body></html>"""
DOCS_INIT = """if (window.SwaggerUIBundle) SwaggerUIBundle({url: %s, dom_id: "#ui"});"""


def register_docs(app: Flask, title: str, spec_url: str = "/openapi.json") -> None:
    """`/docs`, the Swagger UI page, and the assets it loads."""
    page = DOCS_PAGE.format(title=html.escape(title), spec=html.escape(spec_url))
    init = DOCS_INIT % json.dumps(spec_url)

    @app.get("/docs")
    def docs():
        return Response(page, mimetype="text/html")

    @app.get("/docs/init.js")
    def docs_init():
        return Response(init, mimetype="text/javascript")

    @app.get("/docs/<any(%s):asset>" % ", ".join(f'"{name}"' for name in DOCS_ASSETS))
    def docs_asset(asset: str):
        return send_from_directory(swagger_ui_path, asset, max_age=24 * 3600)
