<?php

declare(strict_types=1);

namespace Syncq\Exception;

/**
 * The enqueue function refused the envelope (its `ERR syncq: <reason>` reply,
 * docs/PROTOCOL.md), or the client could not encode it as JSON. Nothing was
 * enqueued; sending the same envelope again gets the same answer.
 */
final class EnvelopeRefused extends SyncqException
{
    public function __construct(private readonly string $reason, ?\Throwable $previous = null)
    {
        parent::__construct('envelope refused: ' . $reason, 0, $previous);
    }

    /** The reason alone, e.g. `missing required field "action"`. */
    public function getReason(): string
    {
        return $this->reason;
    }
}
