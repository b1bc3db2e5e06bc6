# Schemathesis hooks for test/integration/api-fuzz.test.ts (loaded through SCHEMATHESIS_HOOKS).
#
# - Every operation is called in turn as each role (FUZZ_TOKENS: a JSON list of [role, bearer token or null]),
#   so each role meets every operation, the anonymous caller included.
# - Path identifiers are drawn half the time from things that exist (FUZZ_IDS: a JSON object of parameter
#   name -> list of values), so the fuzzer gets past "not found" into the routes and use-cases.
# - A check, `bilingual_error`, holds every refusal to the project's error shape: JSON `{ error: { code,
#   message_zh, message_en, fields } }` with a Chinese and an English message (also for each field).
# - Each response is recorded (FUZZ_LOG, one JSON line: operation, role, status) for the test to count.
import json
import os
import re
import threading

import schemathesis
from hypothesis import strategies as st

# OCSP requests are DER bytes: sent as they are generated, like any binary body.
schemathesis.serializer.alias("application/ocsp-request", "application/octet-stream")
# RFC 3161 timestamp requests (POST /api/tsa) likewise.
schemathesis.serializer.alias("application/timestamp-query", "application/octet-stream")

TOKENS = json.loads(os.environ.get("FUZZ_TOKENS", "[]")) or [["anonymous", None]]
KNOWN_IDS = json.loads(os.environ.get("FUZZ_IDS", "{}"))
LOG_PATH = os.environ.get("FUZZ_LOG")

_lock = threading.Lock()
_calls: dict[str, int] = {}
_current = threading.local()  # the role of this thread's call in flight (a Case takes no new attributes)

CJK = re.compile(r"[\u3400-\u9fff]")
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


def _operation(case) -> str:
    return f"{case.operation.method.upper()} {case.operation.path}"


@schemathesis.hook
def flatmap_path_parameters(context, path_parameters):
    known = {name: KNOWN_IDS[name] for name in (path_parameters or {}) if KNOWN_IDS.get(name)}
    if not known:
        return st.just(path_parameters)
    existing = st.fixed_dictionaries({name: st.sampled_from(values) for name, values in known.items()})
    return st.one_of(st.just(path_parameters), existing.map(lambda chosen: {**path_parameters, **chosen}))


@schemathesis.hook
def before_call(context, case, kwargs):
    # Round robin per operation: with at least len(TOKENS) cases an operation is called by every role.
    op = _operation(case)
    with _lock:
        n = _calls.get(op, 0)
        _calls[op] = n + 1
    role, token = TOKENS[n % len(TOKENS)]
    headers = dict(case.headers or {})
    for name in [h for h in headers if h.lower() == "authorization"]:
        del headers[name]
    if token:
        headers["Authorization"] = f"Bearer {token}"
    case.headers = headers
    _current.role = role


@schemathesis.hook
def after_call(context, case, response):
    if not LOG_PATH:
        return
    line = json.dumps({"operation": _operation(case), "role": getattr(_current, "role", "?"), "status": response.status_code})
    with _lock, open(LOG_PATH, "a", encoding="utf-8") as f:
        f.write(line + "\n")


def _bilingual(where: str, zh, en) -> None:
    if not (isinstance(zh, str) and CJK.search(zh)):
        raise AssertionError(f"{where}: message_zh is not Chinese: {zh!r}")
    if not (isinstance(en, str) and LATIN_WORD.search(en)):
        raise AssertionError(f"{where}: message_en is not English: {en!r}")


@schemathesis.check
def bilingual_error(ctx, response, case):
    """Every 4xx/5xx is the project's JSON error with Chinese and English messages, also per field."""
    if response.status_code < 400:
        return None
    try:
        body = response.json()
    except Exception:  # noqa: BLE001
        raise AssertionError(f"{response.status_code} answered with a body that is not JSON") from None
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict) or not isinstance(error.get("code"), str):
        raise AssertionError(f"{response.status_code} answered without an `error` object with a `code`")
    _bilingual("error", error.get("message_zh"), error.get("message_en"))
    fields = error.get("fields")
    if not isinstance(fields, list):
        raise AssertionError("error.fields is not a list")
    for i, field in enumerate(fields):
        if not isinstance(field, dict):
            raise AssertionError(f"error.fields[{i}] is not an object")
        _bilingual(f"error.fields[{i}] ({field.get('field')})", field.get("message_zh"), field.get("message_en"))
    return True
