<?php

declare(strict_types=1);

namespace Syncq\Transport;

use Syncq\Exception\Unavailable;
use Syncq\RedisUrl;

/**
 * RESP2 over a plain stream socket, for PHP without ext-redis. Speaks just
 * what the client needs: arrays of bulk strings out; simple, error, integer,
 * bulk and array replies in. Any I/O failure closes the socket (a reply
 * half read cannot be resynchronised) and the next command reconnects.
 */
final class RespTransport implements Transport
{
    /** @var resource|null */
    private $sock = null;

    public function __construct(
        private readonly RedisUrl $url,
        private readonly float $timeout = 5.0,
    ) {
    }

    public function __destruct()
    {
        $this->close();
    }

    public function command(array $args): mixed
    {
        return $this->pipeline([$args])[0];
    }

    public function pipeline(array $commands): array
    {
        if ($commands === []) {
            return [];
        }
        $this->connect();
        $buf = '';
        foreach ($commands as $args) {
            $buf .= self::encode($args);
        }
        try {
            $this->write($buf);
            $out = [];
            foreach ($commands as $_) {
                $out[] = $this->read();
            }
            return $out;
        } catch (Unavailable $e) {
            $this->close();
            throw $e;
        }
    }

    public function close(): void
    {
        if ($this->sock !== null) {
            fclose($this->sock);
            $this->sock = null;
        }
    }

    /** @param list<string|int> $args */
    private static function encode(array $args): string
    {
        $s = '*' . count($args) . "\r\n";
        foreach ($args as $a) {
            $a = (string)$a;
            $s .= '$' . strlen($a) . "\r\n" . $a . "\r\n";
        }
        return $s;
    }

    private function connect(): void
    {
        if ($this->sock !== null) {
            return;
        }
        $addr = $this->url->socket !== null
            ? 'unix://' . $this->url->socket
            : 'tcp://' . (str_contains($this->url->host, ':') ? '[' . $this->url->host . ']' : $this->url->host)
                . ':' . $this->url->port;
        $errno = 0;
        $errstr = '';
        $sock = @stream_socket_client($addr, $errno, $errstr, $this->timeout);
        if ($sock === false) {
            throw Handshake::unreachable($this->url, $errstr !== '' ? $errstr : "error $errno");
        }
        $secs = (int)$this->timeout;
        stream_set_timeout($sock, $secs, (int)(($this->timeout - $secs) * 1e6));
        $this->sock = $sock;
        $hello = [];
        if ($this->url->password !== null) {
            $hello[] = $this->url->user !== null
                ? ['AUTH', $this->url->user, $this->url->password]
                : ['AUTH', $this->url->password];
        }
        if ($this->url->db !== 0) {
            $hello[] = ['SELECT', (string)$this->url->db];
        }
        if ($hello === []) {
            return;
        }
        foreach ($this->pipeline($hello) as $reply) {
            if ($reply instanceof ErrorReply) {
                $this->close();
                throw Handshake::refused($this->url, $reply->message);
            }
        }
    }

    private function write(string $buf): void
    {
        while ($buf !== '') {
            $n = @fwrite($this->sock, $buf);
            if ($n === false || $n === 0) {
                throw $this->ioError('write to Redis failed');
            }
            $buf = substr($buf, $n);
        }
    }

    private function line(): string
    {
        $l = fgets($this->sock);
        if ($l === false || !str_ends_with($l, "\r\n")) {
            throw $this->ioError('connection closed by Redis');
        }
        return substr($l, 0, -2);
    }

    private function bytes(int $n): string
    {
        $s = '';
        while (strlen($s) < $n) {
            $chunk = fread($this->sock, $n - strlen($s));
            if ($chunk === false || $chunk === '') {
                throw $this->ioError('connection closed by Redis');
            }
            $s .= $chunk;
        }
        return $s;
    }

    private function read(): mixed
    {
        $l = $this->line();
        $rest = substr($l, 1);
        switch ($l[0] ?? '') {
            case '+':
                return $rest;
            case '-':
                return new ErrorReply($rest);
            case ':':
                return (int)$rest;
            case '$':
                if ((int)$rest < 0) {
                    return null;
                }
                return substr($this->bytes((int)$rest + 2), 0, -2);
            case '*':
                if ((int)$rest < 0) {
                    return null;
                }
                $a = [];
                for ($i = (int)$rest; $i > 0; $i--) {
                    $a[] = $this->read();
                }
                return $a;
        }
        throw $this->ioError(sprintf('unexpected reply from Redis: "%.32s"', $l));
    }

    /** A timeout reads as an empty line; say which it was. */
    private function ioError(string $what): Unavailable
    {
        $timedOut = $this->sock !== null && (stream_get_meta_data($this->sock)['timed_out'] ?? false);
        return Handshake::unreachable(
            $this->url,
            $timedOut ? sprintf('no answer within %.1f s (timeout)', $this->timeout) : $what
        );
    }
}
