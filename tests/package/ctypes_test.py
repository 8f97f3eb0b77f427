#!/usr/bin/env python3
"""The C ABI from another language: Python's ctypes loads the installed libhtevents.so, sends
events to the local collector, and checks the collector's own counts (GET /stats).

Usage: ctypes_test.py LIBRARY ENDPOINT    (LIBRARY: the installed libhtevents.so.X.Y)
Exits 0 and prints "ctypes OK: ..." when every event arrived once."""

import ctypes
import json
import sys
import urllib.request

HTEVENTS_OK = 0
HTEVENTS_MISSING_EVENT = 2
HTEVENTS_INVALID_JSON = 6
HTEVENTS_CLOSED = 9
HTEVENTS_UNKNOWN_KEY = 101
HTEVENTS_INVALID_VALUE = 102

FAILURE_CALLBACK = None  # set in bind(): the C type of the on_failure callback


class Failure(ctypes.Structure):
    """htevents_failure, field for field."""

    _fields_ = [
        ("reason", ctypes.c_int),
        ("http_status", ctypes.c_int),
        ("detail", ctypes.c_char_p),
        ("detail_len", ctypes.c_size_t),
        ("message_json", ctypes.c_char_p),
        ("message_json_len", ctypes.c_size_t),
    ]


def bind(path):
    """The library with every C API function's signature declared, as a binding would."""
    global FAILURE_CALLBACK
    lib = ctypes.CDLL(path)
    config, client = ctypes.c_void_p, ctypes.c_void_p
    text = ctypes.c_char_p
    FAILURE_CALLBACK = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.POINTER(Failure))
    signatures = {
        "htevents_config_new": (config, []),
        "htevents_config_free": (None, [config]),
        "htevents_config_set": (ctypes.c_int, [config, text, text]),
        "htevents_config_on_failure": (None, [config, FAILURE_CALLBACK, ctypes.c_void_p]),
        "htevents_client_new": (client, [text, config, ctypes.c_char_p, ctypes.c_size_t]),
        "htevents_client_free": (None, [client]),
        "htevents_identify": (ctypes.c_int, [client, text, text, text]),
        "htevents_track": (ctypes.c_int, [client, text, text, text, text]),
        "htevents_page": (ctypes.c_int, [client, text, text, text, text]),
        "htevents_screen": (ctypes.c_int, [client, text, text, text, text]),
        "htevents_group": (ctypes.c_int, [client, text, text, text, text]),
        "htevents_alias": (ctypes.c_int, [client, text, text]),
        "htevents_enqueue_json": (ctypes.c_int, [client, text, ctypes.c_size_t]),
        "htevents_flush": (ctypes.c_int, [client, ctypes.c_longlong]),
        "htevents_close": (ctypes.c_int, [client, ctypes.c_longlong]),
        "htevents_stats_json": (ctypes.c_int, [client, ctypes.c_char_p, ctypes.c_size_t]),
        "htevents_status_string": (ctypes.c_char_p, [ctypes.c_int]),
    }
    for name, (restype, argtypes) in signatures.items():
        function = getattr(lib, name)
        function.restype = restype
        function.argtypes = argtypes
    return lib


def check(condition, what):
    if not condition:
        raise SystemExit("FAIL: " + what)


def main():
    library, endpoint = sys.argv[1], sys.argv[2]
    lib = bind(library)

    config = lib.htevents_config_new()
    check(config, "htevents_config_new")
    for key, value in [("endpoint", endpoint), ("interval_ms", "20"), ("compression", "zstd"), ("batch_size", "50")]:
        check(lib.htevents_config_set(config, key.encode(), value.encode()) == HTEVENTS_OK, "config " + key)
    check(lib.htevents_config_set(config, b"colour", b"blue") == HTEVENTS_UNKNOWN_KEY, "unknown key")
    check(lib.htevents_config_set(config, b"batch_size", b"many") == HTEVENTS_INVALID_VALUE, "invalid value")
    failures = []

    @FAILURE_CALLBACK
    def on_failure(user, failure):  # a pipeline thread; ctypes takes the GIL for it
        failures.append(failure.contents.reason)

    lib.htevents_config_on_failure(config, on_failure, None)

    error = ctypes.create_string_buffer(256)
    bad = lib.htevents_config_new()
    lib.htevents_config_set(bad, b"batch_size", b"0")
    check(not lib.htevents_client_new(b"key", bad, error, len(error)), "invalid config refused")
    check(b"batch_size" in error.value, "ConfigError message: " + error.value.decode())
    lib.htevents_config_free(bad)

    client = lib.htevents_client_new(b"python-write-key", config, error, len(error))
    lib.htevents_config_free(config)
    check(client, "htevents_client_new: " + error.value.decode())

    events = 500
    for i in range(events):
        properties = json.dumps({"i": i, "name": "caf\u00e9", "tags": ["a", "b"]}).encode()
        check(lib.htevents_track(client, b"py-user", None, b"Python event", properties) == HTEVENTS_OK, "track")
    check(lib.htevents_identify(client, b"py-user", None, b'{"lang":"python"}') == HTEVENTS_OK, "identify")
    check(lib.htevents_page(client, None, b"anon", b"Home", None) == HTEVENTS_OK, "page")
    check(lib.htevents_screen(client, b"py-user", None, b"Main", None) == HTEVENTS_OK, "screen")
    check(lib.htevents_group(client, b"py-user", None, b"g1", None) == HTEVENTS_OK, "group")
    check(lib.htevents_alias(client, b"py-user", b"anon") == HTEVENTS_OK, "alias")
    message = json.dumps({"type": "track", "userId": "py-user", "event": "From JSON",
                          "messageId": "py-json-1"}).encode()
    check(lib.htevents_enqueue_json(client, message, len(message)) == HTEVENTS_OK, "enqueue_json")
    sent = events + 6

    status = lib.htevents_track(client, b"py-user", None, None, None)
    check(status == HTEVENTS_MISSING_EVENT, "missing event")
    check(b"event" in lib.htevents_status_string(status), "status_string")
    check(lib.htevents_track(client, b"u", None, b"e", b"{oops") == HTEVENTS_INVALID_JSON, "invalid JSON")

    check(lib.htevents_flush(client, 10000) == 1, "flush")
    needed = lib.htevents_stats_json(client, None, 0)
    buffer = ctypes.create_string_buffer(needed + 1)
    check(lib.htevents_stats_json(client, buffer, len(buffer)) == needed, "stats_json length")
    stats = json.loads(buffer.value)
    check(stats["enqueued"] == sent and stats["delivered"] == sent, "client stats: %r" % stats)
    check(lib.htevents_close(client, 10000) == 1, "close")
    check(lib.htevents_track(client, b"u", None, b"e", None) == HTEVENTS_CLOSED, "closed")
    lib.htevents_client_free(client)
    check(not failures, "on_failure calls: %r" % failures)

    with urllib.request.urlopen(endpoint + "/stats", timeout=10) as answer:
        collected = json.loads(answer.read())
    check(collected["unique_message_ids"] == sent, "collector unique_message_ids: %r" % collected)
    check(collected["duplicate_message_ids"] == 0 and collected["invalid_messages"] == 0, "collector: %r" % collected)
    check(collected["by_type"]["track"] == events + 1, "collector by_type: %r" % collected["by_type"])
    check(collected["by_encoding"]["zstd"] >= 1, "zstd bodies: %r" % collected["by_encoding"])
    print("ctypes OK: %d events delivered through %s, each once" % (sent, library))


if __name__ == "__main__":
    main()
