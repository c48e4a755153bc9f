<?php

declare(strict_types=1);

namespace Syncq\Tests;

/** The client over the pure-PHP RESP transport, forced although ext-redis is loaded. */
final class RespClientTest extends ClientTestCase
{
    protected static function transportName(): string
    {
        return 'resp';
    }
}
