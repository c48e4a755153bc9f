"""The client against a real Redis (tests/it/it_clients.sh). Each test has
its own key prefix, so no worker takes its jobs, except
test_job_runs_to_success, which uses the queue the harness's worker reads."""
from __future__ import annotations

import secrets
import socket
import time
import uuid
from typing import Callable
from urllib.parse import quote

import pytest
import redis

from syncq import Client, EnqueueResult, EnvelopeRefused, SyncqError, Unavailable, encode
from syncq.url import RedisUrl

from conftest import env

Key = Callable[[str, str], str]


def waiting_bytes(raw: redis.Redis, key: Key, queue: str) -> bytes:
    """The raw bytes of a delayed/debounced entry (the wrapper's first line is not the producer's)."""
    members = raw.zrange(key(queue, "retry"), 0, -1)
    assert len(members) == 1
    entry: bytes = members[0]
    return entry.split(b"\n", 1)[1]


def test_enqueue_every_field_keeps_the_producers_bytes(client: Client, raw: redis.Redis, key: Key) -> None:
    sync = {
        "v": 1, "id": f"py-all-{secrets.token_hex(4)}", "kind": "sync", "service": "dns",
        "action": "sync_records", "target_type": "zone", "target_id": "z/1", "scope": "exämple.org",
        "actor": "user:42", "max_attempts": 7, "timeout_ms": 12000, "idempotency_key": f"k-{uuid.uuid4()}",
        "idempotency_ttl_s": 60, "debounce_key": "exämple.org", "debounce_ms": 500, "debounce_max_ms": 5000,
        "expected_hash": "ab12", "run_at": "2099-01-01T00:00:00Z", "delay_ms": 1000,
        "enqueued_at": "2026-11-24T10:00:00.250Z",
        "payload": {"url": "https://a.example/x", "name": "wéb", "tags": [], "empty": {}, "n": 1.5, "token": "s3cret"},
    }
    r = client.enqueue(sync)
    assert (r.id, r.state, r.queue) == (sync["id"], "debounced", "sync")
    got = waiting_bytes(raw, key, "sync")
    assert got == encode(sync), "the envelope reaches Redis byte for byte"
    assert '"url":"https://a.example/x","name":"wéb","tags":[],"empty":{}'.encode() in got

    mutation = {k: v for k, v in sync.items() if not k.startswith("debounce")}
    mutation.update(kind="mutation", id=f"{sync['id']}-m", idempotency_key=f"m-{uuid.uuid4()}",
                    run_at="2020-01-01T00:00:00Z", delay_ms=0)
    r = client.enqueue(mutation)
    assert (r.id, r.state, r.queue) == (mutation["id"], "queued", "urgent")
    assert raw.lrange(key("urgent", "ready"), 0, -1) == [encode(mutation)]


def test_default_queue_by_kind(client: Client, raw: redis.Redis, key: Key) -> None:
    s = client.enqueue({"kind": "sync", "service": "dns", "action": "sync_records", "scope": "example.org"})
    m = client.enqueue({"kind": "mutation", "service": "dns", "action": "create_record", "payload": {}})
    o = client.enqueue({"kind": "mutation", "service": "dns", "action": "create_record"}, queue="other")
    assert (s.queue, m.queue, o.queue) == ("sync", "urgent", "other")
    assert [raw.llen(key(q, "ready")) for q in ("sync", "urgent", "other")] == [1, 1, 1]
    assert b'"payload":{}' in raw.lindex(key("urgent", "ready"), 0)


def test_duplicate_idempotency_key_returns_the_first_id(client: Client, raw: redis.Redis, key: Key) -> None:
    env_ = {"kind": "mutation", "service": "billing", "action": "send_invoice", "payload": {"amount": 1250},
            "idempotency_key": f"inv-{uuid.uuid4()}", "idempotency_ttl_s": 900}
    first = client.enqueue(env_)
    again = client.enqueue(env_)
    assert first.state == "queued"
    assert again.state == "duplicate" and again.duplicate
    assert again.id == first.id
    assert raw.llen(key("urgent", "ready")) == 1, "nothing enqueued twice"


def test_delayed_job(client: Client) -> None:
    before = int(time.time() * 1000)
    r = client.enqueue({"kind": "mutation", "service": "syncq", "action": "noop", "delay_ms": 600000})
    assert r.state == "delayed"
    st = client.status(r.id)
    assert st is not None and (st.state, st.queue) == ("delayed", "urgent")
    assert st.due_ms is not None and st.due_ms >= before + 590000


