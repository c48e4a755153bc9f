<?php

declare(strict_types=1);

namespace Syncq\Tests;

/** The client over ext-redis (phpredis). */
final class PhpRedisClientTest extends ClientTestCase
{
    protected static function transportName(): string
    {
        return 'phpredis';
    }

    public function testAutoPicksPhpRedisWhenLoaded(): void
    {
        $this->assertTrue(extension_loaded('redis'), 'php-redis is installed by scripts/deps.sh');
        $c = new \Syncq\Client(TestEnv::get('SYNCQ_REDIS_URL'));
        $t = (new \ReflectionProperty($c, 'redis'))->getValue($c);
        $this->assertInstanceOf(\Syncq\Transport\PhpRedisTransport::class, $t);
    }
}
