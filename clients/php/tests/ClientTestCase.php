<?php

declare(strict_types=1);

namespace Syncq\Tests;

use PHPUnit\Framework\TestCase;
use Syncq\Client;
use Syncq\EnqueueResult;
use Syncq\Envelope;
use Syncq\Exception\EnvelopeRefused;
use Syncq\Exception\SyncqException;
use Syncq\Exception\Unavailable;
use Syncq\RedisUrl;
use Syncq\Transport\RespTransport;

/**
 * The client against a real Redis, once per transport (PhpRedisClientTest,
 * RespClientTest). Each test class has its own key prefix, so no worker
 * takes its jobs, except testJobRunsToSuccess, which puts one on the queue
 * the harness's worker reads.
 */
abstract class ClientTestCase extends TestCase
{
    private RespTransport $raw;
    private string $prefix;

    abstract protected static function transportName(): string;

    protected function setUp(): void
    {
        $this->raw = new RespTransport(RedisUrl::parse(TestEnv::get('SYNCQ_REDIS_URL')));
        $this->prefix = TestEnv::get('SYNCQ_PREFIX') . '-php-' . static::transportName() . '-' . bin2hex(random_bytes(3));
    }

    protected function tearDown(): void
    {
        $this->raw->close();
    }

    private function client(?string $url = null, ?string $prefix = null, ?string $library = null): Client
    {
        return new Client($url ?? TestEnv::get('SYNCQ_REDIS_URL'), prefix: $prefix ?? $this->prefix,
            transport: static::transportName(), timeout: 5.0, library: $library);
    }

    private function key(string $queue, string $what): string
    {
        return $this->prefix . ':{' . $queue . '}:' . $what;
    }

    /** The raw bytes of a delayed/debounced entry: the wrapper's first line is not the producer's. */
    private function waitingBytes(string $queue): string
    {
        $members = $this->raw->command(['ZRANGE', $this->key($queue, 'retry'), '0', '-1']);
        $this->assertCount(1, $members);
        return explode("\n", $members[0], 2)[1];
    }

    public function testEnqueueEveryFieldKeepsTheProducersBytes(): void
    {
        $c = $this->client();
        $sync = [
            'v' => 1, 'id' => 'php-all-' . bin2hex(random_bytes(4)), 'kind' => 'sync', 'service' => 'dns',
            'action' => 'sync_records', 'target_type' => 'zone', 'target_id' => 'z/1', 'scope' => 'exämple.org',
            'actor' => 'user:42', 'max_attempts' => 7, 'timeout_ms' => 12000, 'idempotency_key' => 'k-' . uniqid(),
            'idempotency_ttl_s' => 60, 'debounce_key' => 'exämple.org', 'debounce_ms' => 500,
            'debounce_max_ms' => 5000, 'expected_hash' => 'ab12', 'run_at' => '2099-01-01T00:00:00Z',
            'delay_ms' => 1000, 'enqueued_at' => '2026-11-24T10:00:00.250Z',
            'payload' => ['url' => 'https://a.example/x', 'name' => 'wéb', 'tags' => [], 'n' => 1.5, 'token' => 's3cret'],
        ];
        $r = $c->enqueue($sync);
        $this->assertSame([$sync['id'], 'debounced', 'sync'], [$r->id, $r->state, $r->queue]);
        $json = $this->waitingBytes('sync');
        $this->assertSame(Client::encode($sync), $json, 'the envelope reaches Redis byte for byte');
        $this->assertStringContainsString('"url":"https://a.example/x","name":"wéb","tags":[]', $json);

        $mutation = $sync;
        unset($mutation['debounce_key'], $mutation['debounce_ms'], $mutation['debounce_max_ms']);
        $mutation = ['kind' => 'mutation', 'id' => $sync['id'] . '-m', 'idempotency_key' => 'm-' . uniqid(),
                     'run_at' => '2020-01-01T00:00:00Z', 'delay_ms' => 0] + $mutation;
        $r = $c->enqueue($mutation);
        $this->assertSame([$mutation['id'], 'queued', 'urgent'], [$r->id, $r->state, $r->queue]);
        $this->assertSame([Client::encode($mutation)], $this->raw->command(['LRANGE', $this->key('urgent', 'ready'), '0', '-1']));
    }

