// load.js - the open-loop load of make bench's latency workload: jobs sent at a
// constant arrival rate whatever the queue does, each stamped with the sender's
// clock in microseconds (data.t / payload.t) just before it is sent.
//   node load.js syncq RATE SECONDS KEY       FCALL syncq_enqueue 1 KEY ENVELOPE (the real producer path)
//   node load.js bullmq RATE SECONDS          Queue.add (removeOnComplete)
// A 1 ms timer sends what is due since the start (rate × elapsed − sent), so
// arrivals come in bursts of about RATE/1000: the schedule, not the replies,
// decides when a job is sent.
'use strict';
const { env, nowUs, report } = require('./lib');

const [sys, rateS, secsS, key] = process.argv.slice(2);
const rate = +rateS, total = Math.round(rate * +secsS);

async function sender() {
  if (sys === 'syncq') {
    const Redis = require('ioredis');
    const r = new Redis({ host: '127.0.0.1', port: env.redisPort, enableAutoPipelining: false });
    return {
      send: () => r.call('FCALL', 'syncq_enqueue', 1, key,
        JSON.stringify({ kind: 'mutation', service: 'syncq', action: 'noop', payload: { t: nowUs() } })),
      close: () => r.quit(),
    };
  }
  const { Queue } = require('bullmq');
  const q = new Queue(process.env.QUEUE || 'bench', { connection: { host: '127.0.0.1', port: env.redisPort } });
  await q.waitUntilReady();
  const opts = { removeOnComplete: true, removeOnFail: true };
  return { send: () => q.add('noop', { t: nowUs() }, opts), close: () => q.close() };
}

async function main() {
  const s = await sender();
  const inflight = [];
  let sent = 0;
  const t0 = nowUs();
  await new Promise((resolve) => {
    const tick = setInterval(() => {
      const due = Math.min(total, Math.floor((rate * (nowUs() - t0)) / 1e6));
      for (; sent < due; sent++) inflight.push(s.send());
      if (sent >= total) { clearInterval(tick); resolve(); }
    }, 1);
  });
  await Promise.all(inflight);
  report({ peer: sys, mode: 'load', n: sent, rate, seconds: (nowUs() - t0) / 1e6 });
  await s.close();
}
main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
