<?php

declare(strict_types=1);

namespace Syncq;

/**
 * A Redis URL, read as the syncq binaries read SYNCQ_REDIS_URL
 * (common/url.h):
 *
 *   redis://[[user]:password@]host[:port][/db][?db=N&password=P&user=U]
 *   unix:///path/to/socket[?db=N&password=P]   unix://[:password@]/path
 *
 * A lone userinfo (`redis://secret@host`) is a password, as redis-cli reads
 * it; user and password are percent-decoded. rediss:// (TLS) is refused, as
 * the binaries refuse it.
 */
final class RedisUrl
{
    private function __construct(
        public readonly string $host,
        public readonly int $port,
        public readonly ?string $socket,
        public readonly ?string $user,
        public readonly ?string $password,
        public readonly int $db,
    ) {
    }

    /** @throws \InvalidArgumentException */
    public static function parse(string $url): self
    {
        if ($url === '') {
            throw new \InvalidArgumentException('empty Redis URL');
        }
        $p = ['host' => '', 'port' => 6379, 'socket' => null, 'user' => null, 'password' => null, 'db' => 0];
        if (strncasecmp($url, 'redis://', 8) === 0) {
            self::parseTcp(substr($url, 8), $p);
        } elseif (strncasecmp($url, 'unix://', 7) === 0) {
            self::parseUnix(substr($url, 7), $p);
        } elseif (strncasecmp($url, 'rediss://', 9) === 0) {
            throw new \InvalidArgumentException('rediss:// is not supported (TLS not supported); use redis:// or unix://');
        } else {
            throw new \InvalidArgumentException('not a Redis URL (expected redis://host[:port][/db] or unix:///path)');
        }
        return new self($p['host'], $p['port'], $p['socket'], $p['user'], $p['password'], $p['db']);
    }

    /** The URL with its password replaced by ********, for messages. */
    public function redacted(): string
    {
        $auth = '';
        if ($this->password !== null) {
            $auth = rawurlencode($this->user ?? '') . ':********@';
        } elseif ($this->user !== null) {
            $auth = rawurlencode($this->user) . '@';
        }
        if ($this->socket !== null) {
            return 'unix://' . $auth . $this->socket . '?db=' . $this->db;
        }
        $host = str_contains($this->host, ':') ? '[' . $this->host . ']' : $this->host;
        return 'redis://' . $auth . $host . ':' . $this->port . '/' . $this->db;
    }

    /** @param array<string, mixed> $p */
    private static function parseTcp(string $s, array &$p): void
    {
        $stop = strcspn($s, '?#');
        // the userinfo runs to the last '@' before the query: a password may hold '/' or '@'
        $at = strrpos(substr($s, 0, $stop), '@');
        if ($at !== false) {
            self::parseUserinfo(substr($s, 0, $at), $p);
        }
        $hp = $at === false ? $s : substr($s, $at + 1);
        $end = strcspn($hp, '/?#');
        self::parseHostPort(substr($hp, 0, $end), $p);
        $rest = substr($hp, $end);
        if ($rest !== '' && $rest[0] === '/') {
            $n = strcspn($rest, '?#', 1);
            if ($n > 0) {
                $p['db'] = self::parseDb(substr($rest, 1, $n));
            }
            $rest = substr($rest, 1 + $n);
        }
        if ($rest !== '' && $rest[0] === '?') {
            self::parseQuery(substr($rest, 1), $p);
        }
    }

    /** @param array<string, mixed> $p */
    private static function parseUnix(string $s, array &$p): void
    {
        $path = $s;
        if ($s === '' || $s[0] !== '/') {
            $at = strpos($s, '@');
            if ($at === false || ($s[$at + 1] ?? '') !== '/') {
                throw new \InvalidArgumentException('unix socket URL needs an absolute path: unix:///path');
            }
            self::parseUserinfo(substr($s, 0, $at), $p);
            $path = substr($s, $at + 1);
        }
        $n = strcspn($path, '?#');
        if ($n <= 1) {
            throw new \InvalidArgumentException('missing socket path in unix:// URL');
        }
        $p['socket'] = substr($path, 0, $n);
        $p['port'] = 0;
        if (($path[$n] ?? '') === '?') {
            self::parseQuery(substr($path, $n + 1), $p);
        }
    }

    /** @param array<string, mixed> $p */
    private static function parseUserinfo(string $s, array &$p): void
    {
        $colon = strpos($s, ':');
        if ($colon === false) {
            $p['password'] = self::decode($s, 'password');
            return;
        }
        $user = substr($s, 0, $colon);
        $p['user'] = $user === '' ? null : self::decode($user, 'user');
        $p['password'] = self::decode(substr($s, $colon + 1), 'password');
    }

    /** @param array<string, mixed> $p */
    private static function parseHostPort(string $s, array &$p): void
    {
        $port = null;
        if ($s !== '' && $s[0] === '[') {
            $rb = strpos($s, ']');
            if ($rb === false) {
                throw new \InvalidArgumentException('unterminated [IPv6 address] in Redis URL');
            }
            $host = substr($s, 1, $rb - 1);
            $after = substr($s, $rb + 1);
            if ($after !== '' && $after[0] !== ':') {
                throw new \InvalidArgumentException('bad text after ] in Redis URL');
            }
            $port = $after === '' ? null : substr($after, 1);
        } else {
            $colon = strpos($s, ':');
            $host = $colon === false ? $s : substr($s, 0, $colon);
            $port = $colon === false ? null : substr($s, $colon + 1);
        }
        if ($host === '') {
            throw new \InvalidArgumentException('empty host in Redis URL');
        }
        $p['host'] = $host;
        if ($port !== null) {
            if (!preg_match('/^[0-9]{1,5}$/D', $port) || (int)$port < 1 || (int)$port > 65535) {
                throw new \InvalidArgumentException(sprintf('bad port "%.16s" in Redis URL (expected 1..65535)', $port));
            }
            $p['port'] = (int)$port;
        }
    }

    /** @param array<string, mixed> $p */
    private static function parseQuery(string $q, array &$p): void
    {
        foreach (explode('&', $q) as $pair) {
            if ($pair === '') {
                continue;
            }
            $eq = strpos($pair, '=');
            if ($eq === false) {
                throw new \InvalidArgumentException(sprintf('Redis URL parameter "%.32s" has no value', $pair));
            }
            $name = substr($pair, 0, $eq);
            $value = substr($pair, $eq + 1);
            match ($name) {
                'db' => $p['db'] = self::parseDb($value),
                'password' => $p['password'] = self::decode($value, 'password'),
                'user', 'username' => $p['user'] = self::decode($value, 'user'),
                default => throw new \InvalidArgumentException(
                    sprintf('unknown Redis URL parameter "%.32s" (known: db, password, user)', $name)
                ),
            };
        }
    }

    private static function parseDb(string $s): int
    {
        if (!preg_match('/^[0-9]{1,10}$/D', $s) || (int)$s > 2147483647) {
            throw new \InvalidArgumentException(sprintf('bad database number "%.32s" in Redis URL', $s));
        }
        return (int)$s;
    }

    /** Percent-decodes a user or password; the message names the part, never its text. */
    private static function decode(string $s, string $what): string
    {
        if (preg_match('/%(?![0-9A-Fa-f]{2})|%00/', $s)) {
            throw new \InvalidArgumentException("bad percent-escape in Redis URL $what");
        }
        return rawurldecode($s);
    }
}
