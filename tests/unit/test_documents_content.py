"""services.documents.content and .doctypes: type sniffing, streaming checks, download names."""
from __future__ import annotations

import hashlib
import io
import os
from urllib.parse import unquote

import pytest

from services.documents import content
from services.documents.content import (
    CheckedUpload,
    EmptyContent,
    HashingReader,
    StreamLimitExceeded,
    UnsupportedType,
    checked_chunks,
    content_disposition,
    describe_content,
    safe_filename,
    sniff_type,
)
from services.documents.doctypes import (
    DEFAULT_CODES,
    DEFAULT_DOCUMENT_TYPES,
    document_type,
    load_document_types,
)

PDF_BYTES = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n%%EOF\n"
JPEG_BYTES = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
PNG_BYTES = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
WEBP_BYTES = b"RIFF\x24\x00\x00\x00WEBPVP8 \x18\x00\x00\x00" + b"\x00" * 24
EXE_BYTES = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 100


class CountingStream:
    """An endless source of ``fill`` bytes after ``prefix`` that records every read."""

    def __init__(self, prefix: bytes = b"", fill: bytes = b"A", total: int | None = None, short_reads: int = 0):
        self.prefix = prefix
        self.fill = fill
        self.total = total  # None = infinite
        self.position = 0
        self.reads: list[int] = []
        self.short_reads = short_reads  # cap each read at this many bytes when > 0

    def read(self, n: int = -1) -> bytes:
        assert n is not None and n > 0, "the reader must never ask for everything"
        self.reads.append(n)
        if self.short_reads:
            n = min(n, self.short_reads)
        if self.total is not None:
            n = min(n, self.total - self.position)
        out = bytearray()
        while len(out) < n:
            if self.position < len(self.prefix):
                take = self.prefix[self.position : self.position + n - len(out)]
            else:
                take = self.fill * (n - len(out))
            out += take
            self.position += len(take)
        return bytes(out)

    @property
    def bytes_served(self) -> int:
        return self.position


def consume(upload: CheckedUpload) -> bytes:
    return b"".join(upload)


# ---------------------------------------------------------------------------
# doctypes


def test_default_document_types_cover_the_required_codes():
    required = {
        "job_contract", "payment_slip", "training_certificate", "medical_certificate", "visa",
        "passport_copy", "emigration_clearance", "death_certificate", "heirship_certificate",
        "power_of_attorney", "medical_report", "other",
    }
    assert required <= set(DEFAULT_CODES)
    assert len(set(DEFAULT_CODES)) == len(DEFAULT_CODES)
    for entry in DEFAULT_DOCUMENT_TYPES:
        assert entry.label_en and entry.label_bn
        assert any("\u0980" <= ch <= "\u09ff" for ch in entry.label_bn), entry  # Bengali script
    assert "smart card" in document_type("emigration_clearance").label_en.lower()


def test_load_document_types_defaults_when_unset_or_blank():
    assert load_document_types(None) == DEFAULT_CODES
    assert load_document_types("") == DEFAULT_CODES
    assert load_document_types("   ") == DEFAULT_CODES


def test_load_document_types_from_env_value():
    assert load_document_types("visa, job_contract,,wage_claim_form2 ,") == ("visa", "job_contract", "wage_claim_form2")


@pytest.mark.parametrize("value", ["Visa", "job-contract", "job contract", "1visa", "visa__x", "_visa", "ভিসা", ",", "visa,visa"])
def test_load_document_types_rejects_bad_values(value):
    with pytest.raises(ValueError):
        load_document_types(value)


def test_document_type_labels_for_custom_code():
    assert document_type("wage_claim_form").label_en == "Wage claim form"
    with pytest.raises(ValueError):
        document_type("Bad Code")


# ---------------------------------------------------------------------------
# sniffing


@pytest.mark.parametrize(
    "data, expected",
    [(PDF_BYTES, "application/pdf"), (JPEG_BYTES, "image/jpeg"), (PNG_BYTES, "image/png"), (WEBP_BYTES, "image/webp")],
)
def test_sniff_type_recognises_each_supported_type(data, expected):
    assert sniff_type(data[:16]) == expected


