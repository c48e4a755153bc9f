<?php

declare(strict_types=1);

namespace Syncq\Tests;

use PHPUnit\Framework\TestCase;
use Syncq\RedisUrl;

/** URL parsing as the binaries do it (common/url.h); no Redis needed. */
final class RedisUrlTest extends TestCase
{
    public function testFullTcpUrl(): void
    {
        $u = RedisUrl::parse('redis://app:p%40ss/w@redis.internal:6380/3');
        $this->assertSame(['redis.internal', 6380, null, 'app', 'p@ss/w', 3],
            [$u->host, $u->port, $u->socket, $u->user, $u->password, $u->db]);
        $this->assertSame('redis://app:********@redis.internal:6380/3', $u->redacted());
    }

    public function testLonePasswordAndDefaults(): void
    {
        $u = RedisUrl::parse('redis://s3cret@localhost');
        $this->assertSame(['localhost', 6379, null, 's3cret', 0], [$u->host, $u->port, $u->user, $u->password, $u->db]);
        $u = RedisUrl::parse('redis://:s3cret@[::1]:7000?db=2');
        $this->assertSame(['::1', 7000, null, 's3cret', 2], [$u->host, $u->port, $u->user, $u->password, $u->db]);
    }

    public function testUnixSocket(): void
    {
        $u = RedisUrl::parse('unix:///run/redis.sock?db=1&password=pw');
        $this->assertSame(['/run/redis.sock', 1, 'pw'], [$u->socket, $u->db, $u->password]);
        $u = RedisUrl::parse('unix://:pw@/run/redis.sock');
        $this->assertSame(['/run/redis.sock', 'pw'], [$u->socket, $u->password]);
    }

    /** @return array<string, array{string, string}> */
    public static function badUrls(): array
    {
        return [
            'tls' => ['rediss://host:6379', 'rediss:// is not supported'],
            'scheme' => ['http://host', 'not a Redis URL'],
            'port' => ['redis://host:99999', 'bad port'],
            'db' => ['redis://host/x', 'bad database number'],
            'param' => ['redis://host?timeout=1', 'unknown Redis URL parameter'],
            'unix' => ['unix://relative.sock', 'absolute path'],
            'escape' => ['redis://:p%zz@host', 'bad percent-escape in Redis URL password'],
        ];
    }

    /** @dataProvider badUrls */
    public function testBadUrlIsRefused(string $url, string $why): void
    {
        $this->expectException(\InvalidArgumentException::class);
        $this->expectExceptionMessage($why);
        RedisUrl::parse($url);
    }
}
