// A syncq exec handler in Node.js, mode persistent: one JSON line per job on
// stdin, one JSON line per reply on stdout (docs/HANDLERS.md). The same
// program also works per_job: it answers each line it reads, and a per_job
// run gets exactly one line and then end of input.
//
// services file:
//   "greeter": {"exec": {"command": ["node", "examples/handlers/greet.js"], "mode": "persistent"},
//               "actions": {"greet": {}}}
'use strict';
const readline = require('readline');

function handle(job) {
  const payload = job.payload || {};
  if (payload.fail === 'temporary') return {status: 'retry', error: 'the greeting service is busy', retry_after_ms: 200};
  if (payload.fail === 'permanent') return {status: 'fail', error: `refusing to greet ${payload.name || 'nobody'}`};
  return {status: 'ok', result: {greeting: `hello, ${payload.name || 'world'}`, by: 'node', attempt: job.attempt}};
}

const rl = readline.createInterface({input: process.stdin, crlfDelay: Infinity});
rl.on('line', (line) => {
  let job;
  try {
    job = JSON.parse(line);
  } catch (e) {
    process.stderr.write(`greet.js: not a job line: ${e.message}\n`);
    process.exit(1); // syncq restarts us
  }
  let reply;
  try {
    reply = handle(job);
  } catch (e) {
    reply = {status: 'fail', error: String(e)};
  }
  reply.id = job.id;
  process.stdout.write(JSON.stringify(reply) + '\n');
});
