"""HTTP entry point of the documents service: thin, each route calls one use case
(upload, review, deletion, download, queries, chain_report) with the service's Ports."""
from __future__ import annotations

from flask import Flask, Response

from shared import mongo
from shared.auth import STAFF
from shared.config import Settings
from shared.errors import DomainError
from shared.http.api import MULTIPART_OVERHEAD_BYTES, PUBLIC, Api, Reply
from shared.http.app import broker_check, create_app
from shared.http.problems import Problem, problem_response
from shared.pagination import PageQuerySchema, page_schema

from . import bootstrap, chain_report, deletion, domain, download, queries, review, upload
from .config import DocumentsConfig
from .content import EXTENSIONS, repr_digest
from .ports import Ports
from .schemas import (ChainReportSchema, DecisionSchema, DeletionSchema, DocumentDetailSchema, DocumentSchema,
                      DocumentTypeListSchema, DownloadQuerySchema, HistoryEntrySchema, VersionFormSchema, list_query,
                      upload_form)

EVERYONE = frozenset({"migrant", *STAFF})
# A family member adds papers to a case their sign-in names (upload.py says which), and reads none.
UPLOADERS = frozenset({*EVERYONE, "family"})
ADMINS = frozenset({"admin"})
GONE = "The document was deleted by an administrator"
INTEGRITY_FAULT = "The stored bytes are missing or no longer match the recorded hash: not served (logged, audited)"
MAYBE_STORED = "The database stopped answering mid-commit: it may have been stored; the problem names the document"
CREATED = {"Location": "the document's URL"}

CONTENT_DOC = {"description": "The stored bytes, with the type detected at upload, checked against the recorded hash",
               "headers": {"Repr-Digest": {"schema": {"type": "string"},
                                           "description": "RFC 9530: sha-256=:<base64 of the recorded SHA-256>:"},
                           "X-Content-SHA256": {"schema": {"type": "string"}, "description": "hex SHA-256"}},
               "content": {kind: {"schema": {"type": "string", "format": "binary"}} for kind in EXTENSIONS}}


def _with_retry_after(exc: DomainError) -> Response:
    return problem_response(Problem(exc.status, exc.title, exc.detail, slug=exc.slug,
                                    headers={"Retry-After": str(exc.retry_after)}, **exc.extra))


def make_api(ports: Ports) -> Api:
    api = Api("documents")
    upload_limit = ports.config.max_bytes + MULTIPART_OVERHEAD_BYTES
    for error in (domain.OutcomeUnknown, domain.NotStored, domain.VerifyTooSoon):
        api.blueprint.register_error_handler(error, _with_retry_after)

    def created(document: dict) -> Reply:
        return Reply(document, 201, {"Location": f"{api.url_prefix}/documents/{document['document_id']}"})

    @api.route("/documents", "POST", roles=UPLOADERS, form=upload_form(ports.config.doc_types), max_body_bytes=upload_limit,
               response=DocumentDetailSchema, status=201, response_headers=CREATED, problems={503: MAYBE_STORED},
               summary="Upload a document for a migrant (a migrant uploads only their own; UDC operators on "
                       "someone's behalf; a family member only to a case their sign-in names, as case_id, "
                       "for that case's migrant)")
    def upload_document(principal, form):
        return created(upload.upload_document(ports, principal, form))

    @api.route("/documents/<document_id>", "GET", roles=EVERYONE, response=DocumentDetailSchema,
               summary="A document with every version (staff reads are audited)")
    def get_document(principal, document_id):
        return queries.get_document(ports, principal, document_id)

    @api.route("/documents/<document_id>/versions", "POST", roles=EVERYONE, form=VersionFormSchema,
               max_body_bytes=upload_limit, response=DocumentDetailSchema, status=201, response_headers=CREATED,
               summary="Upload a new version; earlier versions are kept", problems={410: GONE, 503: MAYBE_STORED})
    def add_version(principal, document_id, form):
        return created(upload.add_version(ports, principal, document_id, form))

    @api.route("/documents/<document_id>/verification", "POST", roles=review.VERIFIERS, body=DecisionSchema,
               response=DocumentDetailSchema, summary="Mark the current version verified or rejected (with a reason)",
               problems={409: "The version decided on is no longer the current one", 410: GONE})
    def decide(principal, document_id, body):
        return review.decide(ports, principal, document_id, body)

    @api.route("/documents/<document_id>", "DELETE", roles=ADMINS, body=DeletionSchema, status=204,
               summary="Delete a document's content, with a reason; refused (409) while a case holds it",
               problems={409: "Legal hold: a claim or complaint not known to be closed relies on it", 410: GONE})
    def delete_document(principal, document_id, body):
        deletion.delete_document(ports, principal, document_id, body["reason"])
        return Reply(None, 204)

    @api.route("/documents/<document_id>/content", "GET", roles=EVERYONE, query=DownloadQuerySchema,
               response_doc=CONTENT_DOC, summary="Download a version's content (every download is audited)",
               problems={410: GONE, 500: INTEGRITY_FAULT})
    def download_content(principal, document_id, query):
        found = download.download_version(ports, principal, document_id, query.get("version"))
        response = Response(found.chunks, mimetype=found.content_type, direct_passthrough=True)
        response.headers.update({
            "Content-Length": str(found.size), "Content-Disposition": found.disposition,
            "ETag": f'"{found.sha256}"', "Repr-Digest": repr_digest(found.sha256), "X-Content-SHA256": found.sha256,
            # Personal evidence: never cached by a shared proxy, never content-sniffed by a browser.
            "Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"})
        return response

    @api.route("/documents/<document_id>/history", "GET", roles=EVERYONE, query=PageQuerySchema,
               response=page_schema(HistoryEntrySchema), summary="What happened to this document, newest first")
    def history(principal, document_id, query):
        return queries.history(ports, principal, document_id, query["limit"], query["cursor"])

    @api.route("/migrants/<owner>/documents", "GET", roles=EVERYONE, query=list_query(ports.config.doc_types),
               response=page_schema(DocumentSchema),
               summary="A migrant's documents, newest first, optionally of one type")
    def list_documents(principal, owner, query):
        return queries.list_documents(ports, principal, owner, query.get("doc_type"), query["limit"],
                                      query["cursor"])

    @api.route("/migrants/<owner>/documents/verify", "GET", roles=EVERYONE, response=ChainReportSchema,
               summary="Re-read a migrant's hash chain and stored content; report every mismatch",
               problems={429: "A migrant runs the full check once per DOCUMENT_VERIFY_INTERVAL_SECONDS"})
    def verify_chain(principal, owner):
        return chain_report.verify_chain(ports, principal, owner)

    # Public: only names, and the web portal's claim guide shows them to people with no account yet.
    @api.route("/document-types", "GET", roles=PUBLIC, response=DocumentTypeListSchema,
               summary="The document types this deployment accepts, with their names in English and Bangla (public)")
    def document_types(principal):
        return {"items": queries.document_types(ports)}

    return api


def create(settings: Settings | None = None, configure_logging: bool = True,
           config: DocumentsConfig | None = None) -> Flask:
    settings = settings or Settings.from_env(bootstrap.SERVICE)
    ports = bootstrap.build(settings, config or DocumentsConfig.from_env())
    db = ports.reads.db
    return create_app(settings, make_api(ports), title="Probashi documents",
                      description="A tamper-evident vault for the papers that prove each pre-departure step and "
                                  "back each claim or dispute: versions, officers' verification, legal hold.",
                      readiness={"database": lambda: mongo.ping(db), "broker": broker_check(settings)},
                      configure_logging=configure_logging)