@pytest.mark.parametrize(
    "data",
    [
        EXE_BYTES,
        b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8,
        b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 8,
        b"<!DOCTYPE html><html>",
        b"<svg xmlns='http://www.w3.org/2000/svg'>",
        b"GIF89a\x01\x00\x01\x00",
        b"RIFF\x24\x00\x00\x00WAVEfmt ",  # RIFF but not WebP
        b"%PD",  # truncated magic
        b" %PDF-1.4",  # magic not at the start
        b"",
    ],
)
def test_sniff_type_rejects_everything_else(data):
    assert sniff_type(data) is None


def test_describe_content_names_common_rejects():
    assert describe_content(EXE_BYTES) == "Windows executable"
    assert describe_content(b"\x7fELF\x02\x01") == "ELF executable"
    assert describe_content(b"\xef\xbb\xbf<html><body>") == "HTML document"
    assert describe_content(b"\x00\x01\x02\x03") is None


# ---------------------------------------------------------------------------
# CheckedUpload / checked_chunks


@pytest.mark.parametrize(
    "data, expected",
    [(PDF_BYTES, "application/pdf"), (JPEG_BYTES, "image/jpeg"), (PNG_BYTES, "image/png"), (WEBP_BYTES, "image/webp")],
)
def test_each_supported_type_is_accepted(data, expected):
    upload = checked_chunks(io.BytesIO(data), max_bytes=1024)
    assert consume(upload) == data
    assert upload.complete
    assert upload.content_type == expected
    assert upload.extension == content.EXTENSIONS[expected]
    assert upload.size == len(data)
    assert upload.sha256 == hashlib.sha256(data).hexdigest()


def test_executable_named_pdf_is_rejected_before_any_chunk():
    # The file name and the client's content type are simply not inputs: only the bytes count.
    upload = checked_chunks(io.BytesIO(EXE_BYTES), max_bytes=1024)
    with pytest.raises(UnsupportedType) as info:
        next(upload)
    assert info.value.detected == "Windows executable"
    assert not upload.complete
    with pytest.raises(RuntimeError):
        upload.content_type
    with pytest.raises(RuntimeError):
        upload.sha256


def test_unrecognised_content_is_rejected_with_no_description():
    with pytest.raises(UnsupportedType) as info:
        consume(checked_chunks(io.BytesIO(b"just some plain text, not a document"), max_bytes=1024))
    assert info.value.detected is None


def test_recognised_type_can_be_excluded_from_allowed_types():
    upload = CheckedUpload(io.BytesIO(WEBP_BYTES), 1024, allowed_types={"application/pdf"})
    with pytest.raises(UnsupportedType) as info:
        consume(upload)
    assert info.value.detected == "image/webp"


def test_allowed_types_must_be_sniffable():
    with pytest.raises(ValueError):
        CheckedUpload(io.BytesIO(PDF_BYTES), 1024, allowed_types={"image/gif"})


def test_empty_stream_is_rejected():
    upload = checked_chunks(io.BytesIO(b""), max_bytes=1024)
    with pytest.raises(EmptyContent):
        next(upload)


def test_type_is_checked_on_16_bytes_even_with_tiny_reads():
    # The client drips the content 3 bytes at a time; the first chunk is buffered until 16 bytes.
    stream = CountingStream(prefix=EXE_BYTES, total=len(EXE_BYTES), short_reads=3)
    upload = checked_chunks(stream, max_bytes=1024, chunk_size=64)
    with pytest.raises(UnsupportedType):
        next(upload)
    assert stream.bytes_served == 18  # 6 short reads of 3 bytes, then it stopped

    data = PDF_BYTES * 3
    upload = checked_chunks(CountingStream(prefix=data, total=len(data), short_reads=5), max_bytes=1024, chunk_size=64)
    first = next(upload)
    assert len(first) >= 16 and upload.content_type == "application/pdf"
    assert first + consume(upload) == data
    assert upload.sha256 == hashlib.sha256(data).hexdigest()


