"""The environment tests/it/it_clients.sh passes in (see clients/php/tests/TestEnv.php
for the list). A missing variable fails the test: a suite that skipped
everything would pass while proving nothing."""
from __future__ import annotations

import os
import secrets
from typing import Callable, Iterator

import pytest
import redis

from syncq import Client


def env(name: str) -> str:
    v = os.environ.get(name, "")
    if not v:
        pytest.fail(f"{name} is not set: run this suite through tests/it/it_clients.sh")
    return v


@pytest.fixture
def prefix() -> str:
    """A prefix of this test's own: no worker takes its jobs."""
    return f"{env('SYNCQ_PREFIX')}-py-{secrets.token_hex(3)}"


@pytest.fixture
def raw() -> Iterator[redis.Redis]:
    r = redis.Redis.from_url(env("SYNCQ_REDIS_URL"))
    yield r
    r.close()


@pytest.fixture
def client(prefix: str) -> Iterator[Client]:
    with Client.from_url(env("SYNCQ_REDIS_URL"), prefix=prefix) as c:
        yield c


@pytest.fixture
def key(prefix: str) -> Callable[[str, str], str]:
    return lambda queue, what: f"{prefix}:{{{queue}}}:{what}"
