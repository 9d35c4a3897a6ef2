"""OpenAPI 3 document generated from the marshmallow schemas of an Api."""
from __future__ import annotations

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

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
    for path, operations in api.openapi_paths():
        spec.path(path=path, operations=operations)
    for path, operations in (extra_paths or {}).items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()


DOCS_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>{title}</title>
<link rel="stylesheet" href="https://unpkg.com/swagger-ui-dist@5/swagger-ui.css"></head>
<body><div id="ui"><p>The machine-readable API description is at <a href="{spec}">{spec}</a>.</p></div>
<script src="https://unpkg.com/swagger-ui-dist@5/swagger-ui-bundle.js"></script>
<script>if (window.SwaggerUIBundle) SwaggerUIBundle({{url: "{spec}", dom_id: "#ui"}});</script>
</body></html>"""
