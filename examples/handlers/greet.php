<?php
// A syncq exec handler in plain CLI PHP, mode persistent: syncq starts this
// program once per worker child and keeps it for many jobs. Each job arrives
// as one JSON line on stdin; answer each with one JSON line on stdout
// (docs/HANDLERS.md):
//
//   {"id": "<the job's id>", "status": "ok", "result": {...}}
//   {"id": "...", "status": "retry", "error": "...", "retry_after_ms": 500}   temporary: retried with backoff
//   {"id": "...", "status": "fail", "error": "..."}                           permanent: dead-lettered
//
// Boot your framework once, above the loop. Never print anything else on
// stdout (logs go to stderr); exit when stdin closes.
//
// services file:
//   "greeter": {"exec": {"command": ["php", "examples/handlers/greet.php"], "mode": "persistent"},
//               "actions": {"greet": {}}}

$booted_at = microtime(true); // stands in for an expensive framework boot

function handle(array $job): array
{
    $payload = $job['payload'] ?? [];
    $fail = $payload['fail'] ?? null;
    if ($fail === 'temporary') {
        return ['status' => 'retry', 'error' => 'the greeting service is busy', 'retry_after_ms' => 200];
    }
    if ($fail === 'permanent') {
        return ['status' => 'fail', 'error' => 'refusing to greet ' . ($payload['name'] ?? 'nobody')];
    }
    $name = $payload['name'] ?? 'world';
    return ['status' => 'ok', 'result' => [
        'greeting' => "hello, $name", 'by' => 'php', 'pid' => getmypid(), 'attempt' => $job['attempt'],
    ]];
}

while (($line = fgets(STDIN)) !== false) {
    $job = json_decode($line, true);
    if (!is_array($job) || !isset($job['id'])) {
        fwrite(STDERR, "greet.php: not a job line\n");
        exit(1); // syncq restarts us
    }
    try {
        $reply = handle($job);
    } catch (Throwable $e) {
        $reply = ['status' => 'fail', 'error' => get_class($e) . ': ' . $e->getMessage()];
    }
    $reply['id'] = $job['id'];
    echo json_encode($reply, JSON_UNESCAPED_SLASHES), "\n";
    fflush(STDOUT);
}
