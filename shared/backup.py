"""Dump and restore one service's database without mongodump (not installable here), in
mongodump's layout, so a real mongorestore reads what this writes and the other way round:

    DIR/<database>/<collection>.bson            the documents, one raw BSON document after another
    DIR/<database>/<collection>.metadata.json   its options and indexes (canonical extended JSON)

    python -m shared.backup dump --service registration --to DIR      (MONGO_URI, MONGO_DB as the service)
    python -m shared.backup restore --from DIR --to-uri URI [--to-db NAME] [--drop]

A dump reads every collection in one read-only transaction at snapshot read concern, so
it is one moment of the database: a change and its outbox event, an event's inbox row
and its effect, are in it together or not at all. It must therefore finish within the
server's transaction lifetime (MongoDB: transactionLifetimeLimitSeconds, 60 s by default);
a larger database is dumped with mongodump or a storage snapshot (README, Backups and
restores). A dump that fails leaves nothing behind. Documents are copied as raw BSON,
never decoded, so every type survives as it was.
A restore refuses a database that holds documents unless `--drop` (each collection is
dropped first, as mongorestore --drop), writes the documents, then builds the indexes.
What a restored outbox and inbox mean for the rest of the system: README, Backups and restores.
"""
from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path
from typing import Callable, Iterable

import bson
from bson import json_util
from bson.codec_options import CodecOptions
from bson.raw_bson import RawBSONDocument
from pymongo import MongoClient
from pymongo.database import Database
from pymongo.errors import OperationFailure, PyMongoError
from pymongo.read_concern import ReadConcern

RAW = CodecOptions(document_class=RawBSONDocument)
BATCH = 1000
PROGRESS_EVERY = 5000  # documents between progress lines of one collection
# What listIndexes says that createIndexes does not take back.
_INDEX_READ_ONLY = ("v", "ns")

Say = Callable[[str], None]


def _print(text: str) -> None:
    print(text, flush=True)


def _copy(name: str, documents: Iterable, write: Callable[[list], None], say: Say, total: int | None = None) -> int:
    """Hand `documents` to `write` in batches, saying how far it got; returns how many."""
    of = f" of {total}" if total is not None else ""
    done, batch = 0, []
    for document in documents:
        batch.append(document)
        if len(batch) == BATCH:
            write(batch)
            done, batch = done + len(batch), []
            if done % PROGRESS_EVERY == 0:
                say(f"  {name}: {done}{of}")
    if batch:
        write(batch)
        done += len(batch)
    say(f"  {name}: {done} documents")
    return done


def dump(db: Database, to: Path, say: Say = _print) -> dict[str, int]:
    """Write `db` under to/<db name>/; returns the documents per collection. It is written
    beside it first and renamed when complete, so a dump that failed leaves nothing."""
    target, partial = to / db.name, to / f".{db.name}.partial"
    if target.exists():
        raise FileExistsError(f"{target} exists: never mix two dumps in one directory")
    shutil.rmtree(partial, ignore_errors=True)  # what a killed dump left
    partial.mkdir(parents=True)
    try:
        counts = _dump(db, partial, target, say)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    partial.rename(target)
    say(f"dumped {db.name}: {sum(counts.values())} documents in {len(counts)} collections")
    return counts


def _dump(db: Database, into: Path, target: Path, say: Say) -> dict[str, int]:
    # listCollections and listIndexes are not allowed in a transaction: read them first.
    # A collection created after this is missing from the dump; the service creates it at start.
    collections = sorted((c for c in db.list_collections(filter={"type": "collection"})
                          if not c["name"].startswith("system.")), key=lambda c: c["name"])
    indexes = {c["name"]: list(db[c["name"]].list_indexes()) for c in collections}
    say(f"dumping {db.name}: {len(collections)} collections to {target}")
    counts = {}
    with db.client.start_session() as session:
        session.start_transaction(read_concern=ReadConcern("snapshot"))
        for info in collections:
            name = info["name"]
            collection = db.get_collection(name, codec_options=RAW)
            total = collection.count_documents({}, session=session)
            with open(into / f"{name}.bson", "wb") as out:
                counts[name] = _copy(name, collection.find({}, session=session),
                                     lambda batch: out.writelines(d.raw for d in batch), say, total)
            # The fields of mongodump's own Metadata (mongo-tools, mongodump/metadata_dump.go).
            metadata = {"options": info.get("options", {}), "indexes": indexes[name], "collectionName": name}
            uuid = info.get("info", {}).get("uuid")
            if uuid is not None:
                metadata["uuid"] = uuid.as_uuid().hex
            (into / f"{name}.metadata.json").write_text(
                json_util.dumps(metadata, json_options=json_util.CANONICAL_JSON_OPTIONS))
        session.commit_transaction()
    return counts


