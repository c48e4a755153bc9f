<?php

declare(strict_types=1);

namespace Syncq\Transport;

use Syncq\Exception\Unavailable;

/**
 * One Redis connection, connected on first use. Replies come back as PHP
 * values: a string for a bulk or status reply (phpredis gives `true` for
 * +OK), an int, a list for an array, null for a nil, and an ErrorReply for
 * an error reply. A transport throws Unavailable only when it cannot talk
 * to Redis at all (connect, authenticate, read, write, timeout).
 */
interface Transport
{
    /**
     * @param list<string|int> $args the command and its arguments
     * @throws Unavailable
     */
    public function command(array $args): mixed;

    /**
     * Sends every command before reading any reply (one round trip).
     *
     * @param list<list<string|int>> $commands
     * @return list<mixed> one reply per command, in order
     * @throws Unavailable
     */
    public function pipeline(array $commands): array;

    public function close(): void;
}
