<?php

declare(strict_types=1);

namespace Syncq;

/**
 * How a job ended, read from its queue's events stream (docs/PROTOCOL.md
 * "Producer events"): a notification; the audit table stays the truth.
 */
final class JobOutcome
{
    public function __construct(
        public readonly string $id,
        /** success | dead | conflict | superseded */
        public readonly string $status,
        public readonly string $queue,
        /** the handler's result (JSON text), masked; null when none */
        public readonly ?string $result = null,
        /** the last error, masked; null when none */
        public readonly ?string $error = null,
    ) {
    }

    public function ok(): bool
    {
        return $this->status === 'success';
    }

    /** @param list<mixed> $fields a stream entry's field, value list */
    public static function fromFields(string $queue, array $fields): self
    {
        $f = [];
        for ($i = 0; $i + 1 < count($fields); $i += 2) {
            $f[(string)$fields[$i]] = (string)$fields[$i + 1];
        }
        return new self($f['id'] ?? '', $f['status'] ?? '', $queue, $f['result'] ?? null, $f['error'] ?? null);
    }
}
