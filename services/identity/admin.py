"""The first admin, and any admin after them when nobody can sign in to make one:

    python -m services.identity.admin create-admin --username NAME [--full-name ...] [--district ...]

The password is read from a prompt (twice), or from standard input when it is not a
terminal (`... < password-file`). There is no default password, ever.
"""
from __future__ import annotations

import argparse
import getpass
import sys

from shared.config import Settings
from shared.errors import DomainError, Invalid

from . import bootstrap


def read_password(stdin=sys.stdin) -> str:
    if not stdin.isatty():
        return stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password for the new admin: ")
    if getpass.getpass("The same again: ") != first:
        raise SystemExit("The two passwords differ; nothing was created.")
    return first


def main(argv: list[str] | None = None, stdin=sys.stdin) -> int:
    parser = argparse.ArgumentParser(prog="services.identity.admin", description="Identity's administration")
    sub = parser.add_subparsers(dest="command", required=True)
    create = sub.add_parser("create-admin", help="create an admin account with a password you type")
    create.add_argument("--username", required=True)
    create.add_argument("--full-name", default="Administrator")
    create.add_argument("--district", default="Dhaka")
    args = parser.parse_args(argv)
    from .schemas import StaffCreateSchema
    errors = StaffCreateSchema().validate({"username": args.username, "full_name": args.full_name, "role": "admin",
                                           "district": args.district})
    if errors:
        parser.error(f"{errors}")
    password = read_password(stdin)
    service = bootstrap.build(Settings.from_env(bootstrap.SERVICE))
    try:
        account = service.create_admin(args.username, args.full_name, args.district, password)
    except Invalid as exc:
        print(f"Refused: {exc.errors}", file=sys.stderr)
        return 2
    except DomainError as exc:
        print(f"Refused: {exc.detail}", file=sys.stderr)
        return 2
    print(f"Created admin {account['username']}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
