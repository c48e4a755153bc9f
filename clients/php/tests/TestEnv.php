<?php

declare(strict_types=1);

namespace Syncq\Tests;

use PHPUnit\Framework\Assert;

/**
 * The environment tests/it/it_clients.sh passes in. A missing variable
 * fails the test: a suite that skipped everything would pass while
 * proving nothing.
 *
 *   SYNCQ_REDIS_URL    the harness's Redis (function library loaded by a worker)
 *   SYNCQ_PREFIX       the worker's key prefix
 *   SYNCQ_RUN_QUEUE    the queue that worker reads: jobs put there must end success
 *   SYNCQ_IDS_FILE     where a test appends the ids of those jobs, one per line
 *   SYNCQ_AUTH_URL     a private Redis with requirepass, the password in the URL
 *   SYNCQ_AUTH_SOCKET  its unix socket
 *   SYNCQ_LIBRARY      lib/functions.lua (made by make)
 *   SYNCQ_CLOSED_URL   a redis:// URL nothing listens on
 */
final class TestEnv
{
    public static function get(string $name): string
    {
        $v = getenv($name);
        if ($v === false || $v === '') {
            Assert::fail("$name is not set: run this suite through tests/it/it_clients.sh");
        }
        return $v;
    }
}
