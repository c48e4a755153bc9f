<?php

declare(strict_types=1);

namespace Syncq;

/**
 * Builds envelope arrays with named arguments for the fields of
 * docs/PROTOCOL.md, so a typo in a field name is an error, not an ignored
 * member:
 *
 *   Envelope::mutation('dns', 'create_record', ['name' => 'www'],
 *                      target_id: 'www', actor: 'user:42', idempotency_key: 'www-create');
 *
 * Absent (null) fields are left out. Plain arrays work as well: the client
 * takes any array and passes it through.
 */
final class Envelope
{
    /** @param array<string, mixed>|null $payload */
    public static function mutation(
        string $service,
        string $action,
        ?array $payload = null,
        ?string $id = null,
        ?string $target_type = null,
        ?string $target_id = null,
        ?string $scope = null,
        ?string $actor = null,
        ?int $max_attempts = null,
        ?int $timeout_ms = null,
        ?string $idempotency_key = null,
        ?int $idempotency_ttl_s = null,
        ?string $expected_hash = null,
        ?string $run_at = null,
        ?int $delay_ms = null,
        ?string $enqueued_at = null,
    ): array {
        return self::build('mutation', get_defined_vars());
    }

    /** @param array<string, mixed>|null $payload */
    public static function sync(
        string $service,
        string $action,
        ?array $payload = null,
        ?string $id = null,
        ?string $target_type = null,
        ?string $target_id = null,
        ?string $scope = null,
        ?string $actor = null,
        ?int $max_attempts = null,
        ?int $timeout_ms = null,
        ?string $idempotency_key = null,
        ?int $idempotency_ttl_s = null,
        ?string $debounce_key = null,
        ?int $debounce_ms = null,
        ?int $debounce_max_ms = null,
        ?string $expected_hash = null,
        ?string $run_at = null,
        ?int $delay_ms = null,
        ?string $enqueued_at = null,
    ): array {
        return self::build('sync', get_defined_vars());
    }

    /**
     * @param array<string, mixed> $fields
     * @return array<string, mixed>
     */
    private static function build(string $kind, array $fields): array
    {
        return ['kind' => $kind] + array_filter($fields, static fn ($v) => $v !== null);
    }
}