    public function testEnvelopeHelperAndDefaultQueueByKind(): void
    {
        $c = $this->client();
        $s = $c->enqueue(Envelope::sync('dns', 'sync_records', scope: 'example.org', actor: 'cron'));
        $m = $c->enqueue(Envelope::mutation('dns', 'create_record', ['name' => 'www'], target_id: 'www'));
        $this->assertSame(['sync', 'queued', 'urgent', 'queued'], [$s->queue, $s->state, $m->queue, $m->state]);
        $this->assertSame(1, $this->raw->command(['LLEN', $this->key('sync', 'ready')]));
        $this->assertSame(1, $this->raw->command(['LLEN', $this->key('urgent', 'ready')]));
        $o = $c->enqueue(Envelope::mutation('dns', 'create_record'), 'other');
        $this->assertSame('other', $o->queue);
        $this->assertSame(1, $this->raw->command(['LLEN', $this->key('other', 'ready')]));
    }

    public function testEmptyPayloadIsAnObjectAndListsStayLists(): void
    {
        $this->assertSame('{}', Client::encode([]));
        $this->assertSame('{"kind":"sync","payload":{}}', Client::encode(['kind' => 'sync', 'payload' => []]));
        $r = $this->client()->enqueue(['kind' => 'mutation', 'service' => 's', 'action' => 'a', 'payload' => []]);
        $this->assertSame('queued', $r->state);
        $entry = $this->raw->command(['LINDEX', $this->key('urgent', 'ready'), '0']);
        $this->assertStringContainsString('"payload":{}', $entry);
        $r = $this->client()->enqueue(['kind' => 'mutation', 'service' => 's', 'action' => 'a', 'payload' => ['ids' => []]]);
        $entry = $this->raw->command(['LINDEX', $this->key('urgent', 'ready'), '0']);
        $this->assertStringContainsString('"payload":{"ids":[]}', $entry);
    }

    public function testDuplicateIdempotencyKeyReturnsTheFirstId(): void
    {
        $c = $this->client();
        $env = Envelope::mutation('billing', 'send_invoice', ['amount' => 1250], idempotency_key: 'inv-' . uniqid(),
            idempotency_ttl_s: 900);
        $first = $c->enqueue($env);
        $again = $c->enqueue($env);
        $this->assertSame('queued', $first->state);
        $this->assertSame(EnqueueResult::DUPLICATE, $again->state);
        $this->assertTrue($again->isDuplicate());
        $this->assertSame($first->id, $again->id);
        $this->assertSame(1, $this->raw->command(['LLEN', $this->key('urgent', 'ready')]), 'nothing enqueued twice');
    }

    public function testDelayedJob(): void
    {
        $c = $this->client();
        $before = (int)(microtime(true) * 1000);
        $r = $c->enqueue(Envelope::mutation('syncq', 'noop', delay_ms: 600000));
        $this->assertSame('delayed', $r->state);
        $st = $c->status($r->id);
        $this->assertNotNull($st);
        $this->assertSame(['delayed', 'urgent'], [$st->state, $st->queue]);
        $this->assertGreaterThanOrEqual($before + 590000, $st->dueMs);
    }

    public function testBatchWithOneRefusedEntry(): void
    {
        $c = $this->client();
        $res = $c->enqueueBatch([
            'a' => Envelope::mutation('syncq', 'noop', id: 'batch-a-' . uniqid()),
            'bad' => ['kind' => 'mutation', 'service' => 'syncq'],
            'b' => Envelope::sync('syncq', 'noop'),
            'utf8' => Envelope::mutation('syncq', "no\xff"),
            'c' => Envelope::mutation('syncq', 'noop'),
        ]);
        $this->assertSame(['a', 'bad', 'b', 'utf8', 'c'], array_keys($res));
        $this->assertInstanceOf(EnqueueResult::class, $res['a']);
        $this->assertStringStartsWith('batch-a-', $res['a']->id);
        $this->assertInstanceOf(EnvelopeRefused::class, $res['bad']);
        $this->assertSame('missing required field "action"', $res['bad']->getReason());
        $this->assertSame(['queued', 'sync'], [$res['b']->state, $res['b']->queue]);
        $this->assertInstanceOf(EnvelopeRefused::class, $res['utf8']);
        $this->assertStringContainsString('Malformed UTF-8', $res['utf8']->getReason());
        $this->assertSame('queued', $res['c']->state);
        $this->assertSame(2, $this->raw->command(['LLEN', $this->key('urgent', 'ready')]));
        $this->assertSame(1, $this->raw->command(['LLEN', $this->key('sync', 'ready')]));
    }