def test_batch_with_one_refused_entry(client: Client, raw: redis.Redis, key: Key) -> None:
    res = client.enqueue_batch([
        {"kind": "mutation", "service": "syncq", "action": "noop", "id": f"batch-a-{uuid.uuid4()}"},
        {"kind": "mutation", "service": "syncq"},
        {"kind": "sync", "service": "syncq", "action": "noop"},
        {"kind": "mutation", "service": "syncq", "action": "noop", "max_attempts": float("nan")},
        {"kind": "mutation", "service": "syncq", "action": "noop"},
    ])
    assert len(res) == 5
    assert isinstance(res[0], EnqueueResult) and res[0].id.startswith("batch-a-")
    assert isinstance(res[1], EnvelopeRefused) and res[1].reason == 'missing required field "action"'
    assert isinstance(res[2], EnqueueResult) and (res[2].state, res[2].queue) == ("queued", "sync")
    assert isinstance(res[3], EnvelopeRefused) and "cannot encode" in res[3].reason
    assert isinstance(res[4], EnqueueResult) and res[4].state == "queued"
    assert raw.llen(key("urgent", "ready")) == 2
    assert raw.llen(key("sync", "ready")) == 1


def test_batch_larger_than_one_pipeline(client: Client, raw: redis.Redis, key: Key) -> None:
    envs = [{"kind": "mutation", "service": "syncq", "action": "noop"} for _ in range(2100)]
    envs[1500] = {"kind": "mutation", "service": "syncq"}
    res = client.enqueue_batch(envs)
    assert len(res) == 2100
    assert isinstance(res[1500], EnvelopeRefused)
    assert all(isinstance(r, EnqueueResult) and r.state == "queued" for i, r in enumerate(res) if i != 1500)
    assert raw.llen(key("urgent", "ready")) == 2099


def test_status_of_queued_jobs(client: Client) -> None:
    older = client.enqueue({"kind": "mutation", "service": "syncq", "action": "noop"})
    newer = client.enqueue({"kind": "mutation", "service": "syncq", "action": "noop"})
    st = client.status(older.id)
    assert st is not None and (st.state, st.queue, st.position) == ("queued", "urgent", 0)
    st = client.status(newer.id, queue="urgent")
    assert st is not None and st.position == 1
    assert client.status(newer.id, queue="sync") is None, "not in that queue"
    assert client.status("no-such-job") is None


def test_cancel_queued_and_delayed_jobs(client: Client, raw: redis.Redis, key: Key) -> None:
    q = client.enqueue({"kind": "mutation", "service": "syncq", "action": "noop"})
    d = client.enqueue({"kind": "sync", "service": "syncq", "action": "noop", "delay_ms": 600000})
    assert client.cancel(q.id, actor="user:7")
    st = client.status(q.id)
    assert st is not None and (st.state, st.error) == ("dead", "cancelled by user:7")
    assert not client.cancel(q.id), "a dead job is not cancelled twice"
    assert client.cancel(d.id, "sync", "cron")
    st = client.status(d.id)
    assert st is not None and st.state == "dead"
    assert raw.zcard(key("sync", "retry")) == 0
    assert not client.cancel("no-such-job")


def test_refused_envelope_raises_envelope_refused(client: Client) -> None:
    with pytest.raises(EnvelopeRefused) as e:
        client.enqueue({"kind": "mutation", "service": "syncq"})
    assert e.value.reason == 'missing required field "action"'
    assert isinstance(e.value, SyncqError)
    with pytest.raises(EnvelopeRefused, match='"debounce_key" is only allowed when kind is "sync"'):
        client.enqueue({"kind": "mutation", "service": "s", "action": "a", "debounce_key": "x"})


def test_bad_queue_name_is_a_value_error(client: Client) -> None:
    with pytest.raises(ValueError, match="queue name"):
        client.enqueue({"kind": "mutation", "service": "s", "action": "a"}, queue="bad}queue")


def test_unreachable_redis_raises_unavailable(prefix: str) -> None:
    url = env("SYNCQ_CLOSED_URL").replace("redis://", "redis://:pw-secret@")
    c = Client.from_url(url, prefix=prefix, timeout=2)
    with pytest.raises(Unavailable) as e:
        c.enqueue({"kind": "mutation", "service": "syncq", "action": "noop"})
    assert "cannot reach Redis at redis://:********@" in str(e.value)
    assert "pw-secret" not in str(e.value)
    assert isinstance(e.value, SyncqError)
    with pytest.raises(Unavailable):
        c.enqueue_batch([{"kind": "mutation", "service": "syncq", "action": "noop"}])
    with pytest.raises(Unavailable):
        c.status("x")


def test_silent_redis_raises_unavailable(prefix: str) -> None:
    """A server that accepts the connection and never answers: the timeout."""
    with socket.socket() as srv:
        srv.bind(("127.0.0.1", 0))
        srv.listen(1)
        port = srv.getsockname()[1]
        c = Client.from_url(f"redis://127.0.0.1:{port}/0", prefix=prefix, timeout=0.5)
        with pytest.raises(Unavailable, match="cannot reach Redis at redis://127.0.0.1:.*[Tt]imeout"):
            c.enqueue({"kind": "mutation", "service": "syncq", "action": "noop"})


