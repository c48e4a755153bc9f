"""The syncq producer client: enqueue, status and cancel through the syncq
Redis Functions (docs/PROTOCOL.md), over redis-py."""
from __future__ import annotations

import getpass
import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

import redis

from .errors import EnvelopeRefused, SyncqError, Unavailable
from .url import RedisUrl

#: The queue a job goes to when none is given (docs/PROTOCOL.md "Keys").
QUEUE_BY_KIND: Mapping[str, str] = {"mutation": "urgent", "sync": "sync"}
#: The queues status() and cancel() search without a queue: the worker's default order.
DEFAULT_QUEUES: Tuple[str, ...] = ("urgent", "default", "sync")

#: Commands per pipeline round trip: bounds the memory a huge batch holds at once.
_PIPELINE_CHUNK = 1000
#: How far back wait() looks for a job that ended before it was called.
_RECENT = 1000
_QUEUE_RE = re.compile(r"[A-Za-z0-9_.-]{1,63}")
_NOT_LOADED = ("the syncq function library is not loaded in this Redis: run `syncq migrate` or start a "
               "syncq-worker once (both load it), or give the client library= with the path of syncq's "
               "functions.lua (lib/functions.lua in a build tree, share/syncq/functions.lua installed)")

Envelope = Mapping[str, Any]


@dataclass(frozen=True)
class EnqueueResult:
    """What one enqueue did: the function's ``[id, state]`` and the queue.
    For a duplicate, id is the first job's id and nothing was enqueued."""

    id: str
    state: str  # queued | delayed | debounced | duplicate
    queue: str

    @property
    def duplicate(self) -> bool:
        return self.state == "duplicate"


@dataclass(frozen=True)
class JobOutcome:
    """How a job ended, from its queue's events stream (docs/PROTOCOL.md
    "Producer events"): a notification; the audit table stays the truth."""

    id: str
    status: str  # success | dead | conflict | superseded
    queue: str
    result: Optional[str] = None  # the handler's result (JSON text), masked
    error: Optional[str] = None   # the last error, masked

    @property
    def ok(self) -> bool:
        return self.status == "success"

    @classmethod
    def from_fields(cls, queue: str, fields: Mapping[bytes, bytes]) -> "JobOutcome":
        def text(name: bytes) -> Optional[str]:
            v = fields.get(name)
            return v.decode("utf-8", "replace") if v is not None else None
        return cls(text(b"id") or "", text(b"status") or "", queue, text(b"result"), text(b"error"))


@dataclass(frozen=True)
class JobStatus:
    """Where a job is in Redis (the syncq_status function, as ``syncq status``
    shows it). A finished job that left Redis is only in the PostgreSQL audit."""

    id: str
    state: str  # queued | delayed | retrying | running | dead
    queue: str
    position: Optional[int] = None  # queued: jobs ahead of it
    due_ms: Optional[int] = None    # delayed, retrying: when it becomes ready (Unix ms)
    worker: Optional[str] = None    # running: the worker holding it
    dead_ms: Optional[int] = None   # dead: when it was dead-lettered (Unix ms)
    error: Optional[str] = None     # retrying, dead: the last error

    @classmethod
    def from_reply(cls, job_id: str, queue: str, reply: Sequence[bytes]) -> "JobStatus":
        f = [x.decode("utf-8", "replace") for x in reply]
        state, a = f[0], (f[1] if len(f) > 1 else None)
        b = f[2] if len(f) > 2 and f[2] else None
        if state == "queued":
            return cls(job_id, state, queue, position=int(a or 0))
        if state in ("delayed", "retrying"):
            return cls(job_id, state, queue, due_ms=int(a or 0), error=b)
        if state == "running":
            return cls(job_id, state, queue, worker=a)
        return cls(job_id, state, queue, dead_ms=int(a) if a else None, error=b)


def encode(envelope: Envelope) -> bytes:
    """The envelope as UTF-8 JSON, strings as the producer wrote them (no
    \\uXXXX added). Raises EnvelopeRefused for what JSON cannot carry (NaN,
    lone surrogates, objects json does not know)."""
    try:
        return json.dumps(envelope, ensure_ascii=False, allow_nan=False,
                          separators=(",", ":")).encode("utf-8")
    except (TypeError, ValueError) as e:
        raise EnvelopeRefused(f"cannot encode the envelope as JSON: {e}") from e


