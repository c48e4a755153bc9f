<?php
// A persistent exec handler that misbehaves on request, for tests/it/it_exec.sh:
// payload.do is ok | wait_kill (on attempt 1: write our pid to pidfile and hang
// until the test kills us) | hang (past the timeout) | garbage | big | wrong_id |
// die (exit 3 in the middle of every attempt: a poison pill).
while (($line = fgets(STDIN)) !== false) {
    $job = json_decode($line, true);
    $p = $job['payload'] ?? [];
    $do = $p['do'] ?? 'ok';
    if ($do === 'wait_kill' && $job['attempt'] === 1) {
        file_put_contents($p['pidfile'], (string)getmypid());
        sleep(60);
    }
    if ($do === 'hang') sleep(60);
    if ($do === 'die') { fwrite(STDERR, "fatal: cannot handle this one\n"); exit(3); }
    if ($do === 'garbage') { echo "this is not JSON\n"; fflush(STDOUT); continue; }
    if ($do === 'big') { echo str_repeat('x', 2 * 1024 * 1024), "\n"; fflush(STDOUT); continue; }
    $id = $do === 'wrong_id' ? 'someone-else' : $job['id'];
    echo json_encode(['id' => $id, 'status' => 'ok', 'result' => ['do' => $do, 'pid' => getmypid(), 'attempt' => $job['attempt']]]), "\n";
    fflush(STDOUT);
}