def test_password_redis_and_the_function_library(prefix: str) -> None:
    url = env("SYNCQ_AUTH_URL")
    u = RedisUrl.parse(url)
    raw = redis.Redis(host=u.host, port=u.port, password=u.password)
    assert raw.function_flush() is True
    noop = {"kind": "mutation", "service": "syncq", "action": "noop"}
    with pytest.raises(Unavailable, match="function library is not loaded.*start a syncq-worker"):
        Client.from_url(url, prefix=prefix).enqueue(noop)
    c = Client.from_url(url, prefix=prefix, library=env("SYNCQ_LIBRARY"))
    r = c.enqueue(noop)
    assert r.state == "queued", "loaded from the library file, then enqueued"
    st = c.status(r.id)
    assert st is not None and st.state == "queued"
    assert [lib[b"library_name"] if isinstance(lib, dict) else lib[1] for lib in raw.function_list()] == [b"syncq"]
    raw.close()

    sock = f"unix://{env('SYNCQ_AUTH_SOCKET')}?password={quote(u.password or '', safe='')}"
    assert Client.from_url(sock, prefix=prefix).enqueue(noop).state == "queued"

    for bad in (f"redis://{u.host}:{u.port}/0", f"redis://:wrong@{u.host}:{u.port}/0"):
        with pytest.raises(Unavailable, match="authentication required") as e:
            Client.from_url(bad, prefix=prefix).enqueue(noop)
        assert u.password is not None and u.password not in str(e.value)


def test_job_runs_to_success() -> None:
    c = Client.from_url(env("SYNCQ_REDIS_URL"), prefix=env("SYNCQ_PREFIX"))
    r = c.enqueue({"kind": "mutation", "service": "syncq", "action": "noop", "actor": "python-client",
                   "payload": {"from": "python"}}, queue=env("SYNCQ_RUN_QUEUE"))
    assert r.state == "queued"
    with open(env("SYNCQ_IDS_FILE"), "a", encoding="utf-8") as f:
        f.write(r.id + "\n")


def test_wait_returns_success_and_masked_dead() -> None:
    """wait() against the harness's worker: a job that takes a while ends
    success; a permanent failure ends dead with its error masked."""
    c = Client.from_url(env("SYNCQ_REDIS_URL"), prefix=env("SYNCQ_PREFIX"))
    q = env("SYNCQ_RUN_QUEUE")
    slow = c.enqueue({"kind": "mutation", "service": "syncq", "action": "sleep", "payload": {"ms": 500}}, queue=q)
    out = c.wait(slow.id, 10)
    assert out is not None and (out.id, out.status, out.queue, out.ok) == (slow.id, "success", q, True)
    secret = f"py-s3cret-{secrets.token_hex(4)}"
    bad = c.enqueue({"kind": "mutation", "service": "syncq", "action": "fail",
                     "payload": {"permanent": True, "message": f"https://u:{secret}@x.example/"}}, queue=q)
    out = c.wait(bad.id, 10)
    assert out is not None and out.status == "dead" and not out.ok
    assert out.error is not None and "permanent failure requested" in out.error and secret not in out.error
    again = c.wait(bad.id, 1)  # dead-lettered already: at once, from the dead-letter set
    assert again is not None and again.status == "dead"
    c.close()


def test_wait_times_out_on_a_job_nobody_runs(client: Client) -> None:
    r = client.enqueue({"kind": "mutation", "service": "syncq", "action": "noop"}, queue="default")
    t0 = time.monotonic()
    assert client.wait(r.id, 0.3) is None
    assert time.monotonic() - t0 >= 0.3


def test_wait_reads_an_end_after_the_look_up(client: Client, raw: redis.Redis, key: Key) -> None:
    """An end published while wait() blocks is read (the stream's position
    was taken before the look-up); entries of other jobs are skipped."""
    r = client.enqueue({"kind": "mutation", "service": "syncq", "action": "noop"}, queue="default")
    raw.xadd(key("default", "events"), {"id": "someone-else", "status": "success"})

    def publish() -> None:
        time.sleep(0.3)
        raw.lpop(key("default", "ready"))
        raw.xadd(key("default", "events"), {"id": "another", "status": "dead"})
        raw.xadd(key("default", "events"), {"id": r.id, "status": "conflict", "error": "changed meanwhile"})

    import threading
    t = threading.Thread(target=publish)
    t.start()
    out = client.wait(r.id, 10)
    t.join()
    assert out is not None and (out.status, out.error, out.result) == ("conflict", "changed meanwhile", None)


def test_wait_finds_an_end_before_the_call(client: Client, raw: redis.Redis, key: Key) -> None:
    raw.xadd(key("default", "events"), {"id": "done-before", "status": "success", "result": '{"n":1}'})
    out = client.wait("done-before", 0.2, queue="default")
    assert out is not None and (out.status, out.result) == ("success", '{"n":1}')
