<?php

declare(strict_types=1);

namespace Syncq;

use Syncq\Exception\EnvelopeRefused;
use Syncq\Exception\SyncqException;
use Syncq\Exception\Unavailable;
use Syncq\Transport\ErrorReply;
use Syncq\Transport\Handshake;
use Syncq\Transport\PhpRedisTransport;
use Syncq\Transport\RespTransport;
use Syncq\Transport\Transport;

/**
 * A syncq producer: enqueue, status and cancel through the syncq Redis
 * Functions (docs/PROTOCOL.md). Connects on first use.
 *
 *   $syncq = new Client('redis://:secret@127.0.0.1:6379/0');
 *   $r = $syncq->enqueue(['kind' => 'mutation', 'service' => 'dns', 'action' => 'create_record',
 *                         'payload' => ['name' => 'www']]);
 *   echo $r->id, ' ', $r->state;          // queued | delayed | debounced | duplicate
 */
final class Client
{
    /** The queues a job goes to when none is given (docs/PROTOCOL.md "Keys"). */
    public const QUEUE_BY_KIND = ['mutation' => 'urgent', 'sync' => 'sync'];

    /** The queues status() and cancel() search without a queue: the worker's default order. */
    public const DEFAULT_QUEUES = ['urgent', 'default', 'sync'];

    /** Encoded as the producer wrote it: no \/ or \u escapes added, never a partial result. */
    private const JSON_FLAGS = JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_THROW_ON_ERROR;

    /** Commands per pipeline round trip: bounds the memory a huge batch holds at once. */
    private const PIPELINE_CHUNK = 1000;

    /** How far back wait() looks for a job that ended before it was called. */
    private const RECENT = 1000;
    /** One blocking read at most: the deadline and signals act within it. */
    private const BLOCK_S = 1.0;
    private const NOT_LOADED_HINT = 'the syncq function library is not loaded in this Redis: run `syncq migrate`'
        . ' or start a syncq-worker once (both load it), or give the client the library option with the path'
        . " of syncq's functions.lua (lib/functions.lua in a build tree, share/syncq/functions.lua installed)";

    private readonly RedisUrl $url;
    private readonly Transport $redis;

    /**
     * @param string $url redis://[[user]:password@]host[:port][/db] or unix:///path?db=N (see RedisUrl)
     * @param string $prefix the key prefix of the workers (SYNCQ_PREFIX)
     * @param string|Transport $transport "auto" (phpredis when loaded, else RESP over a socket),
     *        "phpredis", "resp", or a Transport of your own
     * @param float $timeout seconds for connecting and for each reply
     * @param string|null $library path of syncq's functions.lua (lib/functions.lua after make): loaded into Redis when the
     *        functions are missing (otherwise a missing library is an Unavailable with a hint)
     * @throws \InvalidArgumentException on a bad URL, prefix or transport name
     */
    public function __construct(
        string $url = 'redis://127.0.0.1:6379/0',
        private readonly string $prefix = 'syncq',
        string|Transport $transport = 'auto',
        float $timeout = 5.0,
        private readonly ?string $library = null,
    ) {
        if ($prefix === '' || preg_match('/[{}\s]/', $prefix)) {
            throw new \InvalidArgumentException('prefix must be non-empty, without braces or blanks');
        }
        $this->url = RedisUrl::parse($url);
        $this->redis = match (true) {
            $transport instanceof Transport => $transport,
            $transport === 'phpredis' => new PhpRedisTransport($this->url, $timeout),
            $transport === 'resp' => new RespTransport($this->url, $timeout),
            $transport === 'auto' => extension_loaded('redis')
                ? new PhpRedisTransport($this->url, $timeout)
                : new RespTransport($this->url, $timeout),
            default => throw new \InvalidArgumentException('transport must be "auto", "phpredis", "resp" or a Transport'),
        };
    }

    /**
     * Enqueues one job. $envelope is any array of docs/PROTOCOL.md fields
     * (Envelope::mutation()/sync() build one); it is sent as JSON, untouched
     * by the function. Without $queue, mutations go to urgent, syncs to sync.
     *
     * @param array<string, mixed> $envelope
     * @throws EnvelopeRefused the function (or the JSON encoder) refused it; nothing was enqueued
     * @throws Unavailable Redis could not be reached or could not run it
     */
    public function enqueue(array $envelope, ?string $queue = null): EnqueueResult
    {
        $queue = $this->queueFor($envelope, $queue);
        $reply = $this->fcall($this->enqueueCommand(self::encode($envelope), $queue));
        return $this->result($reply, $queue);
    }

