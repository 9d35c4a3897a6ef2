"""Checking uploaded bytes: real content type, size limit, SHA-256, download names.

Nothing here trusts a file name or a client-sent ``Content-Type``: the type is
decided from the first bytes of the content (:func:`sniff_type`), and only PDF,
JPEG, PNG and WebP are accepted by default.

Streaming an upload
-------------------
:class:`CheckedUpload` wraps a binary stream (anything with ``.read(n)``, e.g.
``request.stream`` or a file) and is an iterator of ``bytes`` chunks, so an
upload is checked, hashed and stored in one pass without ever holding the
whole file in memory::

    upload = checked_chunks(request.stream, max_bytes=10 * 1024 * 1024)
    try:
        for chunk in upload:           # the first chunk is only yielded once
            sink.write(chunk)          # the type has been checked
    except (EmptyContent, UnsupportedType, StreamLimitExceeded):
        sink.abort()                   # discard whatever was written
        raise
    upload.content_type                # "application/pdf" ...
    upload.sha256                      # hex SHA-256 of all the bytes
    upload.size                        # number of bytes

Errors, all raised from the iteration:

* :class:`EmptyContent` - the stream had no bytes; raised before any chunk.
* :class:`UnsupportedType` - the sniffed type is not allowed; raised before any
  chunk, so nothing of a rejected file ever reaches storage.
* :class:`StreamLimitExceeded` - more than ``max_bytes``; raised as soon as the
  limit is passed (at most ``max_bytes + 1`` bytes are ever read from the
  source), possibly after some chunks were yielded - the caller must discard
  them.

``content_type`` is available once the first chunk has been yielded;
``sha256`` and ``size`` only once the iteration has finished (reading them
earlier raises ``RuntimeError`` rather than returning a hash of part of the
file). ``upload.chunks()`` returns the same iterator, and the upload can be
consumed only once. :class:`HashingReader` is the lower-level piece: a
``.read(n)`` wrapper that counts, hashes and enforces the limit.

Serving a download
------------------
:func:`safe_filename` turns a user-supplied name into an ASCII name whose
extension matches the real type; :func:`content_disposition` builds the
``Content-Disposition`` value carrying both that name and the original
(possibly Bangla) one, RFC 6266 / RFC 5987 style. :class:`SpooledCopy` reads the
stored bytes once, hashing them, into memory or a temporary file, so they can be
checked against the recorded hash before the first byte is sent; :func:`repr_digest`
is the RFC 9530 ``Repr-Digest`` value of a hex SHA-256.
"""
from __future__ import annotations

import base64
import hashlib
import re
import tempfile
import unicodedata
from typing import Iterable, Iterator, Protocol
from urllib.parse import quote

PDF = "application/pdf"
JPEG = "image/jpeg"
PNG = "image/png"
WEBP = "image/webp"

DEFAULT_ALLOWED_TYPES: frozenset[str] = frozenset({PDF, JPEG, PNG, WEBP})

#: The extension a download gets for each supported type.
EXTENSIONS: dict[str, str] = {PDF: ".pdf", JPEG: ".jpg", PNG: ".png", WEBP: ".webp"}

#: How many leading bytes the type check looks at.
SNIFF_BYTES = 16
DEFAULT_CHUNK_SIZE = 256 * 1024
MAX_FILENAME_LENGTH = 100


class BinaryStream(Protocol):
    def read(self, n: int = -1, /) -> bytes: ...


# ---------------------------------------------------------------------------
# Errors


class StreamLimitExceeded(Exception):
    """The content is larger than the allowed maximum."""

    def __init__(self, limit: int):
        super().__init__(f"content exceeds the limit of {limit} bytes")
        self.limit = limit


class EmptyContent(Exception):
    """The content has no bytes at all."""

    def __init__(self, message: str = "content is empty"):
        super().__init__(message)


class UnsupportedType(Exception):
    """The content is not of an allowed type.

    ``detected`` is a short description of what the bytes look like (a MIME
    type for a recognised but not allowed type, e.g. ``"image/webp"``, or a
    phrase such as ``"Windows executable"``), or ``None`` when unrecognised. It
    comes from a fixed vocabulary, never from the upload, so it is safe to log
    and to show.
    """

    def __init__(self, detected: str | None):
        super().__init__(f"unsupported content type: {detected or 'unrecognised content'}")
        self.detected = detected


# ---------------------------------------------------------------------------
# Type sniffing


