"""A guide entry's lists as rows of a plain form (no JavaScript): a topic's papers, forms and
places to go, and every entry's sources. Each row is one item; the form shows the items as read
and two empty rows to add more (saving gives two more); a row emptied is an item removed. The
form says how many rows it had ("documents.rows"): a list a form did not show is carried as read.
"""
from __future__ import annotations

from flask_babel import gettext as _

EXTRA_ROWS = 2
MAX_ROWS = 50
# Per list, the parts of an item by dotted name: bn/en texts, a title, a web address.
PARTS = {
    "documents": ("bn", "en"),
    "where_to_go": ("bn", "en"),
    "forms": ("title.bn", "title.en", "url"),
    "sources": ("title", "url"),
}
BY_KIND = {"agencies": ("sources",), "links": ("sources",), "countries": ("sources",),
           "topics": ("documents", "forms", "where_to_go", "sources")}


def names(kind: str) -> tuple[str, ...]:
    return BY_KIND.get(kind, ())


def dig(item, name: str):
    for part in name.split("."):
        item = item.get(part) if isinstance(item, dict) else None
    return item


def place(body: dict, name: str, value) -> None:
    *parents, last = name.split(".")
    for part in parents:
        body = body.setdefault(part, {})
    body[last] = value


def values_of(kind: str, entry: dict) -> dict:
    """The entry's lists as the form's flat fields: "documents.0.bn", ... and "documents.rows"."""
    values: dict = {}
    for name in names(kind):
        items = entry.get(name) or []
        for n, item in enumerate(items):
            for part in PARTS[name]:
                values[f"{name}.{n}.{part}"] = dig(item, part) or ""
        values[f"{name}.rows"] = len(items) + EXTRA_ROWS
    return values


def values_from(kind: str, form) -> dict:
    """The lists the form showed, as typed (a list it did not show is left out)."""
    values: dict = {}
    for name in names(kind):
        shown = form.get(f"{name}.rows", "")
        if not shown.isdigit():
            continue
        rows = min(int(shown), MAX_ROWS)
        values[f"{name}.rows"] = rows
        for n in range(rows):
            for part in PARTS[name]:
                values[f"{name}.{n}.{part}"] = form.get(f"{name}.{n}.{part}", "").strip()
    return values


def items(kind: str, values: dict) -> tuple[dict, dict]:
    """({list: items} for the body, {list: {item's place in the body: its form row}}): empty rows left out."""
    lists, rows_of = {}, {}
    for name in names(kind):
        if f"{name}.rows" not in values:
            continue
        lists[name], rows_of[name] = [], {}
        for n in range(values[f"{name}.rows"]):
            row = {part: values.get(f"{name}.{n}.{part}", "") for part in PARTS[name]}
            if not any(row.values()):
                continue
            item: dict = {}
            for part, value in row.items():
                place(item, part, (value or None) if part.endswith("url") else value)
            rows_of[name][len(lists[name])] = n
            lists[name].append(item)
    return lists, rows_of


def errors_by_row(error_names, rows_of: dict) -> dict:
    """The directory's refusals of list items ("documents.1.bn", "forms.0.title") as
    {"documents.<form row>": sentence}; names not of a list are left to the caller."""
    found = {}
    for error_name in error_names:
        parts = error_name.split(".")
        if len(parts) < 2 or parts[0] not in rows_of or not parts[1].isdigit():
            continue
        row = rows_of[parts[0]].get(int(parts[1]), int(parts[1]))
        found[f"{parts[0]}.{row}"] = sentence(".".join(parts[2:]))
    return found


def sentence(part: str) -> str:
    last = part.rsplit(".", 1)[-1]
    return {"bn": _("Write the Bangla in Bangla letters, and the English beside it."),
            "en": _("Write the English in English letters, and the Bangla beside it."),
            "url": _("An https:// address, for example https://www.bmet.gov.bd."),
            "title": _("Write the title (for a form: in both Bangla and English)."),
            }.get(last, _("Write it in both Bangla and English, or empty the row to remove it."))


def labels() -> dict:
    """{list: (legend, a row's legend with %(n)s)} and {part: label}."""
    return {
        "lists": {"documents": (_("Papers to bring"), _("Paper %(n)s")),
                  "forms": (_("Forms"), _("Form %(n)s")),
                  "where_to_go": (_("Where to go"), _("Place %(n)s")),
                  "sources": (_("Where these facts come from"), _("Source %(n)s"))},
        "parts": {"bn": _("In Bangla"), "en": _("In English"), "title.bn": _("Title in Bangla"),
                  "title.en": _("Title in English"), "title": _("Title"), "url": _("Web address")},
    }