    /**
     * Enqueues many jobs in one pipeline (one round trip). The result has one
     * entry per envelope, same keys: an EnqueueResult, an EnvelopeRefused for a
     * refused one, or an Unavailable when Redis failed on that one entry.
     *
     * @param array<array-key, array<string, mixed>> $envelopes
     * @return array<array-key, EnqueueResult|SyncqException>
     * @throws Unavailable when Redis cannot be reached or the function library is missing (nothing enqueued)
     */
    public function enqueueBatch(array $envelopes, ?string $queue = null): array
    {
        $out = [];
        $sent = [];   // key => queue, for the entries that go to Redis
        $cmds = [];
        foreach ($envelopes as $k => $env) {
            try {
                $q = $this->queueFor($env, $queue);
                $cmds[] = $this->enqueueCommand(self::encode($env), $q);
                $sent[$k] = $q;
                $out[$k] = null;
            } catch (EnvelopeRefused $e) {
                $out[$k] = $e;
            }
        }
        $replies = [];
        foreach (array_chunk($cmds, self::PIPELINE_CHUNK) as $chunk) {
            array_push($replies, ...$this->pipelineLoaded($chunk));
        }
        $i = 0;
        foreach ($sent as $k => $q) {
            try {
                $out[$k] = $this->result($replies[$i++], $q);
            } catch (SyncqException $e) {
                $out[$k] = $e;
            }
        }
        return $out;
    }

    /**
     * Where job $id is in Redis, searching $queue or else urgent, default,
     * sync and every queue a worker registered. Null when Redis does not hold
     * it (unknown, or finished and only in the audit table).
     *
     * @throws Unavailable
     */
    public function status(string $id, ?string $queue = null): ?JobStatus
    {
        foreach ($this->searchQueues($queue) as $q) {
            $reply = $this->fcall(['FCALL', 'syncq_status', '1', $this->readyKey($q), $id]);
            if (is_array($reply) && $reply !== [] && $reply[0] !== 'unknown') {
                return JobStatus::fromReply($id, $q, $reply);
            }
        }
        return null;
    }

    /**
     * Takes a queued or delayed job out, into its queue's dead-letter set
     * (reason "cancelled by <actor>"; `syncq dlq replay` brings it back).
     * True when it was cancelled; false when Redis holds it in no such state
     * (running, finished, unknown).
     *
     * @throws Unavailable
     */
    public function cancel(string $id, ?string $queue = null, ?string $actor = null): bool
    {
        $actor ??= self::osUser();
        foreach ($this->searchQueues($queue) as $q) {
            if ((int)$this->fcall(['FCALL', 'syncq_cancel', '1', $this->readyKey($q), $id, $actor]) === 1) {
                return true;
            }
        }
        return false;
    }

    /**
     * Waits up to $timeout seconds for job $id to end and returns how it ended
     * (success, dead, conflict, superseded; its masked result and error).
     * Null when the timeout passed first, or when Redis no longer knows the
     * job and it ended too long ago for the capped stream (the audit table
     * has it then). A job already dead-lettered answers at once.
     *
     * Race-free: each stream's last id is read before the job is looked up,
     * and the wait reads from there; reads block at most 1 s at a time.
     *
     * @throws Unavailable
     */
    public function wait(string $id, float $timeout, ?string $queue = null): ?JobOutcome
    {
        $deadline = microtime(true) + max(0.0, $timeout);
        $queues = $this->searchQueues($queue);
        $marks = [];
        foreach ($queues as $q) {
            $last = $this->command(['XREVRANGE', $this->eventsKey($q), '+', '-', 'COUNT', '1']);
            $marks[$q] = is_array($last) && $last !== [] ? (string)$last[0][0] : '0-0';
        }
        $st = $this->status($id, $queue);
        if ($st !== null && $st->state === 'dead') {
            return new JobOutcome($id, 'dead', $st->queue, null, $st->error);
        }
        if ($st !== null) {
            $marks = [$st->queue => $marks[$st->queue]];
        } else {
            foreach ($queues as $q) {
                $recent = $this->command(['XREVRANGE', $this->eventsKey($q), '+', '-', 'COUNT', (string)self::RECENT]);
                foreach (is_array($recent) ? $recent : [] as $entry) {
                    $out = JobOutcome::fromFields($q, $entry[1]);
                    if ($out->id === $id) {
                        return $out;
                    }
                }
            }
        }
        return $this->readUntil($id, $marks, $deadline);
    }