def sniff_type(head: bytes) -> str | None:
    """The MIME type of content starting with ``head`` (PDF, JPEG, PNG, WebP), else ``None``.

    Only the magic bytes decide; 12 bytes are enough for every supported
    type, :data:`SNIFF_BYTES` are passed in practice.
    """
    head = bytes(head[:SNIFF_BYTES])
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    return None


_KNOWN_OTHERS: tuple[tuple[bytes, str], ...] = (
    (b"MZ", "Windows executable"),
    (b"\x7fELF", "ELF executable"),
    (b"\xcf\xfa\xed\xfe", "Mach-O executable"),
    (b"\xce\xfa\xed\xfe", "Mach-O executable"),
    (b"\xca\xfe\xba\xbe", "Mach-O or Java class file"),
    (b"#!", "script"),
    (b"PK\x03\x04", "ZIP archive (or DOCX/XLSX/APK)"),
    (b"PK\x05\x06", "ZIP archive (or DOCX/XLSX/APK)"),
    (b"Rar!\x1a\x07", "RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "7-Zip archive"),
    (b"\x1f\x8b", "gzip archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "legacy Microsoft Office document"),
    (b"{\\rtf", "RTF document"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
    (b"BM", "image/bmp"),
)


def describe_content(head: bytes) -> str | None:
    """A short, fixed-vocabulary description of what ``head`` looks like, for error messages and logs."""
    head = bytes(head[:SNIFF_BYTES])
    known = sniff_type(head)
    if known is not None:
        return known
    for magic, description in _KNOWN_OTHERS:
        if head.startswith(magic):
            return description
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<script")):
        return "HTML document"
    if text.startswith(b"<svg"):
        return "SVG image"
    if text.startswith(b"<?xml"):
        return "XML document"
    return None


# ---------------------------------------------------------------------------
# Streaming


def _check_limit(max_bytes: int) -> int:
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 1:
        raise ValueError(f"max_bytes must be a positive integer, got {max_bytes!r}")
    return max_bytes


class HashingReader:
    """A ``.read(n)`` wrapper that hashes, counts and caps the bytes passing through.

    Each ``read(n)`` asks the source for at most ``n`` bytes - and never for
    more than one byte past ``max_bytes`` in total - updates the SHA-256 and
    the byte count, and raises :class:`StreamLimitExceeded` as soon as the
    count exceeds ``max_bytes`` (and on every read after that). ``read()`` /
    ``read(-1)`` reads to the end in :data:`DEFAULT_CHUNK_SIZE` pieces, so it
    holds at most ``max_bytes`` in memory.
    """

    def __init__(self, stream: BinaryStream, max_bytes: int, *, head_size: int = SNIFF_BYTES):
        self._stream = stream
        self._max = _check_limit(max_bytes)
        self._head_size = head_size
        self._hash = hashlib.sha256()
        self._size = 0
        self._head = bytearray()
        self._eof = False
        self._exceeded = False

    def read(self, n: int | None = -1) -> bytes:
        if self._exceeded:
            raise StreamLimitExceeded(self._max)
        if n is None or n < 0:
            parts = []
            while part := self.read(DEFAULT_CHUNK_SIZE):
                parts.append(part)
            return b"".join(parts)
        if n == 0 or self._eof:
            return b""
        want = min(n, self._max - self._size + 1)
        data = self._stream.read(want)
        if not data:
            self._eof = True
            return b""
        data = bytes(data)
        self._size += len(data)
        if self._size > self._max:
            self._exceeded = True
            raise StreamLimitExceeded(self._max)
        self._hash.update(data)
        if len(self._head) < self._head_size:
            self._head += data[: self._head_size - len(self._head)]
        return data

    @property
    def sha256(self) -> str:
        """Hex SHA-256 of the bytes read so far."""
        return self._hash.hexdigest()

    @property
    def size(self) -> int:
        """Number of bytes read so far."""
        return self._size

    @property
    def head(self) -> bytes:
        """The first ``head_size`` (16) bytes read, fewer if the content is shorter."""
        return bytes(self._head)

    @property
    def max_bytes(self) -> int:
        return self._max

    @property
    def eof(self) -> bool:
        """True once the source has reported end of stream."""
        return self._eof


class CheckedUpload:
    """An upload being checked while it streams; iterate it once for the chunks.

    See the module docstring for the protocol. ``allowed_types`` must be a
    subset of the types :func:`sniff_type` recognises.
    """

    def __init__(
        self,
        stream: BinaryStream,
        max_bytes: int,
        *,
        allowed_types: Iterable[str] = DEFAULT_ALLOWED_TYPES,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ):
        allowed = frozenset(allowed_types)
        unknown = allowed - EXTENSIONS.keys()
        if unknown:
            raise ValueError(f"cannot recognise content of type(s) {sorted(unknown)}")
        if not allowed:
            raise ValueError("allowed_types is empty")
        if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
            raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}")
        self._reader = HashingReader(stream, max_bytes)
        self._allowed = allowed
        self._chunk_size = chunk_size
        self._content_type: str | None = None
        self._complete = False
        self._iterator = self._generate()

    def _generate(self) -> Iterator[bytes]:
        reader = self._reader
        first = bytearray()
        while len(first) < SNIFF_BYTES:
            part = reader.read(self._chunk_size)
            if not part:
                break
            first += part
        if not first:
            raise EmptyContent()
        content_type = sniff_type(first)
        if content_type is None or content_type not in self._allowed:
            raise UnsupportedType(describe_content(first))
        self._content_type = content_type
        yield bytes(first)
        del first
        while part := reader.read(self._chunk_size):
            yield part
        self._complete = True

    def __iter__(self) -> "CheckedUpload":
        return self

    def __next__(self) -> bytes:
        return next(self._iterator)

    def chunks(self) -> Iterator[bytes]:
        """The chunks, as an iterator (the upload itself; it can be consumed once)."""
        return self

    @property
    def complete(self) -> bool:
        """True once every byte has been read and checked."""
        return self._complete

    @property
    def bytes_read(self) -> int:
        """Bytes read so far (for logging a failed upload)."""
        return self._reader.size

    @property
    def content_type(self) -> str:
        """The sniffed MIME type; available once the first chunk has been yielded."""
        if self._content_type is None:
            raise RuntimeError("content type not checked yet: iterate the upload first")
        return self._content_type

    @property
    def extension(self) -> str:
        """The file extension (".pdf", ".jpg", ...) for :attr:`content_type`."""
        return EXTENSIONS[self.content_type]

    @property
    def sha256(self) -> str:
        """Hex SHA-256 of the whole content; only once the iteration finished."""
        self._require_complete()
        return self._reader.sha256

    @property
    def size(self) -> int:
        """Size of the whole content in bytes; only once the iteration finished."""
        self._require_complete()
        return self._reader.size

    def _require_complete(self) -> None:
        if not self._complete:
            raise RuntimeError("upload not completely read: exhaust the chunks first")


def checked_chunks(
    stream: BinaryStream,
    max_bytes: int,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    *,
    allowed_types: Iterable[str] = DEFAULT_ALLOWED_TYPES,
) -> CheckedUpload:
    """Iterator of checked chunks of ``stream``, which after exhaustion also holds the results.

    Shorthand for :class:`CheckedUpload`; see the module docstring.
    """
    return CheckedUpload(stream, max_bytes, allowed_types=allowed_types, chunk_size=chunk_size)


# ---------------------------------------------------------------------------
# Download names

_UNSAFE_CHARS = re.compile(r"[^A-Za-z0-9._-]+")
_WHITESPACE = re.compile(r"\s+")
_DOTS = re.compile(r"\.{2,}")
_UNDERSCORES = re.compile(r"_{2,}")
_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,5}$")
_EDGE_CHARS = "._- "
_WINDOWS_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL"} | {f"COM{i}" for i in range(1, 10)} | {f"LPT{i}" for i in range(1, 10)}
)
# Direction overrides/isolates: "invoice\u202efdp.exe" displays as "invoiceexe.pdf".
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")


