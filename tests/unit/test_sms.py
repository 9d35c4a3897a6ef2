"""shared/sms.py: segment counting, the dev outbox, and the HTTP adapter against a local
gateway (a real HTTP server on a free port, answering from a script)."""
from __future__ import annotations

import json
import logging
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from shared import sms
from shared.config import ConfigError

BANGLA = "প্রবাসী কোড: 123456। ৫ মিনিট বৈধ। কাউকে জানাবেন না।"


# -- segments -----------------------------------------------------------------------------

@pytest.mark.parametrize("text, encoding, count", [
    ("a" * 160, sms.GSM7, 1),
    ("a" * 161, sms.GSM7, 2),
    ("a" * 306, sms.GSM7, 2),
    ("a" * 307, sms.GSM7, 3),
    ("€" * 80, sms.GSM7, 1),           # an extension character is two septets
    ("€" * 81, sms.GSM7, 2),
    ("ক" * 70, sms.UCS2, 1),
    ("ক" * 71, sms.UCS2, 2),
    ("ক" * 134, sms.UCS2, 2),
    ("ক" * 135, sms.UCS2, 3),
    ("a" * 69 + "ক", sms.UCS2, 1),    # one Bangla letter makes the whole message UCS-2
    ("a" * 70 + "ক", sms.UCS2, 2),
    ("", sms.GSM7, 1),
])
def test_segments_by_encoding(text, encoding, count):
    assert sms.encoding_of(text) == encoding
    assert sms.segments(text) == count


def test_a_character_beyond_the_bmp_takes_two_ucs2_units():
    assert sms.length_in("😀", sms.UCS2) == 2
    assert sms.segments("😀" * 35) == 1 and sms.segments("😀" * 36) == 2


def test_masked_keeps_the_code_and_most_of_the_number_out():
    assert sms.masked("+8801712345678") == "+8801*******78"


# -- dev adapter ----------------------------------------------------------------------------

def test_dev_adapter_writes_one_json_line_per_message(tmp_path):
    outbox = str(tmp_path / "sub" / "outbox.jsonl")
    adapter = sms.DevSms(outbox)
    first = adapter.send("+8801712345678", BANGLA)
    adapter.send("+8801812345678", "Probashi code: 654321")
    lines = sms.read_outbox(outbox)
    assert [(m["to"], m["text"]) for m in lines] == [("+8801712345678", BANGLA),
                                                     ("+8801812345678", "Probashi code: 654321")]
    assert lines[0]["id"] == first.id and lines[0]["encoding"] == sms.UCS2 and lines[0]["segments"] == 1
    assert os.stat(outbox).st_mode & 0o077 == 0


def test_dev_adapter_lines_stay_whole_with_concurrent_writers(tmp_path):
    outbox = str(tmp_path / "outbox.jsonl")
    long_text = BANGLA * 40  # several KB per line

    def write(n):
        adapter = sms.DevSms(outbox)
        for i in range(25):
            adapter.send(f"+88017{n:02d}{i:06d}", long_text)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lines = sms.read_outbox(outbox)  # json.loads of every line: none interleaved
    assert len(lines) == 200 and all(m["text"] == long_text for m in lines)


def test_reading_an_outbox_not_written_yet_is_empty(tmp_path):
    assert sms.read_outbox(str(tmp_path / "none.jsonl")) == []


# -- HTTP adapter ---------------------------------------------------------------------------

class Gateway:
    """A local gateway answering each POST with the next scripted (status, body); what it
    received is kept. A status of None closes the connection without answering."""

    def __init__(self, script):
        self.script = list(script)
        self.received: list[dict] = []
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                gateway.received.append({"headers": dict(self.headers), "body": json.loads(body)})
                status, answer = gateway.script.pop(0) if gateway.script else (200, {"id": "gw-default"})
                if status is None:
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                raw = answer.encode() if isinstance(answer, str) else json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/messages"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def gateway():
    made = []

    def make(*script):
        made.append(Gateway(script))
        return made[-1]
    yield make
    for g in made:
        g.close()


def adapter(url, **kwargs):
    slept = []
    return sms.HttpSms(url, "gw-key", timeout=kwargs.pop("timeout", 2.0), sleep=slept.append, **kwargs), slept


def test_http_adapter_posts_bangla_as_ucs2_with_the_key(gateway):
    gw = gateway((200, {"id": "gw-1"}))
    http, _ = adapter(gw.url)
    result = http.send("+8801712345678", BANGLA)
    assert result == sms.SmsResult(id="gw-1", segments=1, encoding=sms.UCS2)
    sent = gw.received[0]
    assert sent["body"]["to"] == "+8801712345678" and sent["body"]["text"] == BANGLA
    assert sent["body"]["encoding"] == sms.UCS2
    assert sent["headers"]["Authorization"] == "Bearer gw-key"


