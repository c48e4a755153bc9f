// beequeue.js - bee-queue 2.0 in make bench.
//   node beequeue.js enqueue N      saveAll in chunks of 1000
//   node beequeue.js work N CONC    process N jobs: no-op, or one POST to MOCK_URL when set
// Settings, from bee-queue's README ("Settings", "Performance"): the producer
// with isWorker: false, getEvents: false, sendEvents: false; the worker with
// removeOnSuccess: true, sendEvents: false, getEvents: false, activateDelayedJobs:
// false (no delayed jobs here). The clock starts when the worker is ready and
// stops at the N-th local 'succeeded' event (the job is marked done in Redis).
'use strict';
const Queue = require('bee-queue');
const { env, work, nowUs, report } = require('./lib');

const redis = { host: '127.0.0.1', port: env.redisPort };
const name = process.env.QUEUE || 'bench';
const [mode, a1, a2] = process.argv.slice(2);

async function enqueue(n) {
  const q = new Queue(name, { redis, isWorker: false, getEvents: false, sendEvents: false, removeOnSuccess: true });
  await q.ready();
  const t0 = nowUs();
  for (let i = 0; i < n; i += 1000) {
    const jobs = [];
    for (let j = i; j < Math.min(n, i + 1000); j++) jobs.push(q.createJob({ i: j }));
    const errs = await q.saveAll(jobs);
    if (errs.size) throw [...errs.values()][0];
  }
  report({ peer: 'bee-queue', mode, n, seconds: (nowUs() - t0) / 1e6 });
  await q.close();
}

function process_(n, conc) {
  return new Promise((resolve, reject) => {
    const q = new Queue(name, { redis, removeOnSuccess: true, sendEvents: false, getEvents: false, activateDelayedJobs: false });
    let done = 0, t0 = 0;
    q.on('error', reject);
    q.on('failed', (job, e) => reject(e));
    q.on('succeeded', async () => {
      if (++done < n) return;
      const t1 = nowUs();
      await q.close();
      resolve((t1 - t0) / 1e6);
    });
    q.ready().then(() => { t0 = nowUs(); q.process(conc, () => work()); }, reject);
  });
}

async function main() {
  if (mode === 'enqueue') return enqueue(+a1);
  if (mode === 'work') {
    const n = +a1, s = await process_(n, +a2);
    return report({ peer: 'bee-queue', mode, n, conc: +a2, seconds: s, jobs_per_s: n / s });
  }
  throw new Error('usage: beequeue.js enqueue N | work N CONC');
}
main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