    /** The events stream of a queue: <prefix>:{queue}:events (docs/PROTOCOL.md "Producer events"). */
    public function eventsKey(string $queue): string
    {
        self::checkQueue($queue);
        return $this->prefix . ':{' . $queue . '}:events';
    }

    public function close(): void
    {
        $this->redis->close();
    }

    /** The ready list of a queue: <prefix>:{queue}:ready (the braces are a Cluster hash tag). */
    public function readyKey(string $queue): string
    {
        self::checkQueue($queue);
        return $this->prefix . ':{' . $queue . '}:ready';
    }

    /**
     * The envelope as JSON: the producer's strings as they are (no \/ or
     * \uXXXX added), lists stay lists, and an empty envelope or payload is
     * an object, `{}`, never PHP's `[]`.
     *
     * @param array<string, mixed> $envelope
     * @throws EnvelopeRefused when it cannot be encoded (invalid UTF-8, INF, NAN, recursion)
     */
    public static function encode(array $envelope): string
    {
        if (array_key_exists('payload', $envelope) && $envelope['payload'] === []) {
            $envelope['payload'] = new \stdClass();
        }
        try {
            return $envelope === [] ? '{}' : json_encode($envelope, self::JSON_FLAGS);
        } catch (\JsonException $e) {
            throw new EnvelopeRefused('cannot encode the envelope as JSON: ' . $e->getMessage(), $e);
        }
    }

    /** @param array<string, mixed> $envelope */
    private function queueFor(array $envelope, ?string $queue): string
    {
        if ($queue !== null) {
            self::checkQueue($queue);
            return $queue;
        }
        // a missing or bad kind is refused by the function, whichever queue it names
        $kind = $envelope['kind'] ?? null;
        return is_string($kind) && isset(self::QUEUE_BY_KIND[$kind]) ? self::QUEUE_BY_KIND[$kind] : 'urgent';
    }

    /** @return list<string> */
    private function enqueueCommand(string $json, string $queue): array
    {
        return ['FCALL', 'syncq_enqueue', '1', $this->readyKey($queue), $json];
    }

    /** @param list<string> $cmd */
    private function fcall(array $cmd): mixed
    {
        $reply = $this->pipelineLoaded([$cmd])[0];
        if ($reply instanceof ErrorReply) {
            throw $this->error($reply);
        }
        return $reply;
    }

    /**
     * Runs commands that call syncq functions; when Redis lacks the library,
     * loads it from $library (if given) and runs them again, else throws.
     *
     * @param list<list<string>> $cmds
     * @return list<mixed>
     */
    private function pipelineLoaded(array $cmds): array
    {
        $replies = $this->redis->pipeline($cmds);
        $missing = false;
        foreach ($replies as $r) {
            if ($r instanceof ErrorReply) {
                if (Handshake::isAuthError($r->message)) {
                    throw Handshake::authFailed($this->url, $r->message);
                }
                $missing = $missing || str_contains($r->message, 'Function not found');
            }
        }
        if (!$missing) {
            return $replies;
        }
        if ($this->library === null) {
            throw new Unavailable(self::NOT_LOADED_HINT);
        }
        $this->loadLibrary();
        // entries the server ran are not sent twice: only the ones that found no function
        $again = [];
        foreach ($replies as $i => $r) {
            if ($r instanceof ErrorReply && str_contains($r->message, 'Function not found')) {
                $again[$i] = $cmds[$i];
            }
        }
        foreach (array_combine(array_keys($again), $this->redis->pipeline(array_values($again))) as $i => $r) {
            $replies[$i] = $r;
        }
        return $replies;
    }

