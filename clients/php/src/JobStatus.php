<?php

declare(strict_types=1);

namespace Syncq;

/**
 * Where a job is in Redis (the syncq_status function, as `syncq status`
 * shows it): queued, delayed, retrying, running or dead. A finished job
 * that left Redis is only in the PostgreSQL audit (syncq_jobs); the client
 * does not read it.
 */
final class JobStatus
{
    public function __construct(
        public readonly string $id,
        /** queued | delayed | retrying | running | dead */
        public readonly string $state,
        public readonly string $queue,
        /** queued: jobs ahead of it on the ready list */
        public readonly ?int $position = null,
        /** delayed, retrying: when it becomes ready (Unix ms, Redis's clock) */
        public readonly ?int $dueMs = null,
        /** running: the worker holding it */
        public readonly ?string $worker = null,
        /** dead: when it was dead-lettered (Unix ms) */
        public readonly ?int $deadMs = null,
        /** retrying, dead: the last error, e.g. "cancelled by user:42" */
        public readonly ?string $error = null,
    ) {
    }

    /** @param list<mixed> $reply the syncq_status reply, not "unknown" */
    public static function fromReply(string $id, string $queue, array $reply): self
    {
        $state = (string)$reply[0];
        $a = isset($reply[1]) ? (string)$reply[1] : null;
        $b = isset($reply[2]) && $reply[2] !== '' ? (string)$reply[2] : null;
        return match ($state) {
            'queued' => new self($id, $state, $queue, position: (int)$a),
            'delayed' => new self($id, $state, $queue, dueMs: (int)$a),
            'retrying' => new self($id, $state, $queue, dueMs: (int)$a, error: $b),
            'running' => new self($id, $state, $queue, worker: $a),
            default => new self($id, $state, $queue, deadMs: $a === null ? null : (int)$a, error: $b),
        };
    }
}
