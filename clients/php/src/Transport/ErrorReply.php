<?php

declare(strict_types=1);

namespace Syncq\Transport;

/**
 * A Redis error reply (`-ERR ...`) as a value, so a pipeline can hand back
 * one error among good replies.
 */
final class ErrorReply
{
    public function __construct(public readonly string $message)
    {
    }
}
