// graphile-worker.js - graphile-worker 0.17 in make bench: PostgreSQL-backed,
// every job a row, as every syncq job is a row in its audit table.
//   node graphile.js enqueue N      graphile_worker.add_jobs in chunks of 1000 (its bulk path)
//   node graphile.js work N CONC    process N jobs: no-op, or one POST to MOCK_URL when set
// Settings, from worker.graphile.org/docs/performance: concurrentJobs CONC,
// localQueue.size CONC + 1 (batched fetch), completeJobBatchDelay 0 (batched
// completion), prepared statements on (the default). The migration runs before
// the clock starts, which is when run() has started the pool. The clock stops
// when N handlers returned and the jobs table is empty (completion is batched,
// so a handler's return is not yet the job's end; polled every 10 ms).
'use strict';
const { run, runMigrations, makeWorkerUtils, Logger } = require('graphile-worker');
const quiet = new Logger(() => () => {});
const { env, work, nowUs, report, until } = require('./lib');

const [mode, a1, a2] = process.argv.slice(2);
const connectionString = env.pgUrl;

async function enqueue(n) {
  const utils = await makeWorkerUtils({ connectionString, logger: quiet });
  await utils.migrate();
  const t0 = nowUs();
  for (let i = 0; i < n; i += 1000) {
    const specs = [];
    for (let j = i; j < Math.min(n, i + 1000); j++) specs.push({ identifier: 'noop', payload: { i: j } });
    await utils.addJobs(specs);
  }
  report({ peer: 'graphile-worker', mode, n, seconds: (nowUs() - t0) / 1e6 });
  await utils.release();
}

async function process_(n, conc) {
  await runMigrations({ connectionString, logger: quiet });
  const utils = await makeWorkerUtils({ connectionString, logger: quiet });
  let done = 0;
  const runner = await run({
    noHandleSignals: true,
    logger: quiet,
    taskList: { noop: async () => { await work(); done++; } },
    preset: { worker: { connectionString, concurrentJobs: conc, localQueue: { size: conc + 1 },
                        completeJobBatchDelay: 0, maxPoolSize: 10 } },
  });
  const t0 = nowUs();
  await until(async () => done >= n, 10);
  await until(async () => {
    const r = await utils.withPgClient((c) => c.query('SELECT count(*)::int AS n FROM graphile_worker._private_jobs'));
    return r.rows[0].n === 0;
  }, 10);
  const t1 = nowUs();
  await runner.stop();
  await utils.release();
  return (t1 - t0) / 1e6;
}

async function main() {
  if (mode === 'enqueue') return enqueue(+a1);
  if (mode === 'work') {
    const n = +a1, s = await process_(n, +a2);
    return report({ peer: 'graphile-worker', mode, n, conc: +a2, seconds: s, jobs_per_s: n / s });
  }
  throw new Error('usage: graphile.js enqueue N | work N CONC');
}
main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