    public function testBatchLargerThanOnePipeline(): void
    {
        $envs = array_fill(0, 2100, Envelope::mutation('syncq', 'noop'));
        $envs[1500] = ['kind' => 'mutation', 'service' => 'syncq'];
        $res = $this->client()->enqueueBatch($envs);
        $this->assertCount(2100, $res);
        $this->assertInstanceOf(EnvelopeRefused::class, $res[1500]);
        $this->assertSame('queued', $res[1499]->state);
        $this->assertSame('queued', $res[2099]->state);
        $this->assertSame(2099, $this->raw->command(['LLEN', $this->key('urgent', 'ready')]));
    }

    public function testStatusOfQueuedJobs(): void
    {
        $c = $this->client();
        $older = $c->enqueue(Envelope::mutation('syncq', 'noop'));
        $newer = $c->enqueue(Envelope::mutation('syncq', 'noop'));
        $st = $c->status($older->id);
        $this->assertNotNull($st);
        $this->assertSame(['queued', 'urgent', 0], [$st->state, $st->queue, $st->position]);
        $this->assertSame(1, $c->status($newer->id, 'urgent')?->position);
        $this->assertNull($c->status($newer->id, 'sync'), 'not in that queue');
        $this->assertNull($c->status('no-such-job'));
    }

    public function testCancelQueuedAndDelayedJobs(): void
    {
        $c = $this->client();
        $q = $c->enqueue(Envelope::mutation('syncq', 'noop'));
        $d = $c->enqueue(Envelope::sync('syncq', 'noop', delay_ms: 600000));
        $this->assertTrue($c->cancel($q->id, actor: 'user:7'));
        $st = $c->status($q->id);
        $this->assertSame(['dead', 'cancelled by user:7'], [$st?->state, $st?->error]);
        $this->assertFalse($c->cancel($q->id), 'a dead job is not cancelled twice');
        $this->assertTrue($c->cancel($d->id, 'sync', 'cron'));
        $this->assertSame('dead', $c->status($d->id)?->state);
        $this->assertSame(0, $this->raw->command(['ZCARD', $this->key('sync', 'retry')]));
        $this->assertFalse($c->cancel('no-such-job'));
    }

    public function testRefusedEnvelopeRaisesEnvelopeRefused(): void
    {
        $c = $this->client();
        try {
            $c->enqueue(['kind' => 'mutation', 'service' => 'syncq']);
            $this->fail('no exception');
        } catch (EnvelopeRefused $e) {
            $this->assertSame('missing required field "action"', $e->getReason());
            $this->assertInstanceOf(SyncqException::class, $e);
        }
        $this->expectException(EnvelopeRefused::class);
        $this->expectExceptionMessage('"debounce_key" is only allowed when kind is "sync"');
        $c->enqueue(['kind' => 'mutation', 'service' => 's', 'action' => 'a', 'debounce_key' => 'x']);
    }

    public function testBadQueueNameIsAnArgumentError(): void
    {
        $this->expectException(\InvalidArgumentException::class);
        $this->client()->enqueue(Envelope::mutation('s', 'a'), 'bad}queue');
    }

    public function testUnreachableRedisRaisesUnavailable(): void
    {
        $url = str_replace('redis://', 'redis://:pw-secret@', TestEnv::get('SYNCQ_CLOSED_URL'));
        $c = $this->client($url);
        try {
            $c->enqueue(Envelope::mutation('syncq', 'noop'));
            $this->fail('no exception');
        } catch (Unavailable $e) {
            $this->assertStringContainsString('cannot reach Redis at redis://:********@', $e->getMessage());
            $this->assertStringNotContainsString('pw-secret', $e->getMessage());
            $this->assertInstanceOf(SyncqException::class, $e);
        }
        $this->expectException(Unavailable::class);
        $c->enqueueBatch([Envelope::mutation('syncq', 'noop')]);
    }

    /** A server that accepts the connection and never answers: the timeout. */
    public function testSilentRedisRaisesUnavailable(): void
    {
        $srv = stream_socket_server('tcp://127.0.0.1:0');
        $this->assertNotFalse($srv);
        $addr = stream_socket_get_name($srv, false);
        $c = new Client("redis://$addr/0", prefix: $this->prefix, transport: static::transportName(), timeout: 0.5);
        try {
            $c->enqueue(Envelope::mutation('syncq', 'noop'));
            $this->fail('no exception');
        } catch (Unavailable $e) {
            $this->assertMatchesRegularExpression("#cannot reach Redis at redis://$addr/0: .*(timeout|timed out|read error)#i",
                $e->getMessage());
        } finally {
            fclose($srv);
        }
    }