def test_content_shorter_than_sniff_window_still_checked():
    upload = checked_chunks(io.BytesIO(b"%PDF-1.4"), max_bytes=1024)
    assert consume(upload) == b"%PDF-1.4"
    assert upload.content_type == "application/pdf"


def test_over_limit_raises_while_streaming_without_reading_everything():
    limit = 1024 * 1024
    stream = CountingStream(prefix=b"%PDF-1.7\n")  # an endless PDF
    upload = checked_chunks(stream, max_bytes=limit, chunk_size=64 * 1024)
    yielded = 0
    with pytest.raises(StreamLimitExceeded) as info:
        for chunk in upload:
            yielded += len(chunk)
    assert info.value.limit == limit
    assert yielded <= limit
    assert stream.bytes_served == limit + 1  # never more than one byte past the limit
    assert max(stream.reads) <= 64 * 1024
    assert not upload.complete
    with pytest.raises(RuntimeError):
        upload.size


def test_over_limit_detected_before_the_first_chunk_when_tiny_limit():
    stream = CountingStream(prefix=b"%PDF-1.7\n")
    with pytest.raises(StreamLimitExceeded):
        next(checked_chunks(stream, max_bytes=10))
    assert stream.bytes_served == 11


def test_exactly_at_the_limit_is_accepted():
    data = PDF_BYTES + b"x" * (4096 - len(PDF_BYTES))
    upload = checked_chunks(io.BytesIO(data), max_bytes=len(data), chunk_size=1000)
    assert consume(upload) == data
    assert upload.size == 4096


def test_hash_matches_hashlib_for_multi_megabyte_payload():
    payload = b"%PDF-1.7\n" + os.urandom(5 * 1024 * 1024 + 12345)
    upload = checked_chunks(io.BytesIO(payload), max_bytes=10 * 1024 * 1024)
    sizes = [len(chunk) for chunk in upload]
    assert max(sizes) <= content.DEFAULT_CHUNK_SIZE
    assert len(sizes) > 1
    assert upload.size == len(payload)
    assert upload.sha256 == hashlib.sha256(payload).hexdigest()


def test_upload_iterates_once_and_chunks_is_the_same_iterator():
    upload = checked_chunks(io.BytesIO(PDF_BYTES), max_bytes=1024)
    assert upload.chunks() is upload
    assert consume(upload) == PDF_BYTES
    assert consume(upload) == b""
    assert upload.sha256 == hashlib.sha256(PDF_BYTES).hexdigest()


def test_invalid_limits_rejected():
    with pytest.raises(ValueError):
        HashingReader(io.BytesIO(b""), 0)
    with pytest.raises(ValueError):
        checked_chunks(io.BytesIO(b""), 1024, chunk_size=0)


# ---------------------------------------------------------------------------
# HashingReader


def test_hashing_reader_hashes_counts_and_keeps_head():
    data = PNG_BYTES * 10
    reader = HashingReader(io.BytesIO(data), max_bytes=len(data))
    out = b""
    while part := reader.read(7):
        out += part
    assert out == data
    assert reader.eof
    assert reader.size == len(data)
    assert reader.sha256 == hashlib.sha256(data).hexdigest()
    assert reader.head == data[:16]


def test_hashing_reader_read_all_is_still_capped():
    stream = CountingStream()
    reader = HashingReader(stream, max_bytes=300_000)
    with pytest.raises(StreamLimitExceeded):
        reader.read()
    assert stream.bytes_served == 300_001
    with pytest.raises(StreamLimitExceeded):  # and it stays failed
        reader.read(1)


# ---------------------------------------------------------------------------
# download names


