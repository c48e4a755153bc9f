#!/usr/bin/python3
"""mock_service.py - a mock DNS provider API for syncq's integration tests, the
demo (make run) and the benchmark (make bench). Python 3 standard library only.

    mock_service.py --port 0 --port-file FILE [--token T] [--host 127.0.0.1]
                    [--tls-cert PEM --tls-key PEM [--tls-client-ca PEM]]

Binds 127.0.0.1 (port 0 = any free port), writes the chosen port to FILE once
it is listening (written whole, then renamed), and serves HTTP/1.1 with
keep-alive until killed. With --token, every API request (not /_admin) must
carry "Authorization: Bearer T", else 401. With --tls-cert it serves HTTPS
instead; with --tls-client-ca too, only clients with a certificate that CA
signed get through the handshake (mTLS).

Auth a service may be told to check (docs/HANDLERS.md "Auth"):
  POST /oauth/token     OAuth2 client credentials (RFC 6749 4.4), once /_admin/oauth
       configured it: grant_type=client_credentials, the client in HTTP Basic or in
       the form; 200 {"access_token", "token_type": "Bearer", "expires_in"}, 401
       {"error": "invalid_client"}. An API request whose bearer token is one the
       mock issued passes while it lives and gets 401 {"error": "invalid_token"}
       once expired (counted as rejected); other bearer values meet --token.
  HMAC signatures, once /_admin/hmac chose a scheme: every API request must carry
       a valid one, else 401 {"error": "signature mismatch" | "signature missing"
       | "timestamp out of tolerance"}:
         github:    X-Hub-Signature-256: sha256=HEX(HMAC-SHA256(key, body))
         stripe:    Stripe-Signature: t=TS,v1=HEX(HMAC-SHA256(key, "TS.body")), TS within
                    tolerance_s of now
         canonical: X-Signature: BASE64(HMAC-SHA512(key, METHOD "\n" TARGET "\n" TS "\n" body))
                    and X-Timestamp: TS (TARGET: path and query as sent)
  AWS Signature Version 4, once /_admin/sigv4 set the credentials: every API request
       must carry a valid Authorization: AWS4-HMAC-SHA256 ... (host and x-amz-date
       signed, X-Amz-Content-Sha256 the body's hash, X-Amz-Date within 15 minutes),
       else 403 {"error": "SignatureDoesNotMatch" | ...}; it replaces the --token check

Data: zones -> records {id, name, type, content, ttl}. Ids are stable strings,
10-digit zero-padded numbers from a per-zone counter, so they sort as numbers
and a reset + the same seed gives the same ids. Any zone name exists (empty
until seeded or written to).

API (JSON; the list style is a path prefix, none = page):
  GET  [/{page|offset|cursor|link}]/zones/{zone}/records   list, sorted by id;
       optional filters ?name=X&type=Y (natural-key lookups)
         page:   ?page=N&per_page=K (1-based)  -> {"data": [...], "meta": {"page": N}}
         offset: ?offset=O&limit=K             -> {"data": [...], "meta": {"total": T}}
         cursor: ?cursor=C&limit=K             -> {"data": [...], "meta": {"next_cursor": C2 or null}}
         link:   ?page=N&per_page=K            -> {"data": [...]} and, while more remain,
                 Link: <absolute next URL>; rel="next", <...>; rel="last" (RFC 8288)
  GET    /zones/{zone}/records/{id}             200 record, 404
  POST   /zones/{zone}/records  {name,type,content,ttl}  201 record; 409 when (name, type) exists
  PUT    /zones/{zone}/records/{id}  (PATCH too)         200 record; 404; 409 on a (name, type) clash
  DELETE /zones/{zone}/records/{id}                      204; 404
  An Idempotency-Key header is logged per key; a POST repeating a key gets the
  first response again (with "Idempotent-Replayed: true"), like Stripe.

Admin (no auth):
  POST /_admin/reset                                   everything back to empty
  POST /_admin/seed {"zone", "count", "prefix": "r", "type": "A", "ttl": 300}
  POST /_admin/mutate {"zone", "delete": [ids], "change": [ids], "add": N}
  POST /_admin/fail {"match": "substring of path?query", "status": 500, "times": 1,
                     "skip": 0, "rate": null, "seed": 1, "headers": {}, "body": {...}}
       the next `times` matching requests (-1: all) after `skip` answer status;
       with rate, that share of matching requests fails (seeded, repeatable);
       headers lets a rule redirect (302 + Location) or add Retry-After;
       "text": "..." answers that text instead of the JSON body; "echo_header":
       "X-Name" appends the request's value of that header to the text (or sets
       "echo" in the JSON body), as services that quote the caller do;
       "huge": N answers a JSON body of about N bytes (an error array)
  POST /_admin/throttle {"times": 1, "retry_after": 2, "match": "", "skip": 0}
       429 with Retry-After (a fail rule)
  POST /_admin/latency {"ms": 50, "match": ""}         delay matching requests (0: off)
  POST /_admin/link_base {"base": "http://elsewhere:1"} absolute base of Link URLs
       (default: this server's own origin, from the Host header)
  POST /_admin/cursors {"raw": true}   next_cursor holds "+/=&" (standard base64 with
       padding after a fixed "q+/=&" mark) and must come back percent-encoded;
       false (the default): URL-safe cursors
  GET  /_admin/calls        [{method, path, query, idempotency_key, authorization_present,
                              status, time, end, aborted}] for every non-admin request, oldest
                            first; time and end bound the request's run (end null while it runs);
                            aborted: the client went away during a latency wait (its run ended then)
  DELETE /_admin/calls      forget them
  GET  /_admin/records?zone=Z    all records of a zone, sorted by id
  GET  /_admin/idempotency       {key: [{method, path, status, replayed}]}
  GET  /_admin/health            {"ok": true}
  POST /_admin/oauth {"client_id", "client_secret", "expires_in": 60}   turns the token
       endpoint on; expires_in applies to the tokens issued from then on
  GET  /_admin/oauth        {"fetches": N (tokens issued), "refused": N (bad client),
                             "rejected": N (API requests with an expired token),
                             "issued": [every token issued], for tests that grep for them}
  POST /_admin/oauth/expire  every token issued so far expires now
  POST /_admin/hmac {"scheme": "github"|"stripe"|"canonical"|null, "key": K, "tolerance_s": 300}
  GET  /_admin/hmac         {"ok": N, "bad": N} verdicts on signed requests
  POST /_admin/sigv4 {"access_key_id", "secret_access_key", "region", "service"} (null: off)
  GET  /_admin/sigv4        {"ok": N, "bad": N} verdicts on SigV4 requests

Benchmark (no auth, not logged in /_admin/calls, no lock: the provider of make bench's
I/O-bound workload, so the mock's own bookkeeping is not what is measured):
  ANY  /_bench/delay[/anything][?ms=20]   200 {"ok": true} after ms milliseconds (default 20)
  With --bench-delay the process serves only that answer, to every request, from two
  processes with an asyncio loop each (a thread per connection tops out near 600
  requests/s on two cores, far below the 3,200/s that 64 callers x 20 ms need).
"""