    public function testPasswordRedisAndTheFunctionLibrary(): void
    {
        $url = TestEnv::get('SYNCQ_AUTH_URL');
        $u = RedisUrl::parse($url);
        $raw = new RespTransport($u);
        $this->assertSame('OK', $raw->command(['FUNCTION', 'FLUSH']));
        try {
            $this->client($url)->enqueue(Envelope::mutation('syncq', 'noop'));
            $this->fail('no exception without the library');
        } catch (Unavailable $e) {
            $this->assertStringContainsString('function library is not loaded', $e->getMessage());
            $this->assertStringContainsString('start a syncq-worker', $e->getMessage());
        }
        $c = $this->client($url, library: TestEnv::get('SYNCQ_LIBRARY'));
        $r = $c->enqueue(Envelope::mutation('syncq', 'noop'));
        $this->assertSame('queued', $r->state, 'loaded from the library file, then enqueued');
        $this->assertSame('queued', $c->status($r->id)?->state);
        $this->assertSame(['syncq'], array_column($raw->command(['FUNCTION', 'LIST']), 1));
        $raw->close();

        $sock = 'unix://' . TestEnv::get('SYNCQ_AUTH_SOCKET') . '?password=' . rawurlencode((string)$u->password);
        $this->assertSame('queued', $this->client($sock)->enqueue(Envelope::mutation('syncq', 'noop'))->state);

        foreach (['redis://' . $u->host . ':' . $u->port . '/0', 'redis://:wrong@' . $u->host . ':' . $u->port . '/0'] as $bad) {
            try {
                $this->client($bad)->enqueue(Envelope::mutation('syncq', 'noop'));
                $this->fail("no exception for $bad");
            } catch (Unavailable $e) {
                $this->assertStringContainsString('authentication required', $e->getMessage());
                $this->assertStringNotContainsString((string)$u->password, $e->getMessage());
            }
        }
    }

    public function testJobRunsToSuccess(): void
    {
        $c = $this->client(prefix: TestEnv::get('SYNCQ_PREFIX'));
        $r = $c->enqueue(Envelope::mutation('syncq', 'noop', ['from' => 'php-' . static::transportName()],
            actor: 'php-client'), TestEnv::get('SYNCQ_RUN_QUEUE'));
        $this->assertSame('queued', $r->state);
        $this->assertNotFalse(file_put_contents(TestEnv::get('SYNCQ_IDS_FILE'), $r->id . "\n", FILE_APPEND | LOCK_EX));
    }

    /** wait() against the harness's worker: success after a while; a permanent failure dead, masked. */
    public function testWaitReturnsSuccessAndMaskedDead(): void
    {
        $c = $this->client(prefix: TestEnv::get('SYNCQ_PREFIX'));
        $q = TestEnv::get('SYNCQ_RUN_QUEUE');
        $slow = $c->enqueue(Envelope::mutation('syncq', 'sleep', ['ms' => 500]), $q);
        $out = $c->wait($slow->id, 10.0);
        $this->assertNotNull($out);
        $this->assertSame([$slow->id, 'success', $q, true], [$out->id, $out->status, $out->queue, $out->ok()]);
        $secret = 'php-s3cret-' . bin2hex(random_bytes(4));
        $bad = $c->enqueue(Envelope::mutation('syncq', 'fail',
            ['permanent' => true, 'message' => "https://u:$secret@x.example/"]), $q);
        $out = $c->wait($bad->id, 10.0);
        $this->assertNotNull($out);
        $this->assertSame('dead', $out->status);
        $this->assertStringContainsString('permanent failure requested', (string)$out->error);
        $this->assertStringNotContainsString($secret, (string)$out->error);
        $again = $c->wait($bad->id, 1.0); // dead-lettered already: at once
        $this->assertSame('dead', $again?->status);
    }

    public function testWaitTimesOutOnAJobNobodyRuns(): void
    {
        $c = $this->client();
        $r = $c->enqueue(Envelope::mutation('syncq', 'noop', []), 'default');
        $t0 = microtime(true);
        $this->assertNull($c->wait($r->id, 0.3));
        $this->assertGreaterThanOrEqual(0.3, microtime(true) - $t0);
    }

    public function testWaitSkipsOtherJobsAndFindsAnEarlierEnd(): void
    {
        $c = $this->client();
        $this->raw->command(['XADD', $this->key('default', 'events'), '*', 'id', 'someone-else', 'status', 'dead']);
        $this->raw->command(['XADD', $this->key('default', 'events'), '*', 'id', 'done-before', 'status', 'conflict',
            'error', 'changed meanwhile']);
        $out = $c->wait('done-before', 0.2, 'default');
        $this->assertNotNull($out);
        $this->assertSame(['conflict', 'changed meanwhile', null], [$out->status, $out->error, $out->result]);
    }
}
