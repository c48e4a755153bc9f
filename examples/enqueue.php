<?php
// enqueue.php - enqueue a syncq job from PHP (phpredis), as docs/PROTOCOL.md shows.
//   SYNCQ_REDIS_PORT=6379 php examples/enqueue.php
$redis = new Redis();
$redis->connect(getenv('SYNCQ_REDIS_HOST') ?: '127.0.0.1', (int)(getenv('SYNCQ_REDIS_PORT') ?: 6379));
$prefix = getenv('SYNCQ_PREFIX') ?: 'syncq';

$job = [
    'kind'            => 'mutation',
    'service'         => 'syncq',
    'action'          => 'noop',
    'target_type'     => 'invoice',
    'target_id'       => 'inv-1001',
    'actor'           => 'user:42',
    'idempotency_key' => 'invoice-1001-send',
    'payload'         => ['amount' => 1250, 'api_token' => 'secret-from-php'],
];
// JSON_FORCE_OBJECT is wrong here (lists must stay lists); an empty payload
// must be written as an object: use (object)[] for it.
$json = json_encode($job, JSON_UNESCAPED_SLASHES | JSON_THROW_ON_ERROR);

$ready = "$prefix:{urgent}:ready"; // the braces are a Redis Cluster hash tag

// One atomic step: validate, fill id/enqueued_at, idempotency, push, audit.
// (phpredis 6 has $redis->fcall(); rawCommand works with 5.x too.)
[$id, $state] = $redis->rawCommand('FCALL', 'syncq_enqueue', 1, $ready, $json);
echo "$id $state\n";

// The same job again within the idempotency window: the first job's id.
[$again, $state2] = $redis->rawCommand('FCALL', 'syncq_enqueue', 1, $ready, $json);
echo "$again $state2\n";

// A bad envelope is an error reply; phpredis returns false and keeps the message.
$bad = $redis->rawCommand('FCALL', 'syncq_enqueue', 1, $ready, '{"kind":"mutation","service":"syncq"}');
if ($bad === false) {
    echo "refused: " . $redis->getLastError() . "\n";
    $redis->clearLastError();
}