import argparse
import asyncio
import base64
import bisect
import calendar
import collections
import ctypes
import hashlib
import hmac
import http.server
import json
import os
import random
import select
import secrets
import signal
import socket
import ssl
import sys
import threading
import time
import traceback
import urllib.parse

STYLES = ("page", "offset", "cursor", "link")
MAX_PAGE_SIZE = 10000
MAX_CALLS = 200000  # the call log keeps the newest
MAX_BODY = 16 * 1024 * 1024


def dumps(obj):
    return json.dumps(obj, separators=(",", ":")).encode()


class ApiError(Exception):
    def __init__(self, status, message, headers=None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


class Zone:
    """Records of one zone, by id, with (name, type) as a unique natural key."""

    def __init__(self):
        self.records = {}  # id -> record dict
        self.by_key = {}  # (name, type) -> id
        self.next_id = 1
        self._order = []  # sorted ids, rebuilt after a create or delete
        self._dirty = False

    def new_id(self):
        rid = "%010d" % self.next_id
        self.next_id += 1
        return rid

    def order(self):
        if self._dirty:
            self._order = sorted(self.records)
            self._dirty = False
        return self._order

    def add(self, name, rtype, content, ttl):
        rid = self.new_id()
        rec = {"id": rid, "name": name, "type": rtype, "content": content, "ttl": ttl}
        self.records[rid] = rec
        self.by_key[(name, rtype)] = rid
        if not self._dirty and (not self._order or self._order[-1] < rid):
            self._order.append(rid)  # ids only grow: keep the order without a sort
        else:
            self._dirty = True
        return rec

    def delete(self, rid):
        rec = self.records.pop(rid)
        self.by_key.pop((rec["name"], rec["type"]), None)
        self._dirty = True

    def ids(self, name=None, rtype=None):
        """Sorted ids, filtered by name and/or type."""
        if name is not None and rtype is not None:
            rid = self.by_key.get((name, rtype))
            return [rid] if rid is not None else []
        order = self.order()
        if name is None and rtype is None:
            return order
        recs = self.records
        return [i for i in order if (name is None or recs[i]["name"] == name)
                and (rtype is None or recs[i]["type"] == rtype)]


class Rule:
    """An injected answer for matching requests (fail, throttle)."""

    def __init__(self, spec, status_default):
        self.match = str(spec.get("match") or "")
        self.status = int(spec.get("status", status_default))
        self.skip = int(spec.get("skip", 0))
        self.rate = spec.get("rate")
        self.times = int(spec.get("times", -1 if self.rate is not None else 1))
        self.rng = random.Random(spec.get("seed", 1))
        self.headers = {str(k): str(v) for k, v in (spec.get("headers") or {}).items()}
        self.body = spec.get("body", {"error": "injected failure (status %d)" % self.status})
        self.text = spec.get("text")
        self.echo_header = spec.get("echo_header")
        self.huge = int(spec.get("huge", 0))
        if not 100 <= self.status <= 599:
            raise ApiError(400, "status must be in 100..599")

    def answer(self, headers):
        """The body bytes this rule answers with, for a request with headers."""
        if self.status in (204, 304):
            return b""
        echo = headers.get(self.echo_header, "") if self.echo_header else None
        if self.huge:
            item = {"code": "E_BAD_FIELD", "detail": "field is invalid"}
            n = max(1, self.huge // (len(json.dumps(item)) + 1))
            return dumps({"error": "too many problems", "errors": [item] * n})
        if self.text is not None:
            return (str(self.text) + (echo or "")).encode("utf-8")
        if self.body is None:
            return b""
        body = dict(self.body, echo=echo) if echo is not None and isinstance(self.body, dict) else self.body
        return dumps(body)

    def fires(self, target):
        """Called under the state lock for each API request; True when this
        request gets the injected answer."""
        if self.match not in target or self.times == 0:
            return False
        if self.skip > 0:
            self.skip -= 1
            return False
        if self.rate is not None and self.rng.random() >= float(self.rate):
            return False
        if self.times > 0:
            self.times -= 1
        return True


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        self.zones = collections.defaultdict(Zone)
        self.rules = []
        self.latency = []  # (match, seconds)
        self.calls = collections.deque(maxlen=MAX_CALLS)
        self.idem_log = collections.defaultdict(list)
        self.idem_saved = {}  # key -> (status, headers, body)
        self.link_base = None
        self.raw_cursors = False
        self.mutations = 0
        self.oauth = None  # {"client_id", "client_secret", "expires_in"} once configured
        self.tokens = {}  # access token -> expiry (time.time())
        self.oauth_counts = {"fetches": 0, "refused": 0, "rejected": 0}
        self.hmac = None  # {"scheme", "key", "tolerance_s"}
        self.hmac_counts = {"ok": 0, "bad": 0}
        self.sigv4 = None  # {"access_key_id", "secret_access_key", "region", "service"}
        self.sigv4_counts = {"ok": 0, "bad": 0}


STATE = State()


def int_param(q, name, default, lo, hi):
    v = q.get(name)
    if v is None:
        return default
    try:
        n = int(v)
    except ValueError:
        raise ApiError(400, "%s must be an integer" % name)
    if not lo <= n <= hi:
        raise ApiError(400, "%s must be in %d..%d" % (name, lo, hi))
    return n


RAW_CURSOR_MARK = "q+/=&"  # every byte a query string must escape


def encode_cursor(rid):
    if STATE.raw_cursors:  # as some services do: standard base64, padded
        return RAW_CURSOR_MARK + base64.b64encode(dumps({"after": rid, "pad": "?"})).decode()
    return base64.urlsafe_b64encode(dumps({"after": rid})).decode().rstrip("=")


def decode_cursor(c):
    try:
        if STATE.raw_cursors:  # a cursor sent back unencoded arrives cut or with spaces
            if not c.startswith(RAW_CURSOR_MARK):
                raise ValueError
            raw = base64.b64decode(c[len(RAW_CURSOR_MARK):], validate=True)
        else:
            raw = base64.urlsafe_b64decode(c + "=" * (-len(c) % 4))
        after = json.loads(raw)["after"]
        if not isinstance(after, str):
            raise ValueError
        return after
    except Exception:
        raise ApiError(400, "invalid cursor")


def record_body(body, partial):
    """Validates a record's fields from a request body."""
    if not isinstance(body, dict):
        raise ApiError(422, "the body must be a JSON object")
    out = {}
    for f in ("name", "type", "content"):
        if f in body:
            if not isinstance(body[f], str) or not body[f]:
                raise ApiError(422, "%s must be a non-empty string" % f)
            out[f] = body[f]
        elif not partial:
            raise ApiError(422, "%s is required" % f)
    if "ttl" in body:
        if not isinstance(body["ttl"], int) or isinstance(body["ttl"], bool) or not 1 <= body["ttl"] <= 86400 * 7:
            raise ApiError(422, "ttl must be an integer in 1..604800")
        out["ttl"] = body["ttl"]
    elif not partial:
        out["ttl"] = 3600
    return out


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "syncq-mock/1"
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):  # quiet: 2,000+ requests/s would flood stderr
        pass

    # ------------------------------------------------------------ plumbing

    def reply(self, status, obj=None, headers=None, raw=None):
        """One write per response: status line, headers and body together."""
        body = raw if raw is not None else (b"" if obj is None else dumps(obj))
        reason = self.responses.get(status, ("",))[0]
        lines = ["HTTP/1.1 %d %s" % (status, reason)]
        if body or status not in (204, 304):
            lines.append("Content-Type: application/json")
        for k, v in (headers or {}).items():
            lines.append("%s: %s" % (k, v))
        lines.append("Content-Length: %d" % len(body))
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.wfile.write(head + body)
        self.status_sent = status
        return status, headers or {}, body

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        n = int(self.headers.get("Content-Length") or 0)
        if n > MAX_BODY:
            self.close_connection = True
            raise ApiError(413, "body too large")
        return self.rfile.read(n) if n > 0 else b""

    def json_body(self, raw):
        if not raw.strip():
            return {}
        try:
            return json.loads(raw)
        except ValueError:
            raise ApiError(400, "invalid JSON body")

    def do_GET(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def do_PUT(self):
        self.dispatch("PUT")

    def do_PATCH(self):
        self.dispatch("PATCH")

    def do_DELETE(self):
        self.dispatch("DELETE")

    def dispatch(self, method):
        self.status_sent = 0
        url = urllib.parse.urlsplit(self.path)
        path, query = url.path, url.query
        try:
            raw = self.read_body()
        except ApiError as e:
            self.reply(e.status, {"error": e.message})
            return
        except ValueError:
            self.close_connection = True
            self.reply(400, {"error": "bad chunked body"})
            return
        try:
            if path.startswith("/_bench/delay"):
                return self.bench_delay(query)
            if not path.startswith("/_admin/"):
                return self.api(method, path, query, raw)
            try:
                self.admin(method, path, query, raw)
            except ApiError as e:
                self.reply(e.status, {"error": e.message})
            except (ValueError, TypeError, KeyError, AttributeError) as e:
                self.reply(400, {"error": "bad admin request: %s: %s" % (type(e).__name__, e)})
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as e:  # a mock bug: say so loudly, answer 500 rather than drop the connection
            traceback.print_exc()
            if not self.status_sent:
                self.close_connection = True
                self.reply(500, {"error": "mock bug: %s: %s" % (type(e).__name__, e)})

    def bench_delay(self, query):
        """The bench's provider call: answer after ?ms= (20) milliseconds."""
        ms = float(urllib.parse.parse_qs(query).get("ms", ["20"])[0])
        time.sleep(max(0.0, min(ms, 10000.0)) / 1000.0)
        self.reply(200, {"ok": True})

    # ------------------------------------------------------------ the API

    def api(self, method, path, query, raw):
        if path == "/oauth/token":
            return self.token_endpoint(method, raw)
        target = path + ("?" + query if query else "")
        idem = self.headers.get("Idempotency-Key")
        auth = self.headers.get("Authorization")
        call = {"method": method, "path": path, "query": query, "idempotency_key": idem,
                "authorization_present": auth is not None, "status": 0, "time": time.time(),
                "end": None, "aborted": False}
        delay = 0.0
        with STATE.lock:
            STATE.calls.append(call)
            rule = next((r for r in STATE.rules if r.fires(target)), None)
            STATE.rules = [r for r in STATE.rules if r.times != 0]
            for match, secs in STATE.latency:
                if match in target:
                    delay = max(delay, secs)
        if delay and self.client_left(delay):
            call["end"], call["aborted"] = time.time(), True
            self.close_connection = True
            return
        try:
            refused = self.check_auth(auth, method, raw) if rule is None else None
            if rule is not None:
                self.reply(rule.status, headers=rule.headers, raw=rule.answer(self.headers))
            elif refused is not None and refused[1] == "AWS4-HMAC-SHA256":
                self.reply(403, {"error": refused[0]})  # as AWS answers
            elif refused is not None:
                self.reply(401, {"error": refused[0]}, {"WWW-Authenticate": refused[1]})
            else:
                self.route(method, path, query, raw, idem)
        except ApiError as e:
            self.reply(e.status, {"error": e.message}, e.headers)
        call["status"] = self.status_sent
        call["end"] = time.time()

    def check_auth(self, auth, method, raw):
        """None when the request may go on, else (error, WWW-Authenticate)."""
        with STATE.lock:
            aws = dict(STATE.sigv4) if STATE.sigv4 else None
        if aws:
            verdict = self.check_sigv4(aws, auth or "", method, raw)
            with STATE.lock:
                STATE.sigv4_counts["ok" if verdict is None else "bad"] += 1
            return None if verdict is None else (verdict, "AWS4-HMAC-SHA256")
        bearer = auth[7:] if auth and auth.startswith("Bearer ") else None
        with STATE.lock:
            expiry = STATE.tokens.get(bearer) if bearer is not None else None
            if expiry is not None and time.time() >= expiry:
                STATE.oauth_counts["rejected"] += 1
                return "invalid_token", 'Bearer realm="mock", error="invalid_token"'
            spec = dict(STATE.hmac) if STATE.hmac else None
        if expiry is None and self.server.token is not None and bearer != self.server.token:
            return "unauthorized", 'Bearer realm="mock"'
        if spec and spec.get("scheme"):
            verdict = self.check_signature(spec, method, raw)
            with STATE.lock:
                STATE.hmac_counts["ok" if verdict is None else "bad"] += 1
            if verdict is not None:
                return verdict, 'HMAC realm="mock"'
        return None

    def check_signature(self, spec, method, raw):
        """None for a valid signature of this request under spec, else why not."""
        key, scheme = spec["key"].encode(), spec["scheme"]
        h = self.headers
        if scheme == "github":
            got = h.get("X-Hub-Signature-256")
            want = "sha256=" + hmac.new(key, raw, hashlib.sha256).hexdigest()
        elif scheme == "stripe":
            got = h.get("Stripe-Signature")
            parts = dict(p.split("=", 1) for p in (got or "").split(",") if "=" in p)
            ts = parts.get("t", "")
            if got is not None and (not ts.isdigit() or abs(time.time() - int(ts)) > spec.get("tolerance_s", 300)):
                return "timestamp out of tolerance"
            want = "t=%s,v1=%s" % (ts, hmac.new(key, ts.encode() + b"." + raw, hashlib.sha256).hexdigest())
        else:
            got, ts = h.get("X-Signature"), h.get("X-Timestamp", "")
            msg = b"\n".join([method.encode(), self.path.encode(), ts.encode(), raw])
            want = base64.b64encode(hmac.new(key, msg, hashlib.sha512).digest()).decode()
        if got is None:
            return "signature missing"
        return None if hmac.compare_digest(got, want) else "signature mismatch"

    def check_sigv4(self, aws, auth, method, raw):
        """None for a valid AWS Signature Version 4 of this request, else why not
        (written from AWS's description, apart from syncq's C code)."""
        if not auth.startswith("AWS4-HMAC-SHA256 "):
            return "MissingAuthenticationToken"
        fields = dict(p.strip().split("=", 1) for p in auth[len("AWS4-HMAC-SHA256 "):].split(",") if "=" in p)
        cred = fields.get("Credential", "").split("/")
        signed = fields.get("SignedHeaders", "").split(";")
        if len(cred) != 5 or cred[0] != aws["access_key_id"] or cred[4] != "aws4_request":
            return "InvalidClientTokenId"
        if cred[2] != aws["region"] or cred[3] != aws["service"] or "host" not in signed or "x-amz-date" not in signed:
            return "IncompleteSignature"
        amz_date = self.headers.get("X-Amz-Date", "")
        try:
            when = calendar.timegm(time.strptime(amz_date, "%Y%m%dT%H%M%SZ"))
        except ValueError:
            return "IncompleteSignature"
        if abs(time.time() - when) > 900 or amz_date[:8] != cred[1]:
            return "RequestExpired"
        payload = hashlib.sha256(raw).hexdigest()
        if self.headers.get("X-Amz-Content-Sha256", payload) != payload:
            return "XAmzContentSHA256Mismatch"
        url = urllib.parse.urlsplit(self.path)
        enc = lambda v: urllib.parse.quote(v, safe="-_.~")
        path = url.path or "/"
        uri = path if aws["service"] == "s3" else urllib.parse.quote(path, safe="/-_.~")
        params = []
        for part in filter(None, url.query.split("&")):
            name, _, value = part.partition("=")
            params.append((enc(urllib.parse.unquote(name)), enc(urllib.parse.unquote(value))))
        query = "&".join("%s=%s" % p for p in sorted(params))
        heads = "".join("%s:%s\n" % (h, " ".join((self.headers.get(h) or "").split())) for h in signed)
        canonical = "\n".join([method, uri, query, heads, ";".join(signed), payload])
        scope = "/".join(cred[1:])
        to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
        key = ("AWS4" + aws["secret_access_key"]).encode()
        for part in cred[1:]:
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        want = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        return None if hmac.compare_digest(fields.get("Signature", ""), want) else "SignatureDoesNotMatch"

    def token_endpoint(self, method, raw):
        """POST /oauth/token: the client credentials grant."""
        call = {"method": method, "path": "/oauth/token", "query": "", "idempotency_key": None,
                "authorization_present": "Authorization" in self.headers, "status": 0, "time": time.time(),
                "end": None, "aborted": False}
        delay = 0.0
        with STATE.lock:
            STATE.calls.append(call)
            conf = dict(STATE.oauth) if STATE.oauth else None
            for match, secs in STATE.latency:
                if match in "/oauth/token":
                    delay = max(delay, secs)
        if delay:
            time.sleep(delay)  # a slow token endpoint: every waiting worker must still see one fetch
        form = dict(urllib.parse.parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
        cid, secret = form.get("client_id"), form.get("client_secret")
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            try:
                pair = base64.b64decode(auth[6:], validate=True).decode()
                cid, secret = [urllib.parse.unquote_plus(x) for x in pair.split(":", 1)]
            except (ValueError, UnicodeDecodeError):
                cid = secret = None
        if method != "POST" or conf is None:
            status, body = 404, {"error": "not found"}
        elif form.get("grant_type") != "client_credentials":
            status, body = 400, {"error": "unsupported_grant_type"}
        elif cid != conf.get("client_id") or secret is None or \
                not hmac.compare_digest(secret.encode(), str(conf.get("client_secret")).encode()):
            status, body = 401, {"error": "invalid_client"}
        else:
            token = "mock-at-" + secrets.token_hex(16)
            expires = int(conf.get("expires_in", 60))
            status, body = 200, {"access_token": token, "token_type": "Bearer", "expires_in": expires}
        with STATE.lock:
            if status == 200:
                STATE.tokens[body["access_token"]] = time.time() + body["expires_in"]
                STATE.oauth_counts["fetches"] += 1
            elif status == 401:
                STATE.oauth_counts["refused"] += 1
        self.reply(status, body, {"Cache-Control": "no-store"})
        call["status"], call["end"] = status, time.time()

    def client_left(self, secs):
        """Waits secs, watching the connection: True (at once) when the client
        closes it or dies, so a run's end is when its worker stopped waiting."""
        end = time.time() + secs
        while True:
            left = end - time.time()
            if left <= 0:
                return False
            ready, _, _ = select.select([self.connection], [], [], min(left, 0.02))
            if not ready:
                continue
            try:
                if not self.connection.recv(1, socket.MSG_PEEK):
                    return True
            except OSError:
                return True
            time.sleep(min(left, 0.02))  # a pipelined request: keep waiting

    def route(self, method, path, query, raw, idem):
        parts = [urllib.parse.unquote(p) for p in path.strip("/").split("/")]
        style = "page"
        if parts and parts[0] in STYLES:
            style = parts.pop(0)
        if len(parts) < 3 or parts[0] != "zones" or parts[2] != "records" or len(parts) > 4 or not parts[1]:
            raise ApiError(404, "not found")
        zone = parts[1]
        if len(parts) == 3:
            if method == "GET":
                q = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
                return self.list_records(style, zone, q, path)
            if method == "POST":
                return self.create(zone, raw, idem)
            raise ApiError(405, "method not allowed", {"Allow": "GET, POST"})
        rid = parts[3]
        if method == "GET":
            with STATE.lock:
                rec = STATE.zones[zone].records.get(rid)
                if rec is None:
                    raise ApiError(404, "record not found")
                return self.reply(200, dict(rec))
        if method in ("PUT", "PATCH"):
            return self.update(zone, rid, raw)
        if method == "DELETE":
            with STATE.lock:
                z = STATE.zones[zone]
                if rid not in z.records:
                    raise ApiError(404, "record not found")
                z.delete(rid)
            return self.reply(204)
        raise ApiError(405, "method not allowed", {"Allow": "GET, PUT, PATCH, DELETE"})

    def list_records(self, style, zone, q, path):
        name, rtype = q.get("name"), q.get("type")
        headers = {}
        with STATE.lock:
            z = STATE.zones[zone]
            ids = z.ids(name, rtype)
            recs = z.records
            if style in ("page", "link"):
                per = int_param(q, "per_page", 100, 1, MAX_PAGE_SIZE)
                page = int_param(q, "page", 1, 1, 1 << 40)
                start = (page - 1) * per
                data = [dict(recs[i]) for i in ids[start:start + per]]
                if style == "page":
                    body = {"data": data, "meta": {"page": page}}
                else:
                    body = {"data": data}
                    headers = self.links(path, q, page, per, len(ids))
            elif style == "offset":
                limit = int_param(q, "limit", 100, 1, MAX_PAGE_SIZE)
                off = int_param(q, "offset", 0, 0, 1 << 40)
                data = [dict(recs[i]) for i in ids[off:off + limit]]
                body = {"data": data, "meta": {"total": len(ids)}}
            else:
                limit = int_param(q, "limit", 100, 1, MAX_PAGE_SIZE)
                start = bisect.bisect_right(ids, decode_cursor(q["cursor"])) if q.get("cursor") else 0
                page_ids = ids[start:start + limit]
                more = start + limit < len(ids)
                data = [dict(recs[i]) for i in page_ids]
                body = {"data": data, "meta": {"next_cursor": encode_cursor(page_ids[-1]) if more else None}}
        return self.reply(200, body, headers)

    def links(self, path, q, page, per, total):
        """RFC 8288 Link header of a page: next and last while more remain,
        first and prev after the first page (GitHub's shape)."""
        base = STATE.link_base or "http://%s" % (self.headers.get("Host") or "127.0.0.1:%d" % self.server.port)
        last = max(1, -(-total // per))

        def url(n):
            qq = dict(q)
            qq["page"] = str(n)
            qq["per_page"] = str(per)
            return "<%s%s?%s>" % (base, path, urllib.parse.urlencode(qq))

        rels = []
        if page < last:
            rels += ['%s; rel="next"' % url(page + 1), '%s; rel="last"' % url(last)]
        if page > 1:
            rels += ['%s; rel="first"' % url(1), '%s; rel="prev"' % url(min(page - 1, last))]
        return {"Link": ", ".join(rels)} if rels else {}

    def create(self, zone, raw, idem):
        if idem is not None:
            with STATE.lock:
                saved = STATE.idem_saved.get(idem)
                if saved is not None:
                    STATE.idem_log[idem].append({"method": "POST", "path": self.path, "status": saved[0],
                                                 "replayed": True})
            if saved is not None:
                headers = dict(saved[1])
                headers["Idempotent-Replayed"] = "true"
                return self.reply(saved[0], headers=headers, raw=saved[2])
        try:
            fields = record_body(self.json_body(raw), partial=False)
            with STATE.lock:
                z = STATE.zones[zone]
                if (fields["name"], fields["type"]) in z.by_key:
                    raise ApiError(409, "record already exists")
                rec = z.add(fields["name"], fields["type"], fields["content"], fields["ttl"])
            result = self.reply(201, dict(rec), {"Location": "/zones/%s/records/%s" % (
                urllib.parse.quote(zone, safe=""), rec["id"])})
        except ApiError as e:
            result = self.reply(e.status, {"error": e.message}, e.headers)
        if idem is not None:
            with STATE.lock:
                STATE.idem_saved.setdefault(idem, result)
                STATE.idem_log[idem].append({"method": "POST", "path": self.path, "status": result[0],
                                             "replayed": False})

    def update(self, zone, rid, raw):
        idem = self.headers.get("Idempotency-Key")
        try:
            fields = record_body(self.json_body(raw), partial=True)
            with STATE.lock:
                z = STATE.zones[zone]
                rec = z.records.get(rid)
                if rec is None:
                    raise ApiError(404, "record not found")
                key = (fields.get("name", rec["name"]), fields.get("type", rec["type"]))
                other = z.by_key.get(key)
                if other is not None and other != rid:
                    raise ApiError(409, "another record has this name and type")
                z.by_key.pop((rec["name"], rec["type"]), None)
                rec.update(fields)
                z.by_key[key] = rid
                out = dict(rec)
            status = self.reply(200, out)[0]
        except ApiError as e:
            status = self.reply(e.status, {"error": e.message}, e.headers)[0]
        if idem is not None:
            with STATE.lock:
                STATE.idem_log[idem].append({"method": self.command, "path": self.path, "status": status,
                                             "replayed": False})

    # ------------------------------------------------------------ admin

    def admin(self, method, path, query, raw):
        name = path[len("/_admin/"):]
        q = dict(urllib.parse.parse_qsl(query))
        if method == "GET":
            if name == "calls":
                with STATE.lock:
                    return self.reply(200, list(STATE.calls))
            if name == "records":
                with STATE.lock:
                    z = STATE.zones[q.get("zone", "")]
                    return self.reply(200, [z.records[i] for i in z.order()])
            if name == "idempotency":
                with STATE.lock:
                    return self.reply(200, STATE.idem_log)
            if name == "health":
                return self.reply(200, {"ok": True})
            if name == "oauth":
                with STATE.lock:
                    return self.reply(200, dict(STATE.oauth_counts, issued=sorted(STATE.tokens)))
            if name == "hmac":
                with STATE.lock:
                    return self.reply(200, dict(STATE.hmac_counts))
            if name == "sigv4":
                with STATE.lock:
                    return self.reply(200, dict(STATE.sigv4_counts))
            raise ApiError(404, "unknown admin endpoint")
        if method == "DELETE" and name == "calls":
            with STATE.lock:
                STATE.calls.clear()
            return self.reply(204)
        if method != "POST":
            raise ApiError(405, "method not allowed")
        body = self.json_body(raw)
        if not isinstance(body, dict):
            raise ApiError(400, "the body must be a JSON object")
        if name == "reset":
            with STATE.lock:
                STATE.reset()
            return self.reply(200, {"ok": True})
        if name == "seed":
            return self.seed(body)
        if name == "mutate":
            return self.mutate(body)
        if name == "fail":
            rule = Rule(body, 500)
            with STATE.lock:
                STATE.rules.append(rule)
            return self.reply(200, {"ok": True})
        if name == "throttle":
            spec = dict(body)
            spec["status"] = 429
            spec["headers"] = {"Retry-After": str(int(body.get("retry_after", 1)))}
            spec["body"] = {"error": "rate limited"}
            rule = Rule(spec, 429)
            with STATE.lock:
                STATE.rules.append(rule)
            return self.reply(200, {"ok": True})
        if name == "latency":
            ms = float(body.get("ms", 0))
            match = str(body.get("match") or "")
            with STATE.lock:
                STATE.latency = [(m, s) for m, s in STATE.latency if m != match]
                if ms > 0:
                    STATE.latency.append((match, ms / 1000.0))
            return self.reply(200, {"ok": True})
        if name == "cursors":
            with STATE.lock:
                STATE.raw_cursors = bool(body.get("raw"))
            return self.reply(200, {"ok": True})
        if name == "oauth":
            with STATE.lock:
                STATE.oauth = {"client_id": str(body["client_id"]), "client_secret": str(body["client_secret"]),
                               "expires_in": int(body.get("expires_in", 60))}
            return self.reply(200, {"ok": True})
        if name == "oauth/expire":
            with STATE.lock:
                now = time.time()
                STATE.tokens = {t: min(e, now) for t, e in STATE.tokens.items()}
            return self.reply(200, {"ok": True})
        if name == "hmac":
            scheme = body.get("scheme")
            if scheme not in (None, "github", "stripe", "canonical"):
                raise ApiError(400, "scheme must be github, stripe, canonical or null")
            with STATE.lock:
                STATE.hmac = {"scheme": scheme, "key": str(body.get("key", "")),
                              "tolerance_s": int(body.get("tolerance_s", 300))} if scheme else None
            return self.reply(200, {"ok": True})
        if name == "sigv4":
            with STATE.lock:
                STATE.sigv4 = {k: str(body[k]) for k in ("access_key_id", "secret_access_key", "region", "service")} \
                    if body.get("access_key_id") else None
            return self.reply(200, {"ok": True})
        if name == "link_base":
            with STATE.lock:
                STATE.link_base = str(body["base"]).rstrip("/") if body.get("base") else None
            return self.reply(200, {"ok": True})
        raise ApiError(404, "unknown admin endpoint")

    def seed(self, body):
        zone, count = str(body["zone"]), int(body["count"])
        prefix, rtype, ttl = str(body.get("prefix", "r")), str(body.get("type", "A")), int(body.get("ttl", 300))
        if not 0 <= count <= 10000000:
            raise ApiError(400, "count must be in 0..10000000")
        with STATE.lock:
            z = STATE.zones[zone]
            first = last = None
            for _ in range(count):
                n = z.next_id
                name = "%s%d" % (prefix, n)
                while (name, rtype) in z.by_key:  # a seed on top of hand-made records
                    name += "x"
                rec = z.add(name, rtype, "10.%d.%d.%d" % ((n >> 16) & 255, (n >> 8) & 255, n & 255), ttl)
                first = first or rec["id"]
                last = rec["id"]
            total = len(z.records)
        return self.reply(200, {"zone": zone, "count": count, "first_id": first, "last_id": last, "total": total})

    def mutate(self, body):
        zone = str(body["zone"])
        deleted, changed, added = [], [], []
        with STATE.lock:
            z = STATE.zones[zone]
            for rid in body.get("delete", []):
                if rid in z.records:
                    z.delete(rid)
                    deleted.append(rid)
            for rid in body.get("change", []):
                rec = z.records.get(rid)
                if rec is not None:
                    STATE.mutations += 1
                    rec["content"] = "changed-%d" % STATE.mutations
                    changed.append(rid)
            for _ in range(int(body.get("add", 0))):
                n = z.next_id
                name = "added%d" % n
                while (name, "A") in z.by_key:
                    name += "x"
                added.append(z.add(name, "A", "10.255.%d.%d" % ((n >> 8) & 255, n & 255), 300)["id"])
        return self.reply(200, {"deleted": deleted, "changed": changed, "added": added})


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], (ssl.SSLError, ConnectionError)):
            return  # a TLS client we refused (or that refused us): the test checks its side
        super().handle_error(request, client_address)


def tls_context(cert, key, client_ca):
    """A server context; with client_ca, clients must present a certificate it signed."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    if client_ca:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(client_ca)
    return ctx


async def bench_conn(reader, writer):
    """--bench-delay: answer each request on the connection after its ?ms= (20)."""
    body = b'{"ok": true}'
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)
    try:
        while True:
            line = await reader.readline()
            if not line:
                break
            n = 0
            while True:
                h = await reader.readline()
                if h in (b"\r\n", b"\n", b""):
                    break
                if h.lower().startswith(b"content-length:"):
                    n = int(h.split(b":", 1)[1])
            if n:
                await reader.readexactly(n)
            target = line.split(b" ")[1] if b" " in line else b"/"
            q = urllib.parse.parse_qs(urllib.parse.urlsplit(target.decode("latin-1")).query)
            await asyncio.sleep(max(0.0, min(float(q.get("ms", ["20"])[0]), 10000.0)) / 1000.0)
            writer.write(head + body)
    except (ConnectionError, asyncio.IncompleteReadError, ValueError):
        pass
    writer.close()


def bench_malloc():
    """asyncio reads a socket into a fresh 256 KiB buffer (its transports' max_size), above
    glibc's 128 KiB mmap threshold: every read was an mmap and a munmap, and each munmap a TLB
    shootdown across the cores. perf showed it as most of the mock's kernel time; the mock then
    took 250-280 us of CPU a request, 110-130 us with the threshold raised (ad hoc run of workload
    b, 6,000 requests). Every system of make bench calls this mock, so all of them gain alike."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 4 << 20)  # M_MMAP_THRESHOLD
        libc.mallopt(-1, 16 << 20)  # M_TRIM_THRESHOLD: keep freed buffers instead of giving them back
    except (OSError, AttributeError):
        pass  # not glibc: slower, still correct


def bench_main(args):
    """Two processes (one per core of the bench machine) accept on one socket."""
    bench_malloc()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    sock.listen(1024)
    sock.setblocking(False)
    pid = os.fork()
    if pid == 0:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    else:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % sock.getsockname()[1])
        os.replace(tmp, args.port_file)
        signal.signal(signal.SIGTERM, lambda *_: (os.kill(pid, signal.SIGTERM), os._exit(0)))

    async def serve():
        srv = await asyncio.start_server(bench_conn, sock=sock)
        await srv.serve_forever()
    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        pass
    return 0


def main():
    ap = argparse.ArgumentParser(description="mock DNS provider API for syncq tests")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--token")
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    ap.add_argument("--tls-client-ca")
    ap.add_argument("--bench-delay", action="store_true", help="serve only /_bench/delay (make bench)")
    args = ap.parse_args()
    if args.bench_delay:
        return bench_main(args)
    srv = Server((args.host, args.port), Handler)
    if args.tls_cert:
        # the handshake runs in the request's thread (on its first read), so a
        # client that stalls or fails it never blocks the accept loop
        srv.socket = tls_context(args.tls_cert, args.tls_key, args.tls_client_ca).wrap_socket(
            srv.socket, server_side=True, do_handshake_on_connect=False)
    srv.token = args.token
    srv.port = srv.server_address[1]
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.port)
    os.replace(tmp, args.port_file)  # readers see the whole port or no file
    try:
        srv.serve_forever(poll_interval=0.5)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