@pytest.mark.parametrize(
    "name, content_type, expected",
    [
        ("../../etc/passwd", "application/pdf", "passwd.pdf"),
        ("..\\..\\Windows\\system32\\evil.exe", "application/pdf", "evil.pdf"),
        ("C:\\Users\\Rahim\\Desktop\\contract.PDF", "application/pdf", "contract.pdf"),
        ("চুক্তিপত্র.pdf", "application/pdf", "doc-42.pdf"),  # nothing ASCII left
        ("চুক্তিপত্র contract 2024.pdf", "application/pdf", "contract_2024.pdf"),
        (None, "image/png", "doc-42.png"),
        ("", "image/png", "doc-42.png"),
        ("scan.pdf", "image/jpeg", "scan.jpg"),  # wrong extension replaced
        ("photo.jpeg", "image/jpeg", "photo.jpg"),
        ("slip", "image/webp", "slip.webp"),
        ('pay"slip\r\n\x00;.png', "image/png", "payslip.png"),  # quotes, controls, header injection
        ("Résumé Ahmed.pdf", "application/pdf", "Resume_Ahmed.pdf"),
        ("..", "application/pdf", "doc-42.pdf"),
        (".htaccess", "application/pdf", "htaccess.pdf"),  # no hidden files
        (".pdf", "application/pdf", "doc-42.pdf"),
        ("-rf.pdf", "application/pdf", "rf.pdf"),
        ("a...b.pdf", "application/pdf", "a.b.pdf"),
        ("CON.pdf", "application/pdf", "file_CON.pdf"),
    ],
)
def test_safe_filename(name, content_type, expected):
    assert safe_filename(name, content_type, "doc-42") == expected


def test_safe_filename_is_at_most_100_chars_and_keeps_real_extension():
    name = safe_filename("x" * 500 + ".exe", "application/pdf", "doc")
    assert len(name) == 100
    assert name.endswith(".pdf")


def test_safe_filename_fallback_is_sanitised_too():
    assert safe_filename(None, "application/pdf", "../ভিসা") == "document.pdf"


def test_safe_filename_rejects_unknown_type():
    with pytest.raises(ValueError):
        safe_filename("a.exe", "application/x-msdownload", "doc")


def test_content_disposition_carries_safe_and_original_bangla_name():
    original = "চাকরির চুক্তিপত্র.pdf"
    safe = safe_filename(original, "application/pdf", "job_contract-7")
    header = content_disposition(original, safe)
    assert header.startswith('attachment; filename="job_contract-7.pdf"; filename*=UTF-8\'\'')
    encoded = header.split("filename*=UTF-8''", 1)[1]
    assert encoded.isascii() and " " not in encoded and '"' not in encoded and ";" not in encoded
    assert unquote(encoded, encoding="utf-8") == original
    header.encode("latin-1")  # a valid header value


def test_content_disposition_forces_real_extension_and_strips_tricks():
    header = content_disposition("../বিল\u202efdp.exe", "bill.pdf", inline=True)
    assert header.startswith('inline; filename="bill.pdf"; ')
    original = unquote(header.split("filename*=UTF-8''", 1)[1])
    assert original == "বিলfdp.pdf"


def test_content_disposition_without_original_repeats_safe_name():
    assert content_disposition(None, "doc-1.png") == "attachment; filename=\"doc-1.png\"; filename*=UTF-8''doc-1.png"


def test_content_disposition_keeps_bangla_joiners():
    original = "র\u200d্যাব.jpg"  # ZWJ is part of Bangla spelling
    header = content_disposition(original, "rab.jpg")
    assert unquote(header.split("''", 1)[1]) == original


def test_repr_digest_is_the_rfc_9530_form_of_the_recorded_sha256():
    import base64
    import hashlib

    from services.documents.content import repr_digest
    digest = hashlib.sha256(b"evidence")
    assert repr_digest(digest.hexdigest()) == f"sha-256=:{base64.b64encode(digest.digest()).decode()}:"


def test_a_spooled_copy_hashes_before_serving_and_spills_large_content_to_disk():
    import hashlib

    from services.documents.content import SPOOL_IN_MEMORY_BYTES, SpooledCopy
    data = b"%PDF-1.7" + b"x" * (2 * SPOOL_IN_MEMORY_BYTES)
    copy = SpooledCopy(iter([data[:1000], data[1000:]]))
    assert copy.sha256 == hashlib.sha256(data).hexdigest() and copy.size == len(data)
    assert b"".join(copy.chunks()) == data
