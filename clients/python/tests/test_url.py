"""URL parsing as the binaries do it (common/url.h); no Redis needed."""
import pytest

from syncq import RedisUrl


def test_full_tcp_url() -> None:
    u = RedisUrl.parse("redis://app:p%40ss/w@redis.internal:6380/3")
    assert (u.host, u.port, u.socket, u.user, u.password, u.db) == ("redis.internal", 6380, None, "app", "p@ss/w", 3)
    assert u.redacted() == "redis://app:********@redis.internal:6380/3"
    assert "p@ss" not in repr(u)


def test_lone_password_and_defaults() -> None:
    u = RedisUrl.parse("redis://s3cret@localhost")
    assert (u.host, u.port, u.user, u.password, u.db) == ("localhost", 6379, None, "s3cret", 0)
    u = RedisUrl.parse("redis://:s3cret@[::1]:7000?db=2")
    assert (u.host, u.port, u.password, u.db) == ("::1", 7000, "s3cret", 2)


def test_unix_socket() -> None:
    u = RedisUrl.parse("unix:///run/redis.sock?db=1&password=pw")
    assert (u.socket, u.db, u.password) == ("/run/redis.sock", 1, "pw")
    assert RedisUrl.parse("unix://:pw@/run/redis.sock").password == "pw"


@pytest.mark.parametrize("url,why", [
    ("rediss://host:6379", "rediss:// is not supported"),
    ("http://host", "not a Redis URL"),
    ("redis://host:99999", "bad port"),
    ("redis://host/x", "bad database number"),
    ("redis://host?timeout=1", "unknown Redis URL parameter"),
    ("unix://relative.sock", "absolute path"),
    ("redis://:p%zz@host", "bad percent-escape in Redis URL password"),
])
def test_bad_url_is_refused(url: str, why: str) -> None:
    with pytest.raises(ValueError, match=why.replace("/", "/")):
        RedisUrl.parse(url)
