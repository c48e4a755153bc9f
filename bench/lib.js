// lib.js - what the peer harnesses of make bench share: settings from the
// environment, the provider call of the I/O-bound workload, wall-clock time in
// microseconds, and the one line of JSON each run prints for scripts/bench.sh.
'use strict';
const http = require('http');

const env = {
  redisPort: +(process.env.REDIS_PORT || 6379),
  pgUrl: process.env.PG_URL || '',
  mockUrl: process.env.MOCK_URL || '', // http://127.0.0.1:PORT/_bench/delay?ms=20
};

// One keep-alive agent, as many sockets as the concurrency: each job makes one
// POST and reads the whole answer, as syncq's HTTP handler does.
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

function call(url) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent, headers: { 'Content-Type': 'application/json' } }, (res) => {
      res.on('data', () => {});
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error('HTTP ' + res.statusCode))));
    });
    req.on('error', reject);
    req.end('{"n":1}');
  });
}

// The job's work: nothing (no-op workloads) or one provider call.
function work() {
  return env.mockUrl ? call(env.mockUrl) : Promise.resolve();
}

// nowUs: this host's wall clock in microseconds (Redis TIME reads the same
// clock). performance.timeOrigin is up to a millisecond off the wall clock, so
// the monotonic clock is anchored at the instant Date.now() steps to a new
// millisecond (a spin of at most 1 ms at start-up).
const anchor = (() => {
  const ms = Date.now();
  let now;
  while ((now = Date.now()) === ms);
  return { wallUs: now * 1000, hr: process.hrtime.bigint() };
})();
function nowUs() {
  return anchor.wallUs + Number((process.hrtime.bigint() - anchor.hr) / 1000n);
}

function pct(sorted, p) {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function report(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

// until calls check every ms until it resolves true.
async function until(check, ms) {
  for (;;) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, ms));
  }
}

module.exports = { env, work, nowUs, pct, report, until };
