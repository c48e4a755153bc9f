<?php

declare(strict_types=1);

namespace Syncq\Transport;

use Syncq\Exception\Unavailable;
use Syncq\RedisUrl;

/**
 * ext-redis (phpredis 5.3+) through rawCommand, which every phpredis
 * version has (fcall() came in 6).
 *
 * phpredis turns an error reply into `false` and keeps the message in
 * getLastError(); inside a pipeline only the last message survives. So an
 * entry of a pipeline that came back false is sent again on its own to
 * learn its message. That is safe for what the client pipelines: the
 * enqueue function writes nothing before it has accepted the envelope, so
 * a refused entry sent twice is refused twice and changes nothing.
 */
final class PhpRedisTransport implements Transport
{
    private ?\Redis $redis = null;

    public function __construct(
        private readonly RedisUrl $url,
        private readonly float $timeout = 5.0,
    ) {
        if (!extension_loaded('redis')) {
            throw new \LogicException('ext-redis is not loaded: use the "resp" transport');
        }
    }

    public function command(array $args): mixed
    {
        $r = $this->connect();
        try {
            $r->clearLastError();
            $reply = $r->rawCommand(...array_map('strval', $args));
        } catch (\RedisException $e) {
            throw $this->broken($e);
        }
        if ($reply === false && ($err = $r->getLastError()) !== null) {
            $r->clearLastError();
            return new ErrorReply($err);
        }
        return $reply === false ? null : $reply;
    }

    public function pipeline(array $commands): array
    {
        if ($commands === []) {
            return [];
        }
        $r = $this->connect();
        try {
            $p = $r->multi(\Redis::PIPELINE);
            foreach ($commands as $args) {
                $p->rawCommand(...array_map('strval', $args));
            }
            $replies = $p->exec();
        } catch (\RedisException $e) {
            throw $this->broken($e);
        }
        if (!is_array($replies)) {
            throw $this->broken(null);
        }
        foreach ($replies as $i => $reply) {
            if ($reply === false) {
                $replies[$i] = $this->command($commands[$i]);
            }
        }
        return array_values($replies);
    }

    public function close(): void
    {
        if ($this->redis !== null) {
            try {
                $this->redis->close();
            } catch (\RedisException) {
                // closing a broken connection: nothing to do
            }
            $this->redis = null;
        }
    }

    private function connect(): \Redis
    {
        if ($this->redis !== null) {
            return $this->redis;
        }
        $r = new \Redis();
        try {
            $ok = $this->url->socket !== null
                ? $r->connect($this->url->socket, 0, $this->timeout, null, 0, $this->timeout)
                : $r->connect($this->url->host, $this->url->port, $this->timeout, null, 0, $this->timeout);
            if (!$ok) {
                throw Handshake::unreachable($this->url, $r->getLastError() ?? 'connect failed');
            }
            if ($this->url->password !== null) {
                $cred = $this->url->user !== null ? [$this->url->user, $this->url->password] : $this->url->password;
                if (!$r->auth($cred)) {
                    throw Handshake::refused($this->url, $r->getLastError() ?? 'AUTH failed');
                }
            }
            if ($this->url->db !== 0 && !$r->select($this->url->db)) {
                throw Handshake::refused($this->url, $r->getLastError() ?? 'SELECT failed');
            }
        } catch (\RedisException $e) {
            throw Handshake::isAuthError($e->getMessage())
                ? Handshake::authFailed($this->url, $e->getMessage())
                : Handshake::unreachable($this->url, $e->getMessage());
        }
        $this->redis = $r;
        return $r;
    }

    /** The connection is unusable: drop it so the next command reconnects. */
    private function broken(?\RedisException $e): Unavailable
    {
        $this->close();
        $msg = $e?->getMessage() ?? 'pipeline failed';
        if (Handshake::isAuthError($msg)) {
            return Handshake::authFailed($this->url, $msg);
        }
        // phpredis says "socket error on read socket" or "read error on connection" for both
        if (stripos($msg, 'read') !== false || stripos($msg, 'timed out') !== false) {
            $msg .= sprintf(' (no answer within %.1f s: timeout, or the connection broke)', $this->timeout);
        }
        return Handshake::unreachable($this->url, $msg);
    }
}