    private function loadLibrary(): void
    {
        $text = @file_get_contents((string)$this->library);
        if ($text === false || !str_starts_with($text, '#!lua name=syncq')) {
            throw new Unavailable(sprintf('cannot read the syncq function library from %s', $this->library));
        }
        // without REPLACE: a library already there (a master won the race) is kept
        $reply = $this->redis->command(['FUNCTION', 'LOAD', $text]);
        if ($reply instanceof ErrorReply && !str_contains($reply->message, 'already exists')) {
            throw new Unavailable('loading the syncq function library failed: ' . $reply->message);
        }
    }

    private function result(mixed $reply, string $queue): EnqueueResult
    {
        if ($reply instanceof ErrorReply) {
            throw $this->error($reply);
        }
        if (!is_array($reply) || count($reply) !== 2) {
            throw new Unavailable('unexpected reply from syncq_enqueue: ' . json_encode($reply));
        }
        return new EnqueueResult((string)$reply[0], (string)$reply[1], $queue);
    }

    /** A refusal of the envelope, or Redis failing to run the command. */
    private function error(ErrorReply $e): SyncqException
    {
        if (preg_match('/^(?:ERR )?syncq: (.*)$/s', $e->message, $m)) {
            return new EnvelopeRefused($m[1]);
        }
        if (Handshake::isAuthError($e->message)) {
            return Handshake::authFailed($this->url, $e->message);
        }
        return new Unavailable(sprintf('Redis at %s could not run it: %s', $this->url->redacted(), $e->message));
    }

    /** @param array<string, string> $marks queue => last stream id read */
    private function readUntil(string $id, array $marks, float $deadline): ?JobOutcome
    {
        $keys = [];
        foreach (array_keys($marks) as $q) {
            $keys[$this->eventsKey($q)] = $q;
        }
        while (true) {
            $left = $deadline - microtime(true);
            $cmd = ['XREAD', 'COUNT', '500'];
            if ($left > 0) {
                // never 0 (blocks forever), never near the transport's reply timeout
                $cmd = array_merge($cmd, ['BLOCK', (string)max(1, (int)(min($left, self::BLOCK_S) * 1000))]);
            }
            $cmd = array_merge($cmd, ['STREAMS'], array_keys($keys), array_values($marks));
            $got = $this->command($cmd);
            foreach (is_array($got) ? $got : [] as [$key, $entries]) {
                $q = $keys[(string)$key];
                foreach ($entries as [$entryId, $fields]) {
                    $marks[$q] = (string)$entryId;
                    $out = JobOutcome::fromFields($q, $fields);
                    if ($out->id === $id) {
                        return $out;
                    }
                }
            }
            if ((!is_array($got) || $got === []) && $left <= 0) { // nil: phpredis may give false or []
                return null;
            }
        }
    }

    /**
     * A plain command; error replies become exceptions.
     *
     * @param list<string> $cmd
     */
    private function command(array $cmd): mixed
    {
        $reply = $this->redis->command($cmd);
        if ($reply instanceof ErrorReply) {
            throw $this->error($reply);
        }
        return $reply;
    }

    /** @return list<string> */
    private function searchQueues(?string $queue): array
    {
        if ($queue !== null) {
            self::checkQueue($queue);
            return [$queue];
        }
        $known = $this->redis->command(['SMEMBERS', $this->prefix . ':{' . $this->prefix . ':fleet}:queues']);
        if ($known instanceof ErrorReply) {
            throw $this->error($known);
        }
        $known = is_array($known) ? array_map('strval', $known) : [];
        sort($known);
        $valid = array_filter($known, static fn (string $q) => self::validQueue($q));
        return array_values(array_unique(array_merge(self::DEFAULT_QUEUES, $valid)));
    }

    private static function validQueue(string $q): bool
    {
        return preg_match('/^[A-Za-z0-9_.-]{1,63}$/D', $q) === 1;
    }

    private static function checkQueue(string $q): void
    {
        if (!self::validQueue($q)) {
            throw new \InvalidArgumentException(sprintf('queue name "%.64s" is invalid: use 1..63 characters of [A-Za-z0-9_.-]', $q));
        }
    }

    private static function osUser(): string
    {
        if (function_exists('posix_geteuid') && function_exists('posix_getpwuid')) {
            $pw = posix_getpwuid(posix_geteuid());
            if (is_array($pw) && $pw['name'] !== '') {
                return $pw['name'];
            }
        }
        return getenv('USER') ?: 'unknown';
    }
}