def _check_queue(queue: str) -> str:
    if not _QUEUE_RE.fullmatch(queue):
        raise ValueError(f'queue name "{queue[:64]}" is invalid: use 1..63 characters of [A-Za-z0-9_.-]')
    return queue


def _is_auth_error(msg: str) -> bool:
    return (msg.startswith(("NOAUTH", "WRONGPASS", "Authentication required"))
            or "invalid password" in msg or "without any password configured" in msg
            or "invalid username-password" in msg or "no password is set" in msg)


class Client:
    """A syncq producer. Connects on first use.

        syncq = Client.from_url("redis://:secret@127.0.0.1:6379/0")
        r = syncq.enqueue({"kind": "mutation", "service": "dns", "action": "create_record",
                           "payload": {"name": "www"}})
        print(r.id, r.state)        # queued | delayed | debounced | duplicate
    """

    def __init__(self, url: Union[str, RedisUrl] = "redis://127.0.0.1:6379/0", prefix: str = "syncq",
                 timeout: float = 5.0, library: Optional[Union[str, Path]] = None) -> None:
        """url: see syncq.url; prefix: the workers' key prefix (SYNCQ_PREFIX);
        timeout: seconds to connect and for each reply; library: the path of
        syncq's functions.lua (made by make as lib/functions.lua, installed as
        share/syncq/functions.lua), loaded into Redis when the functions are missing
        (otherwise a missing library is Unavailable with a hint)."""
        if not prefix or re.search(r"[{}\s]", prefix):
            raise ValueError("prefix must be non-empty, without braces or blanks")
        self.url = url if isinstance(url, RedisUrl) else RedisUrl.parse(url)
        self.prefix = prefix
        self.library = Path(library) if library is not None else None
        u = self.url
        common: Dict[str, Any] = dict(db=u.db, username=u.user, password=u.password, socket_timeout=timeout,
                                      socket_connect_timeout=timeout)
        if u.socket is not None:
            self.redis = redis.Redis(unix_socket_path=u.socket, **common)
        else:
            self.redis = redis.Redis(host=u.host, port=u.port, **common)

    @classmethod
    def from_url(cls, url: str, prefix: str = "syncq", timeout: float = 5.0,
                 library: Optional[Union[str, Path]] = None) -> "Client":
        return cls(url, prefix=prefix, timeout=timeout, library=library)

    def ready_key(self, queue: str) -> str:
        """The ready list of a queue: <prefix>:{queue}:ready (the braces are a Cluster hash tag)."""
        return f"{self.prefix}:{{{_check_queue(queue)}}}:ready"

    def enqueue(self, envelope: Envelope, queue: Optional[str] = None) -> EnqueueResult:
        """Enqueues one job; without queue, mutations go to urgent, syncs to sync.
        Raises EnvelopeRefused (nothing enqueued) or Unavailable."""
        q = self._queue_for(envelope, queue)
        reply = self._run([("syncq_enqueue", self.ready_key(q), [encode(envelope)])])[0]
        return self._result(reply, q)

    def enqueue_batch(self, envelopes: Iterable[Envelope],
                      queue: Optional[str] = None) -> List[Union[EnqueueResult, SyncqError]]:
        """Enqueues many jobs in one pipeline (one round trip). One entry per
        envelope, in order: an EnqueueResult, an EnvelopeRefused for a refused
        one, or an Unavailable when Redis failed on that entry alone. Raises
        Unavailable when Redis cannot be reached or lacks the functions."""
        out: List[Optional[EnvelopeRefused]] = []  # None: sent to Redis
        queues: List[str] = []
        calls: List[Tuple[str, str, List[Any]]] = []
        for env in envelopes:
            try:
                q = self._queue_for(env, queue)
                calls.append(("syncq_enqueue", self.ready_key(q), [encode(env)]))
                out.append(None)
                queues.append(q)
            except EnvelopeRefused as e:
                out.append(e)
                queues.append("")
        replies = iter([r for i in range(0, len(calls), _PIPELINE_CHUNK)
                        for r in self._run(calls[i:i + _PIPELINE_CHUNK])])
        results: List[Union[EnqueueResult, SyncqError]] = []
        for x, q in zip(out, queues):
            if x is not None:  # refused before sending
                results.append(x)
                continue
            try:
                results.append(self._result(next(replies), q))
            except SyncqError as e:
                results.append(e)
        return results

    def status(self, job_id: str, queue: Optional[str] = None) -> Optional[JobStatus]:
        """Where job_id is in Redis, searching queue or else urgent, default,
        sync and every queue a worker registered. None when Redis does not hold
        it (unknown, or finished: then only the audit table has it)."""
        for q in self._search_queues(queue):
            reply = self._one("syncq_status", self.ready_key(q), [job_id])
            if isinstance(reply, list) and reply and reply[0] != b"unknown":
                return JobStatus.from_reply(job_id, q, reply)
        return None

    def cancel(self, job_id: str, queue: Optional[str] = None, actor: Optional[str] = None) -> bool:
        """Takes a queued or delayed job out, into its dead-letter set (reason
        "cancelled by <actor>"; ``syncq dlq replay`` brings it back). False when
        Redis holds it in no such state (running, finished, unknown)."""
        who = actor if actor is not None else _os_user()
        for q in self._search_queues(queue):
            if self._one("syncq_cancel", self.ready_key(q), [job_id, who]) == 1:
                return True
        return False

    def events_key(self, queue: str) -> str:
        """The events stream of a queue: <prefix>:{queue}:events (docs/PROTOCOL.md "Producer events")."""
        return f"{self.prefix}:{{{_check_queue(queue)}}}:events"

    def wait(self, job_id: str, timeout: float, queue: Optional[str] = None) -> Optional[JobOutcome]:
        """Waits up to timeout seconds for job_id to end and returns how it
        ended (success, dead, conflict, superseded; its masked result and
        error). None when the timeout passed first, or when Redis no longer
        knows the job and it ended too long ago for the capped stream: the
        audit table has it then. A job already dead-lettered answers at once.

        Race-free: each stream's last id is read before the job is looked
        up, and the wait reads from there; reads block 1 s at a time."""
        deadline = time.monotonic() + max(0.0, timeout)
        queues = self._search_queues(queue)
        try:
            marks = {q: self._last_id(q) for q in queues}
        except redis.RedisError as e:
            raise self._error(e) from e
        st = self.status(job_id, queue)
        if st is not None and st.state == "dead":
            return JobOutcome(job_id, "dead", st.queue, None, st.error)
        if st is not None:
            marks = {st.queue: marks[st.queue]}
        else:
            seen = self._ended_recently(job_id, queues)
            if seen is not None:
                return seen
        try:
            return self._read_until(job_id, marks, deadline)
        except redis.RedisError as e:
            raise self._error(e) from e

    def close(self) -> None:
        self.redis.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ internals

    @staticmethod
    def _queue_for(envelope: Envelope, queue: Optional[str]) -> str:
        if queue is not None:
            return _check_queue(queue)
        if not isinstance(envelope, Mapping):
            raise EnvelopeRefused("envelope must be a mapping (a JSON object)")
        kind = envelope.get("kind")
        # a missing or bad kind is refused by the function, whichever queue it names
        return QUEUE_BY_KIND.get(kind, "urgent") if isinstance(kind, str) else "urgent"

    def _one(self, fn: str, key: str, args: List[Any]) -> Any:
        reply = self._run([(fn, key, args)])[0]
        if isinstance(reply, Exception):
            raise self._error(reply)
        return reply

    def _run(self, calls: List[Tuple[str, str, List[Any]]]) -> List[Any]:
        """FCALLs in one pipeline; replies are values or ResponseErrors. When
        Redis lacks the library: load it from self.library and run again the
        calls that found no function, else raise Unavailable."""
        replies = self._pipeline(calls)
        missing = [i for i, r in enumerate(replies)
                   if isinstance(r, redis.ResponseError) and "Function not found" in str(r)]
        if not missing:
            return replies
        if self.library is None:
            raise Unavailable(_NOT_LOADED)
        self._load_library()
        for i, r in zip(missing, self._pipeline([calls[i] for i in missing])):
            replies[i] = r
        return replies

    def _pipeline(self, calls: List[Tuple[str, str, List[Any]]]) -> List[Any]:
        if not calls:
            return []
        try:
            pipe = self.redis.pipeline(transaction=False)
            for fn, key, args in calls:
                pipe.fcall(fn, 1, key, *args)
            replies = list(pipe.execute(raise_on_error=False))
        except redis.RedisError as e:
            raise self._error(e) from e
        for r in replies:
            if isinstance(r, redis.RedisError) and _is_auth_error(str(r)):
                raise self._auth_failed(str(r))
        return replies

    def _load_library(self) -> None:
        assert self.library is not None
        try:
            text = self.library.read_text(encoding="utf-8")
        except OSError as e:
            raise Unavailable(f"cannot read the syncq function library from {self.library}: {e}") from e
        if not text.startswith("#!lua name=syncq"):
            raise Unavailable(f"{self.library} is not the syncq function library")
        try:
            # without REPLACE: a library already there (a master won the race) is kept
            self.redis.function_load(text)
        except redis.ResponseError as e:
            if "already exists" not in str(e):
                raise Unavailable(f"loading the syncq function library failed: {e}") from e
        except redis.RedisError as e:
            raise self._error(e) from e

    def _result(self, reply: Any, queue: str) -> EnqueueResult:
        if isinstance(reply, Exception):
            raise self._error(reply)
        if not isinstance(reply, list) or len(reply) != 2:
            raise Unavailable(f"unexpected reply from syncq_enqueue: {reply!r}")
        return EnqueueResult(reply[0].decode(), reply[1].decode(), queue)

    def _error(self, e: Exception) -> SyncqError:
        """A refusal of the envelope, or Redis failing to run the command."""
        msg = str(e)
        if isinstance(e, redis.ResponseError):
            m = re.match(r"(?:ERR )?syncq: (.*)", msg, re.S)
            if m:
                return EnvelopeRefused(m.group(1))
        if isinstance(e, redis.AuthenticationError) or _is_auth_error(msg):
            return self._auth_failed(msg)
        if isinstance(e, (redis.ConnectionError, redis.TimeoutError)):
            return Unavailable(f"cannot reach Redis at {self.url.redacted()}: {msg}")
        return Unavailable(f"Redis at {self.url.redacted()} could not run it: {msg}")

    def _auth_failed(self, msg: str) -> Unavailable:
        hint = ("put the password in the URL: redis://[user]:password@host:port/db" if self.url.password is None
                else "check the user and password in the URL")
        return Unavailable(f"Redis at {self.url.redacted()}: authentication required ({msg.strip()}): {hint}")

    def _last_id(self, queue: str) -> str:
        last = self.redis.xrevrange(self.events_key(queue), "+", "-", count=1)
        return str(last[0][0].decode()) if last else "0-0"

    def _ended_recently(self, job_id: str, queues: List[str]) -> Optional[JobOutcome]:
        """The newest ending of job_id among the last _RECENT entries of each stream."""
        try:
            for q in queues:
                for _, fields in self.redis.xrevrange(self.events_key(q), "+", "-", count=_RECENT):
                    if fields.get(b"id") == job_id.encode():
                        return JobOutcome.from_fields(q, fields)
        except redis.RedisError as e:
            raise self._error(e) from e
        return None

    def _read_until(self, job_id: str, marks: Dict[str, str], deadline: float) -> Optional[JobOutcome]:
        want = job_id.encode()
        while True:
            left = deadline - time.monotonic()
            block = max(1, int(min(left, 1.0) * 1000)) if left > 0 else None  # 0 would block forever
            streams = {self.events_key(q): m for q, m in marks.items()}
            got = self.redis.xread(streams, count=500, block=block) if block else self.redis.xread(streams, count=500)
            for key, entries in got or []:
                q = self._queue_of(key)
                for entry_id, fields in entries:
                    marks[q] = entry_id.decode()
                    if fields.get(b"id") == want:
                        return JobOutcome.from_fields(q, fields)
            if not got and left <= 0:
                return None

    def _queue_of(self, key: Any) -> str:
        k = key.decode() if isinstance(key, bytes) else str(key)
        return k[len(self.prefix) + 2:-len("}:events")]

    def _search_queues(self, queue: Optional[str]) -> List[str]:
        if queue is not None:
            return [_check_queue(queue)]
        try:
            known = self.redis.smembers(f"{self.prefix}:{{{self.prefix}:fleet}}:queues")
        except redis.RedisError as e:
            raise self._error(e) from e
        names = sorted(x.decode("utf-8", "replace") for x in known)
        out = list(DEFAULT_QUEUES)
        out += [q for q in names if _QUEUE_RE.fullmatch(q) and q not in out]
        return out


def _os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry, no USER variable
        return "unknown"