def dumped_database(source: Path) -> Path:
    """The database directory of a dump: `source` itself, or its only subdirectory."""
    if any(source.glob("*.metadata.json")) or any(source.glob("*.bson")):
        return source
    databases = [path for path in source.iterdir() if path.is_dir() and not path.name.startswith(".")]
    if len(databases) != 1:
        raise SystemExit(f"{source} holds {len(databases)} databases; name the one to restore "
                         f"(--from {source}/<database>)")
    return databases[0]


def restore(source: Path, db: Database, drop: bool = False, say: Say = _print) -> dict[str, int]:
    """Load a dumped database directory into `db`; returns the documents per collection."""
    names = sorted({path.name[: -len(".metadata.json")] for path in source.glob("*.metadata.json")}
                   | {path.stem for path in source.glob("*.bson")})
    occupied = [name for name in names if db[name].estimated_document_count()]
    if occupied and not drop:
        raise SystemExit(f"{db.name} already holds documents in {', '.join(occupied)}: restore into a fresh "
                         f"database, or pass --drop to replace those collections")
    say(f"restoring {source} into {db.name}: {len(names)} collections")
    counts = {}
    for name in names:
        meta_path = source / f"{name}.metadata.json"
        metadata = json_util.loads(meta_path.read_text()) if meta_path.exists() else {}
        if drop:
            db.drop_collection(name)
        if name not in db.list_collection_names(filter={"name": name}):
            db.create_collection(name, **metadata.get("options", {}))
        collection = db.get_collection(name, codec_options=RAW)
        counts[name] = 0
        data = source / f"{name}.bson"
        if data.exists():
            with open(data, "rb") as stream:
                counts[name] = _copy(name, bson.decode_file_iter(stream, RAW),
                                     lambda batch: collection.insert_many(batch, ordered=True), say)
        specs = [{k: v for k, v in index.items() if k not in _INDEX_READ_ONLY}
                 for index in metadata.get("indexes", []) if index["name"] != "_id_"]
        if specs:
            db.command("createIndexes", name, indexes=specs)
    say(f"restored {db.name}: {sum(counts.values())} documents in {len(counts)} collections")
    return counts


def main(argv: list[str] | None = None) -> int:
    from shared import mongo
    from shared.config import Settings

    parser = argparse.ArgumentParser(prog="python -m shared.backup", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    dumping = commands.add_parser("dump", help="dump a service's database (MONGO_URI, MONGO_DB) to a new directory")
    dumping.add_argument("--service", required=True)
    dumping.add_argument("--to", required=True, type=Path, help="directory; DIR/<database>/ must not exist yet")
    restoring = commands.add_parser("restore", help="load a dumped database")
    restoring.add_argument("--from", dest="source", required=True, type=Path,
                           help="a dump's directory (DIR, or DIR/<database>)")
    restoring.add_argument("--to-uri", required=True, help="the MongoDB to restore into")
    restoring.add_argument("--to-db", help="database name (default: the dumped one's)")
    restoring.add_argument("--drop", action="store_true", help="drop each collection before restoring it")
    args = parser.parse_args(argv)

    if args.command == "dump":
        settings = Settings.from_env(args.service)
        with mongo.connect(settings) as client:
            try:
                dump(client[settings.database], args.to)
            except PyMongoError as exc:
                # A transaction the server ended (its lifetime is 60 s by default) is a refusal, not a lost link.
                hint = ("\n(a database that cannot be read within the server's transaction lifetime is dumped with "
                        "mongodump or a storage snapshot: README, Backups and restores)"
                        if isinstance(exc, OperationFailure) else "")
                raise SystemExit(f"dump failed, nothing kept: {exc}{hint}") from None
            except FileExistsError as exc:
                raise SystemExit(str(exc)) from None
    else:
        source = dumped_database(args.source)
        with MongoClient(args.to_uri, tz_aware=True) as client:
            restore(source, client[args.to_db or source.name], drop=args.drop)
    return 0


if __name__ == "__main__":
    sys.exit(main())
