"""Declaring an endpoint once gives its route, its auth, its request parsing and its
OpenAPI operation:

    api = Api("registration")

    @api.route("/migrants", "POST", roles=WRITERS, body=MigrantCreateSchema,
               response=MigrantSchema, status=201, summary="Register a migrant")
    def register(principal, body): ...

The function gets the authenticated Principal, the path arguments and, where declared,
`body` and `query` already validated. It returns the data to dump, or a Reply.

A file upload declares `form=` (a schema whose file parts are `Upload` fields) instead
of `body=`: the multipart/form-data body is parsed with a size cap and strictly (a
truncated or malformed body is a 400, never an empty form), and the function gets
`form`, with each file part as a werkzeug FileStorage, closed after the request.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable
from urllib.parse import unquote_to_bytes

from flask import Blueprint, Response, current_app, json, request
from marshmallow import Schema, ValidationError, fields
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import ClientDisconnected, RequestEntityTooLarge
from werkzeug.formparser import parse_form_data

from shared.auth import InvalidToken, Principal, verify_token
from shared.http.problems import Problem, forbidden, invalid

PUBLIC = None


@dataclass
class Reply:
    data: object = None
    status: int = 200
    headers: dict = field(default_factory=dict)


@dataclass
class Operation:
    rule: str
    method: str
    summary: str
    roles: frozenset | None
    body: type[Schema] | None
    form: type[Schema] | None
    query: type[Schema] | None
    response: type[Schema] | None
    status: int
    tag: str
    request_doc: dict | None
    response_doc: dict | None
    problems: dict[int, str]
    headers: dict[str, str] = field(default_factory=dict)
    response_headers: dict[str, str] = field(default_factory=dict)
    optional_headers: dict[str, str] = field(default_factory=dict)
    other_statuses: dict[int, str] = field(default_factory=dict)


def authenticate(roles: frozenset | None) -> Principal | None:
    if roles is PUBLIC:
        return None
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Problem(401, "Unauthorized", "Send a bearer token: Authorization: Bearer <token>.",
                      headers={"WWW-Authenticate": 'Bearer realm="probashi"'})
    try:
        principal = verify_token(current_app.config["SETTINGS"], token.strip())
    except InvalidToken as exc:
        raise Problem(401, "Unauthorized", f"The token is not valid: {exc}.",
                      headers={"WWW-Authenticate": 'Bearer realm="probashi", error="invalid_token"'}) from None
    if principal.role not in roles:
        raise forbidden(f"The role {principal.role} may not do this.")
    return principal


# Deeper than any schema nests: refused before marshmallow recurses into it (the JSON
# parser itself gives up with a RecursionError near 1,000 levels, also a 400).
MAX_JSON_DEPTH = 32
NOT_UTF8 = "Contains text that is not valid UTF-8 (invalid bytes or a lone surrogate such as \\ud800)."
NAME_NOT_UTF8 = "A field name here is not valid UTF-8 text (a lone surrogate such as \\ud800)."


def _storable(text: str) -> bool:
    """False for what UTF-8 (so the database) cannot encode: lone surrogates, which JSON's
    \\uXXXX escapes can spell."""
    return not any("\ud800" <= ch <= "\udfff" for ch in text)


def _check_json_text(payload) -> None:
    """Every key and string in the payload must be storable text; nesting is capped.
    Iterative, so a deep payload cannot exhaust the stack here either."""
    errors: dict[str, list[str]] = {}
    stack = [(payload, "", 0)]
    while stack:
        value, path, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise Problem(400, "Malformed JSON", f"The body nests deeper than {MAX_JSON_DEPTH} levels.",
                          slug="malformed-json")
        if isinstance(value, str):
            if not _storable(value):
                errors[path or "_schema"] = [NOT_UTF8]
        elif isinstance(value, dict):
            for key, item in value.items():
                if not _storable(key):
                    errors[path or "_schema"] = [NAME_NOT_UTF8]  # the name itself cannot be echoed
                    continue
                stack.append((item, f"{path}.{key}" if path else key, depth + 1))
        elif isinstance(value, list):
            stack.extend((item, f"{path}.{n}", depth + 1) for n, item in enumerate(value))
    if errors:
        raise invalid(errors)


def load_json_body(schema: Schema) -> dict:
    if not request.mimetype or not (request.mimetype == "application/json" or request.mimetype.endswith("+json")):
        raise Problem(415, "Unsupported media type", "Send the body as application/json.")
    raw = request.get_data(cache=True)
    try:
        payload = json.loads(raw) if raw.strip() else None
    except RecursionError:  # the parser recurses once per level of nesting
        raise Problem(400, "Malformed JSON", f"The body nests deeper than {MAX_JSON_DEPTH} levels.",
                      slug="malformed-json") from None
    except ValueError as exc:
        raise Problem(400, "Malformed JSON", f"The body is not valid JSON: {exc}.", slug="malformed-json") from None
    if not isinstance(payload, dict):
        raise Problem(400, "Malformed JSON", "The body must be a JSON object.", slug="malformed-json")
    _check_json_text(payload)
    return schema.load(payload)


class Upload(fields.Field):
    """A file part of a multipart/form-data body: loads as the werkzeug FileStorage."""

    def __init__(self, **kwargs):
        kwargs["metadata"] = {"type": "string", "format": "binary", **kwargs.get("metadata", {})}
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, FileStorage):
            raise ValidationError("Send a file in this part (multipart/form-data with a filename).")
        return value


# Part headers and boundaries around the file; the file itself is capped by the service.
MULTIPART_OVERHEAD_BYTES = 64 * 1024
# Werkzeug enforces both while it parses, part by part: a body of 150,000 tiny parts is
# refused at the 33rd instead of costing seconds and hundreds of MiB. Text parts are short
# (the longest schema field is a few hundred characters). The field cap also bounds the
# parser's buffer, which takes 64 KiB reads, so it must stay well above that.
MAX_FORM_PARTS = 32
MAX_FORM_FIELD_BYTES = 128 * 1024


def load_form(schema: Schema, max_body_bytes: int) -> tuple[dict, list[FileStorage]]:
    """The validated fields of a multipart/form-data body, and every file part received
    (for the caller to close). Empty text fields count as absent, as HTML forms send them."""
    if request.mimetype != "multipart/form-data":
        raise Problem(415, "Unsupported media type", "Send the body as multipart/form-data.")
    try:
        # Our own strict parse: Flask's request.form would turn a truncated body into an empty form.
        _, parts, files = parse_form_data(request.environ, max_content_length=max_body_bytes,
                                          max_form_memory_size=MAX_FORM_FIELD_BYTES, max_form_parts=MAX_FORM_PARTS,
                                          silent=False)
    except RequestEntityTooLarge:
        raise Problem(413, "Content too large", f"The request body is larger than the {max_body_bytes} bytes this "
                      f"endpoint accepts, has more than {MAX_FORM_PARTS} parts or a text part over "
                      f"{MAX_FORM_FIELD_BYTES} bytes.", slug="too-large") from None
    except (ValueError, ClientDisconnected) as exc:
        reason = "it ended before its announced length" if isinstance(exc, ClientDisconnected) else str(exc)
        raise Problem(400, "Malformed multipart body", f"The multipart/form-data body cannot be read: {reason}.",
                      slug="malformed-multipart") from None
    received = [part for name in files for part in files.getlist(name)]
    try:
        _check_form(parts, files)
        data = {key: value for key, value in parts.items() if value.strip()}
        data.update({key: files[key] for key in files})
        return schema.load(data), received
    except BaseException:
        for part in received:
            part.close()
        raise


def _check_form(parts, files) -> None:
    """Each field once (a second `file` would otherwise be silently dropped), as valid UTF-8:
    werkzeug decodes form parts leniently, so invalid bytes arrive as U+FFFD."""
    errors: dict[str, list[str]] = {}
    for name in {*parts, *files}:
        if len(parts.getlist(name)) + len(files.getlist(name)) > 1:
            errors[name] = ["Send this field once."]
        elif not all(_storable(text) and "\ufffd" not in text
                     for text in [name, *parts.getlist(name), *(f.filename or "" for f in files.getlist(name))]):
            errors[name] = [NOT_UTF8]
    if errors:
        raise invalid(errors)


def _query_text(raw: bytes) -> str | None:
    """A percent-encoded query name or value as text, or None when it is not UTF-8."""
    try:
        return unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        return None


def load_query(schema: Schema) -> dict:
    # Decoded strictly here: werkzeug keeps undecodable escapes such as %ED%A0%80 as literal text.
    errors: dict[str, list[str]] = {}
    args: dict[str, str] = {}
    for pair in filter(None, request.query_string.split(b"&")):
        raw_name, _, raw_value = pair.partition(b"=")
        name, value = _query_text(raw_name), _query_text(raw_value)
        if name is None or value is None:
            errors[name or raw_name.decode("ascii", "replace")] = [NOT_UTF8]
        else:
            args.setdefault(name, value)
    if errors:
        raise invalid(errors, "Some query parameters are not valid; see errors.")
    try:
        return schema.load(args)
    except ValidationError as exc:
        raise invalid(exc.messages, "Some query parameters are not valid; see errors.") from None


def _render(result, response: type[Schema] | None, status: int) -> Response:
    reply = result if isinstance(result, Reply) else Reply(result, status)
    if reply.data is None and reply.status == 204:
        out = Response(status=204)
    elif isinstance(reply.data, Response):
        out = reply.data
        out.status_code = reply.status
    else:
        data = response().dump(reply.data) if response and reply.data is not None else reply.data
        out = Response(json.dumps(data, ensure_ascii=False), status=reply.status, mimetype="application/json")
    for name, value in reply.headers.items():
        out.headers[name] = value
    return out


class Api:
    def __init__(self, name: str, url_prefix: str = "/api/v1"):
        self.name = name
        self.url_prefix = url_prefix
        self.blueprint = Blueprint(name, name, url_prefix=url_prefix)
        self.operations: list[Operation] = []

    def route(self, rule: str, method: str, *, roles: frozenset | None, summary: str,
              body: type[Schema] | None = None, query: type[Schema] | None = None,
              form: type[Schema] | None = None, max_body_bytes: int | None = None,
              response: type[Schema] | None = None, status: int = 200, tag: str | None = None,
              request_doc: dict | None = None, response_doc: dict | None = None,
              problems: dict[int, str] | None = None, headers: dict[str, str] | None = None,
              response_headers: dict[str, str] | None = None,
              optional_headers: dict[str, str] | None = None,
              other_statuses: dict[int, str] | None = None) -> Callable:
        """`problems`: the endpoint's own error statuses (409, 412 ...) for the OpenAPI document;
        400, 401, 403, 404, 415, 422 and 503 are listed for every endpoint where they apply.
        `headers`: request headers the endpoint requires, with what they carry (the function
        reads them itself), `optional_headers` those it may take; `response_headers`: those its
        success answer carries; `other_statuses`: success statuses besides `status` with the same
        answer (a PUT's 201 and 200). `form` (multipart/form-data, capped at `max_body_bytes`)
        replaces `body` for uploads."""
        if form is not None and (body is not None or not max_body_bytes):
            raise ValueError("a form route takes no JSON body and needs max_body_bytes")

        def decorator(fn: Callable) -> Callable:
            def view(**path_args):
                principal = authenticate(roles)
                kwargs, received = dict(path_args), []
                try:
                    if body is not None:
                        kwargs["body"] = load_json_body(body())
                    if query is not None:
                        kwargs["query"] = load_query(query())
                    if form is not None:
                        kwargs["form"], received = load_form(form(), max_body_bytes)
                    return _render(fn(principal, **kwargs), response, status)
                finally:
                    for part in received:  # spooled temporary files: nothing stays behind
                        part.close()

            self.blueprint.add_url_rule(rule, endpoint=fn.__name__, view_func=view, methods=[method])
            self.operations.append(Operation(rule, method.lower(), summary, roles, body=body, form=form, query=query,
                                             response=response, status=status, tag=tag or self.name,
                                             request_doc=request_doc, response_doc=response_doc,
                                             problems=problems or {}, headers=headers or {},
                                             response_headers=response_headers or {},
                                             optional_headers=optional_headers or {},
                                             other_statuses=other_statuses or {}))
            return fn
        return decorator

    def openapi_paths(self) -> list[tuple[str, dict]]:
        """(path, operations) pairs in OpenAPI form, for shared.http.openapi."""
        paths: dict[str, dict] = {}
        for op in self.operations:
            path = self.url_prefix + re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", op.rule)
            paths.setdefault(path, {})[op.method] = self._operation(op, path)
        return list(paths.items())

    def _operation(self, op: Operation, path: str) -> dict:
        params = [{"in": "path", "name": n, "required": True, "schema": {"type": "string"}}
                  for n in re.findall(r"<(?:[^:>]+:)?([^>]+)>", op.rule)]
        params += [{"in": "header", "name": name, "required": True, "description": text,
                    "schema": {"type": "string", "minLength": 1}} for name, text in op.headers.items()]
        params += [{"in": "header", "name": name, "required": False, "description": text,
                    "schema": {"type": "string", "minLength": 1}} for name, text in op.optional_headers.items()]
        operation: dict = {"summary": op.summary, "tags": [op.tag], "operationId": f"{self.name}_{op.rule}_{op.method}",
                           "responses": {}}
        if op.query is not None:
            params.append({"in": "query", "schema": op.query})
        if params:
            operation["parameters"] = params
        errors = {"400": "Malformed request", "422": "Validation failed", "503": "Database unavailable"}
        if op.request_doc is not None:
            operation["requestBody"] = op.request_doc
        elif op.body is not None:
            operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": op.body}}}
            errors["415"] = "The body is not application/json"
        elif op.form is not None:
            form = {"schema": op.form}
            encoding = {name: {"contentType": field.metadata["content_types"]}
                        for name, field in op.form._declared_fields.items() if "content_types" in field.metadata}
            if encoding:
                form["encoding"] = encoding
            operation["requestBody"] = {"required": True, "content": {"multipart/form-data": form}}
            errors.update({"413": "Content too large",
                           "415": "Not multipart/form-data, or a file of a type this endpoint does not take"})
        ok: dict = {"description": op.summary}
        if op.response_doc is not None:
            ok = op.response_doc
        elif op.response is not None:
            ok["content"] = {"application/json": {"schema": op.response}}
        if op.response_headers:
            ok["headers"] = {**ok.get("headers", {}), **_headers(op.response_headers)}
        operation["responses"][str(op.status)] = ok
        for code, text in op.other_statuses.items():
            operation["responses"][str(code)] = {**ok, "description": text}
        problem = {"content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}
        if op.roles is not PUBLIC:
            operation["security"] = [{"bearer": []}]
            operation["description"] = "Roles: " + ", ".join(sorted(op.roles))
            errors.update({"401": "Missing or invalid token", "403": "Role or owner not allowed"})
        if "{" in path:
            errors["404"] = "Not found"
        errors.update({str(code): text for code, text in op.problems.items()})
        for code, text in errors.items():
            operation["responses"].setdefault(code, {"description": text, **problem})
            if code in PROBLEM_HEADERS:
                operation["responses"][code].setdefault("headers", _headers(PROBLEM_HEADERS[code]))
        return operation


# Headers that come with some problems wherever they happen.
PROBLEM_HEADERS = {"401": {"WWW-Authenticate": 'Bearer realm="probashi" (with error="invalid_token" for a bad one)'},
                   "503": {"Retry-After": "seconds to wait before trying again"}}


def _headers(described: dict[str, str]) -> dict:
    return {name: {"description": text, "required": True, "schema": {"type": "string"}}
            for name, text in described.items()}
