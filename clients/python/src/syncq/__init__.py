"""syncq: enqueue jobs for the syncq worker pool from Python (docs/PROTOCOL.md).

    from syncq import Client
    syncq = Client.from_url("redis://:secret@127.0.0.1:6379/0")
    r = syncq.enqueue({"kind": "mutation", "service": "dns", "action": "create_record"})
"""
from .client import DEFAULT_QUEUES, QUEUE_BY_KIND, Client, EnqueueResult, JobOutcome, JobStatus, encode
from .errors import EnvelopeRefused, SyncqError, Unavailable
from .url import RedisUrl

__all__ = ["Client", "EnqueueResult", "JobOutcome", "JobStatus", "EnvelopeRefused", "SyncqError", "Unavailable", "RedisUrl",
           "encode", "QUEUE_BY_KIND", "DEFAULT_QUEUES"]
__version__ = "0.1.0"
