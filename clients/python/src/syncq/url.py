"""Redis URLs read as the syncq binaries read SYNCQ_REDIS_URL (common/url.h).

    redis://[[user]:password@]host[:port][/db][?db=N&password=P&user=U]
    unix:///path/to/socket[?db=N&password=P]    unix://[:password@]/path

A lone userinfo (``redis://secret@host``) is a password, as redis-cli reads it
(redis-py's own from_url would take it for a user name); user and password are
percent-decoded. rediss:// (TLS) is refused, as the binaries refuse it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Dict, Optional
from urllib.parse import quote, unquote


@dataclass(frozen=True)
class RedisUrl:
    host: str = ""
    port: int = 6379
    socket: Optional[str] = None
    user: Optional[str] = None
    password: Optional[str] = field(default=None, repr=False)  # never in a repr or a log
    db: int = 0

    @classmethod
    def parse(cls, url: str) -> "RedisUrl":
        """Raises ValueError with what is wrong (never the password)."""
        if not url:
            raise ValueError("empty Redis URL")
        p: Dict[str, Any] = {}
        low = url.lower()
        if low.startswith("redis://"):
            _parse_tcp(url[8:], p)
        elif low.startswith("unix://"):
            _parse_unix(url[7:], p)
        elif low.startswith("rediss://"):
            raise ValueError("rediss:// is not supported (TLS not supported); use redis:// or unix://")
        else:
            raise ValueError("not a Redis URL (expected redis://host[:port][/db] or unix:///path)")
        return cls(**p)

    def redacted(self) -> str:
        """The URL with its password replaced by ********, for messages."""
        auth = ""
        if self.password is not None:
            auth = quote(self.user or "", safe="") + ":********@"
        elif self.user is not None:
            auth = quote(self.user, safe="") + "@"
        if self.socket is not None:
            return f"unix://{auth}{self.socket}?db={self.db}"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"redis://{auth}{host}:{self.port}/{self.db}"


def _stop(s: str) -> int:
    m = re.search(r"[?#]", s)
    return m.start() if m else len(s)


def _parse_tcp(s: str, p: Dict[str, Any]) -> None:
    stop = _stop(s)
    # the userinfo runs to the last '@' before the query: a password may hold '/' or '@'
    at = s.rfind("@", 0, stop)
    if at >= 0:
        _parse_userinfo(s[:at], p)
    hp = s[at + 1:] if at >= 0 else s
    m = re.search(r"[/?#]", hp)
    end = m.start() if m else len(hp)
    _parse_hostport(hp[:end], p)
    rest = hp[end:]
    if rest.startswith("/"):
        n = _stop(rest[1:])
        if n > 0:
            p["db"] = _parse_db(rest[1:1 + n])
        rest = rest[1 + n:]
    if rest.startswith("?"):
        _parse_query(rest[1:], p)


def _parse_unix(s: str, p: Dict[str, Any]) -> None:
    path = s
    if not s.startswith("/"):
        at = s.find("@")
        if at < 0 or not s[at + 1:].startswith("/"):
            raise ValueError("unix socket URL needs an absolute path: unix:///path")
        _parse_userinfo(s[:at], p)
        path = s[at + 1:]
    n = _stop(path)
    if n <= 1:
        raise ValueError("missing socket path in unix:// URL")
    p["socket"], p["port"] = path[:n], 0
    if path[n:].startswith("?"):
        _parse_query(path[n + 1:], p)


def _parse_userinfo(s: str, p: Dict[str, Any]) -> None:
    if ":" not in s:
        p["password"] = _decode(s, "password")
        return
    user, password = s.split(":", 1)
    p["user"] = _decode(user, "user") if user else None
    p["password"] = _decode(password, "password")


def _parse_hostport(s: str, p: Dict[str, Any]) -> None:
    port: Optional[str] = None
    if s.startswith("["):
        rb = s.find("]")
        if rb < 0:
            raise ValueError("unterminated [IPv6 address] in Redis URL")
        host, after = s[1:rb], s[rb + 1:]
        if after and not after.startswith(":"):
            raise ValueError("bad text after ] in Redis URL")
        port = after[1:] if after else None
    else:
        host, sep, rest = s.partition(":")
        port = rest if sep else None
    if not host:
        raise ValueError("empty host in Redis URL")
    p["host"] = host
    if port is not None:
        if not re.fullmatch(r"[0-9]{1,5}", port) or not 1 <= int(port) <= 65535:
            raise ValueError(f'bad port "{port[:16]}" in Redis URL (expected 1..65535)')
        p["port"] = int(port)


def _parse_query(q: str, p: Dict[str, Any]) -> None:
    for pair in q.split("&"):
        if not pair:
            continue
        name, eq, value = pair.partition("=")
        if not eq:
            raise ValueError(f'Redis URL parameter "{pair[:32]}" has no value')
        if name == "db":
            p["db"] = _parse_db(value)
        elif name == "password":
            p["password"] = _decode(value, "password")
        elif name in ("user", "username"):
            p["user"] = _decode(value, "user")
        else:
            raise ValueError(f'unknown Redis URL parameter "{name[:32]}" (known: db, password, user)')


def _parse_db(s: str) -> int:
    if not re.fullmatch(r"[0-9]{1,10}", s) or int(s) > 2147483647:
        raise ValueError(f'bad database number "{s[:32]}" in Redis URL')
    return int(s)


def _decode(s: str, what: str) -> str:
    """Percent-decodes a user or password; the message names the part, never its text."""
    if re.search(r"%(?![0-9A-Fa-f]{2})|%00", s):
        raise ValueError(f"bad percent-escape in Redis URL {what}")
    return unquote(s, errors="strict")