def _basename(name: str) -> str:
    """The last path component, whichever separator the client used."""
    return name.replace("\\", "/").rsplit("/", 1)[-1]


def _strip_extension(stem: str) -> str:
    return _EXTENSION.sub("", stem)


def _ascii_stem(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = _WHITESPACE.sub("_", text.strip())
    text = _UNSAFE_CHARS.sub("", text)
    text = _DOTS.sub(".", text)
    return _UNDERSCORES.sub("_", text)


def _extension_for(content_type: str) -> str:
    try:
        return EXTENSIONS[content_type]
    except KeyError:
        raise ValueError(f"no download extension for content type {content_type!r}") from None


def safe_filename(name: str | None, content_type: str, fallback_stem: str) -> str:
    """An ASCII download name derived from ``name``, with the extension of the real ``content_type``.

    Directories, control characters, quotes and anything but ASCII letters,
    digits, ``.``, ``-`` and ``_`` are removed (accented letters lose their
    accents, whitespace becomes ``_``), the client's extension is replaced,
    and the result is at most 100 characters. When nothing usable is left
    (e.g. an all-Bangla name), ``fallback_stem`` (sanitised the same way, or
    ``"document"``) is used. Raises ``ValueError`` for an unsupported type.
    """
    ext = _extension_for(content_type)
    stem = ""
    if name:
        stem = _ascii_stem(_basename(name)).rstrip(_EDGE_CHARS)
        stem = _strip_extension(stem).strip(_EDGE_CHARS)
    if not stem:
        stem = _strip_extension(_ascii_stem(_basename(fallback_stem or ""))).strip(_EDGE_CHARS) or "document"
    if stem.split(".", 1)[0].upper() in _WINDOWS_RESERVED:
        stem = "file_" + stem
    stem = stem[: MAX_FILENAME_LENGTH - len(ext)].rstrip(_EDGE_CHARS) or "document"
    return stem + ext


def _clean_original(name: str) -> str:
    name = unicodedata.normalize("NFC", _basename(name))
    # Drop C0/C1 controls and direction overrides; keep ZWJ/ZWNJ, which Bangla spelling uses.
    name = "".join(c for c in name if unicodedata.category(c) != "Cc" and c not in _BIDI_CONTROLS)
    return _WHITESPACE.sub(" ", name).strip(_EDGE_CHARS)


# RFC 5987 attr-char minus the ones quote() never escapes anyway.
_ATTR_CHARS = "!#$&+-.^_`|~"


def content_disposition(filename_original: str | None, safe_name: str, *, inline: bool = False) -> str:
    """A ``Content-Disposition`` value with ``filename="<safe>"`` and ``filename*=UTF-8''<original>``.

    ``safe_name`` (normally from :func:`safe_filename`) is the fallback for
    old clients; the original name, percent-encoded as UTF-8, is what modern
    browsers save under. The original is cleaned of directories, control and
    direction-override characters, and its extension is replaced by
    ``safe_name``'s so a browser never saves a PDF as ``.exe``. Without a
    usable original, ``filename*`` repeats the safe name.
    """
    safe = _UNSAFE_CHARS.sub("", safe_name or "").strip(_EDGE_CHARS) or "download"
    match = _EXTENSION.search(safe)
    ext = match.group(0) if match else ""
    original = _clean_original(filename_original) if filename_original else ""
    original = _strip_extension(original).strip(_EDGE_CHARS)[:MAX_FILENAME_LENGTH].strip(_EDGE_CHARS)
    original = original + ext if original else safe
    disposition = "inline" if inline else "attachment"
    return f"{disposition}; filename=\"{safe}\"; filename*=UTF-8''{quote(original, safe=_ATTR_CHARS)}"


SPOOL_IN_MEMORY_BYTES = 1024 * 1024


class SpooledCopy:
    """The bytes of ``chunks``, read once: ``sha256`` and ``size`` are known before any
    byte is served, memory use is capped (larger content goes to a temporary file), and
    nothing read later can differ from what was hashed."""

    def __init__(self, chunks: Iterable[bytes]):
        self._file = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY_BYTES)
        digest, size = hashlib.sha256(), 0
        try:
            for chunk in chunks:
                digest.update(chunk)
                size += len(chunk)
                self._file.write(chunk)
        except BaseException:
            self._file.close()
            raise
        self.sha256, self.size = digest.hexdigest(), size
        self._file.seek(0)

    def chunks(self) -> Iterator[bytes]:
        """The bytes, once, in :data:`DEFAULT_CHUNK_SIZE` pieces; the copy is closed after."""
        try:
            while chunk := self._file.read(DEFAULT_CHUNK_SIZE):
                yield chunk
        finally:
            self.close()

    def close(self) -> None:
        self._file.close()


def repr_digest(sha256_hex: str) -> str:
    """``Repr-Digest`` (RFC 9530) for a hex SHA-256: ``sha-256=:<base64>:``."""
    return f"sha-256=:{base64.b64encode(bytes.fromhex(sha256_hex)).decode('ascii')}:"
