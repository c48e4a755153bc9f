<?php

declare(strict_types=1);

namespace Syncq;

/**
 * What one enqueue did: the function's `[id, state]` reply and the queue it
 * went to. For a duplicate, id is the first job's id and nothing was
 * enqueued.
 */
final class EnqueueResult
{
    public const QUEUED = 'queued';
    public const DELAYED = 'delayed';
    public const DEBOUNCED = 'debounced';
    public const DUPLICATE = 'duplicate';

    public function __construct(
        public readonly string $id,
        public readonly string $state,
        public readonly string $queue,
    ) {
    }

    public function isDuplicate(): bool
    {
        return $this->state === self::DUPLICATE;
    }
}
