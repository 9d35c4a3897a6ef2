"""HTTP entry point of the directory service: thin, everything else is the service layer.

Reads are public (no token): the portal shows them to anyone. Writes are an admin's PUT of
a whole entry: without If-Match it creates one, with the ETag read it replaces it.
"""
from __future__ import annotations

from flask import Flask, request

from shared import mongo
from shared.config import Settings
from shared.http.api import PUBLIC, Api
from shared.http.app import broker_check, create_app
from shared.http.problems import Problem
from shared.http.steps import with_etag

from . import bootstrap, domain
from .schemas import (BODIES, ETAG, AgencyPageSchema, AgencyQuerySchema, AgencySchema, CountryListSchema,
                      CountrySchema, LinkListSchema, LinkSchema, TopicListSchema, TopicQuerySchema, TopicSchema)
from .service import DirectoryService

ADMINS = frozenset({"admin"})
# (kind, collection path, path argument, answer schema)
ENTRIES = [(domain.AGENCY, "/agencies", "licence_number", AgencySchema),
           (domain.COUNTRY, "/countries", "code", CountrySchema),
           (domain.LINK, "/links", "link_id", LinkSchema),
           (domain.TOPIC, "/guide/topics", "topic_id", TopicSchema)]


def make_api(service: DirectoryService) -> Api:
    api = Api("directory")

    @api.route("/guide/topics", "GET", roles=PUBLIC, query=TopicQuerySchema, response=TopicListSchema,
               summary="The guide's topics (complaints, PKB loans, WEWB membership, the papers of a legal "
                       "migration ...), in the guide's order; claim types are the claims catalogue's")
    def list_topics(principal, query):
        return service.list(domain.TOPIC, {"kind": query.get("kind")})

    @api.route("/agencies", "GET", roles=PUBLIC, query=AgencyQuerySchema, response=AgencyPageSchema,
               summary="Recruiting agencies and their licence status, in licence order: by licence, by the "
                       "beginnings of the name's words (Bangla or English), by status")
    def list_agencies(principal, query):
        return service.agencies(query.get("q"), query.get("status"), query["limit"], query["cursor"])

    @api.route("/countries", "GET", roles=PUBLIC, response=CountryListSchema,
               summary="Destination countries and their Bangladesh mission's labour wing contact")
    def list_countries(principal):
        return service.list(domain.COUNTRY)

    @api.route("/links", "GET", roles=PUBLIC, response=LinkListSchema,
               summary="Official platforms: overseas jobs, migration preparation, orientation, training")
    def list_links(principal):
        return service.list(domain.LINK)

    for kind, path, argument, schema in ENTRIES:
        _entry_routes(api, service, kind, path, argument, schema)
    return api


def _entry_routes(api: Api, service: DirectoryService, kind: str, path: str, argument: str, schema) -> None:
    noun = domain.NOUNS[kind]
    name, a = noun.replace(" ", "_"), "an" if noun[0] in "aeiou" else "a"

    def read(principal, **path_args):
        return with_etag(service.get(kind, path_args[argument]))

    def put(principal, body, **path_args):
        if_match = request.headers.get("If-Match")
        if if_match is not None and not if_match.strip():
            raise Problem(400, "Bad request", "If-Match is empty: send the ETag you read, or no If-Match to create.")
        entry, created = service.put(principal, kind, path_args[argument], body, if_match)
        if created:
            return with_etag(entry, 201, Location=f"{api.url_prefix}{path}/{entry[domain.ID_FIELDS[kind]]}")
        return with_etag(entry)

    read.__name__, put.__name__ = f"get_{name}", f"put_{name}"
    extra = " (any spelling registration takes: rl 0123 is RL-123)" if kind == domain.AGENCY else ""
    api.route(f"{path}/<{argument}>", "GET", roles=PUBLIC, response=schema, response_headers=ETAG,
              summary=f"One {noun}{extra}")(read)
    api.route(f"{path}/<{argument}>", "PUT", roles=ADMINS, body=BODIES[kind], response=schema,
              response_headers=ETAG, status=200,
              optional_headers={"If-Match": f"the ETag of the {noun} as read, to replace it (none: create it)"},
              other_statuses={201: f"Created: a new {noun} (Location names it)"},
              problems={404: f"The path cannot name {a} {noun}",
                        412: f"If-Match is stale, or names {a} {noun} that does not exist yet",
                        428: f"If-Match is missing, and the {noun} exists"},
              summary=f"Create or replace {a} {noun} (audited; publishes {domain.EVENT_TYPES[kind]})")(put)


def create(settings: Settings | None = None, configure_logging: bool = True) -> Flask:
    settings = settings or Settings.from_env(bootstrap.SERVICE)
    service = bootstrap.build(settings)
    db = service.reads.db
    app = create_app(settings, make_api(service), title="Probashi directory",
                     description="The public guide's data: recruiting agencies' licence status, destination "
                                 "countries' missions and labour wings, links to the official platforms and a "
                                 "guide to every service, Bangla first, each with the date it was last checked. "
                                 "Reads need no token; admins keep it current.",
                     readiness={"database": lambda: mongo.ping(db), "broker": broker_check(settings)},
                     configure_logging=configure_logging)
    app.config["DIRECTORY_SERVICE"] = service  # for tests
    return app
