// bullmq.js - BullMQ 6.7 in make bench. Derived from the shared harness
// (/work/shared/peers/bullmq: enqueue.js, worker.js) with three differences:
// no FLUSHALL (syncq's keys share this Redis), the clock starts when the
// worker is ready (node's start-up is not counted, as syncq's is negligible),
// and it stops at the N-th 'completed' event (the job is done in Redis),
// instead of polling getJobCounts every 20 ms.
//   node bullmq.js enqueue N          addBulk in chunks of 1000 (the shared harness's way)
//   node bullmq.js work N CONC        process N jobs: no-op, or one POST to MOCK_URL when set
//   node bullmq.js latency CONC N     handler start minus data.t (the loader's clock), for N jobs
// Settings: removeOnComplete/removeOnFail (documented fast path); everything else default.
'use strict';
const { Queue, Worker } = require('bullmq');
const { env, work, nowUs, pct, report } = require('./lib');

const connection = { host: '127.0.0.1', port: env.redisPort };
const name = process.env.QUEUE || 'bench';
const [mode, a1, a2] = process.argv.slice(2);

async function enqueue(n) {
  const q = new Queue(name, { connection });
  await q.waitUntilReady();
  const opts = { removeOnComplete: true, removeOnFail: true };
  const t0 = nowUs();
  for (let i = 0; i < n; i += 1000) {
    const batch = [];
    for (let j = i; j < Math.min(n, i + 1000); j++) batch.push({ name: 'noop', data: { i: j }, opts });
    await q.addBulk(batch);
  }
  report({ peer: 'bullmq', mode, n, seconds: (nowUs() - t0) / 1e6 });
  await q.close();
}

function run(n, conc, processor) {
  return new Promise((resolve, reject) => {
    let done = 0, t0 = 0;
    const w = new Worker(name, processor, {
      connection, concurrency: conc, autorun: false,
      removeOnComplete: { count: 0 }, removeOnFail: { count: 0 },
    });
    w.on('error', reject);
    w.on('failed', (job, e) => reject(e));
    w.on('completed', async () => {
      if (++done < n) return;
      const t1 = nowUs();
      await w.close();
      resolve((t1 - t0) / 1e6);
    });
    w.waitUntilReady().then(() => { t0 = nowUs(); w.run(); }, reject);
  });
}

async function main() {
  if (mode === 'enqueue') return enqueue(+a1);
  if (mode === 'work') {
    const n = +a1;
    const s = await run(n, +a2, () => work());
    return report({ peer: 'bullmq', mode, n, conc: +a2, seconds: s, jobs_per_s: n / s });
  }
  if (mode === 'latency') {
    const lat = [];
    await run(+a2, +a1, async (job) => { lat.push(nowUs() - job.data.t); });
    lat.sort((x, y) => x - y);
    return report({ peer: 'bullmq', mode, n: lat.length, p50_us: pct(lat, 50), p99_us: pct(lat, 99), p999_us: pct(lat, 99.9) });
  }
  throw new Error('usage: bullmq.js enqueue N | work N CONC | latency CONC N');
}
main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
