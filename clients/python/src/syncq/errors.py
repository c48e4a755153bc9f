"""Exceptions of the syncq client: catch SyncqError for both kinds."""
from __future__ import annotations


class SyncqError(Exception):
    """The base of every error the client raises on purpose."""


class EnvelopeRefused(SyncqError):
    """The enqueue function refused the envelope (its ``ERR syncq: <reason>``
    reply, docs/PROTOCOL.md), or it could not be encoded as JSON. Nothing was
    enqueued; the same envelope is refused again."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"envelope refused: {reason}")
        self.reason = reason


class Unavailable(SyncqError):
    """Redis could not take the command: connection refused, timeout, failed
    authentication, the function library not loaded, or an error reply that
    is not a refusal of the envelope. An idempotency_key makes a retry safe."""
