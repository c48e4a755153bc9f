<?php

declare(strict_types=1);

namespace Syncq\Transport;

use Syncq\Exception\Unavailable;
use Syncq\RedisUrl;

/**
 * What both transports say about a connection that failed, so the messages
 * match whichever transport runs. Never includes the password.
 */
final class Handshake
{
    /** Unavailable for an error reply to AUTH, SELECT or any command before it. */
    public static function refused(RedisUrl $url, string $error): Unavailable
    {
        if (self::isAuthError($error)) {
            return self::authFailed($url, $error);
        }
        return new Unavailable(sprintf('Redis at %s refused the connection: %s', $url->redacted(), $error));
    }

    public static function authFailed(RedisUrl $url, string $error): Unavailable
    {
        $what = $url->password === null
            ? 'put the password in the URL: redis://[user]:password@host:port/db'
            : 'check the user and password in the URL';
        return new Unavailable(sprintf(
            'Redis at %s: authentication required (%s): %s',
            $url->redacted(),
            trim($error),
            $what
        ));
    }

    /**
     * NOAUTH: the server wants a password we did not send; WRONGPASS (Redis
     * 6+) or "invalid password" (older): the one we sent is wrong; and a
     * password sent to a server that has none.
     */
    public static function isAuthError(string $error): bool
    {
        return str_starts_with($error, 'NOAUTH') || str_starts_with($error, 'WRONGPASS')
            || str_contains($error, 'invalid password') || str_contains($error, 'without any password configured')
            || str_contains($error, 'invalid username-password');
    }

    public static function unreachable(RedisUrl $url, string $why): Unavailable
    {
        return new Unavailable(sprintf('cannot reach Redis at %s: %s', $url->redacted(), $why));
    }
}
