<?php

declare(strict_types=1);

namespace Syncq\Exception;

/**
 * Redis could not take the command: connection refused, timeout, failed
 * authentication, the function library not loaded, or any other error reply
 * that is not a refusal of the envelope. Whether the job went in is unknown
 * only when the connection broke mid-command; an idempotency_key makes the
 * retry safe.
 */
final class Unavailable extends SyncqException
{
}