def test_http_adapter_retries_5xx_with_backoff_and_one_reference(gateway):
    gw = gateway((503, {"error": "busy"}), (502, "bad gateway"), (200, {"message_id": "gw-2"}))
    http, slept = adapter(gw.url, backoff=(0.5, 1.0, 2.0))
    assert http.send("+8801712345678", "hello").id == "gw-2"
    assert slept == [0.5, 1.0]
    references = {r["body"]["reference"] for r in gw.received}
    assert len(gw.received) == 3 and len(references) == 1
    assert {r["headers"]["Idempotency-Key"] for r in gw.received} == references


def test_http_adapter_gives_up_after_its_retries(gateway):
    gw = gateway(*[(500, {"error": "down"})] * 4)
    http, slept = adapter(gw.url, backoff=(0.1, 0.2, 0.4))
    with pytest.raises(sms.SmsUnavailable, match="down"):
        http.send("+8801712345678", "hello")
    assert len(gw.received) == 4 and slept == [0.1, 0.2, 0.4]


def test_http_adapter_retries_a_dropped_connection(gateway):
    gw = gateway((None, None), (200, {"id": "gw-3"}))
    http, _ = adapter(gw.url)
    assert http.send("+8801712345678", "hello").id == "gw-3"
    assert len(gw.received) == 2


def test_http_adapter_retries_a_refused_connection():
    # A port nothing listens on: bind one, learn it, close it.
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    http, slept = adapter(f"http://127.0.0.1:{port}/", backoff=(0.1,))
    with pytest.raises(sms.SmsUnavailable):
        http.send("+8801712345678", "hello")
    assert slept == [0.1]


def test_http_adapter_refusal_names_the_gateways_reason_and_is_not_retried(gateway):
    gw = gateway((422, {"error": "number is on the do-not-disturb list"}))
    http, slept = adapter(gw.url)
    with pytest.raises(sms.SmsRefused) as refused:
        http.send("+8801712345678", "hello")
    assert refused.value.status == 422 and refused.value.reason == "number is on the do-not-disturb list"
    assert len(gw.received) == 1 and slept == []


def test_http_adapter_refusal_with_a_text_body(gateway):
    gw = gateway((401, "invalid api key"))
    http, _ = adapter(gw.url)
    with pytest.raises(sms.SmsRefused, match="invalid api key"):
        http.send("+8801712345678", "hello")


def test_sending_logs_segments_and_never_the_text(gateway, caplog):
    gw = gateway((200, {"id": "gw-4"}))
    http, _ = adapter(gw.url)
    with caplog.at_level(logging.INFO, logger="probashi.sms"):
        http.send("+8801712345678", "Probashi code: 482913. " + "x" * 150)
    record = next(r for r in caplog.records if r.getMessage() == "sms sent")
    assert record.segments == 2 and record.encoding == sms.GSM7 and record.to == "+8801*******78"
    assert all("482913" not in r.getMessage() and "482913" not in str(vars(r)) for r in caplog.records)
    assert all("+8801712345678" not in str(vars(r)) for r in caplog.records)


# -- settings -------------------------------------------------------------------------------

def test_from_settings_picks_the_adapter(tmp_path):
    dev = sms.from_settings({"SMS_DEV_OUTBOX": str(tmp_path / "o.jsonl")})
    assert isinstance(dev, sms.DevSms) and dev.path == str(tmp_path / "o.jsonl")
    http = sms.from_settings({"SMS_ADAPTER": "http", "SMS_GATEWAY_URL": "https://gw.example/send",
                              "SMS_GATEWAY_KEY": "k", "SMS_GATEWAY_TIMEOUT": "3"})
    assert isinstance(http, sms.HttpSms) and http.timeout == 3.0


@pytest.mark.parametrize("env, words", [
    ({"SMS_ADAPTER": "carrier-pigeon"}, "dev or http"),
    ({"SMS_ADAPTER": "http", "SMS_GATEWAY_URL": "https://gw.example/send"}, "SMS_GATEWAY_KEY"),
    ({"SMS_ADAPTER": "http", "SMS_GATEWAY_URL": "gw.example", "SMS_GATEWAY_KEY": "k"}, "http(s) URL"),
    ({"SMS_ADAPTER": "http", "SMS_GATEWAY_URL": "http://gw.example", "SMS_GATEWAY_KEY": "k",
      "PROBASHI_ENV": "production"}, "https"),
    ({"PROBASHI_ENV": "production"}, "production needs SMS_ADAPTER=http"),
    ({"SMS_ADAPTER": "http", "SMS_GATEWAY_URL": "https://gw.example", "SMS_GATEWAY_KEY": "k",
      "SMS_GATEWAY_TIMEOUT": "soon"}, "SMS_GATEWAY_TIMEOUT"),
])
def test_from_settings_refuses_what_cannot_work(env, words):
    with pytest.raises(ConfigError, match=words.replace("(", r"\(").replace(")", r"\)")):
        sms.from_settings(env)
