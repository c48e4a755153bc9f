// enqueue.js - enqueue a syncq job from Node (node-redis v4), as docs/PROTOCOL.md shows.
//   npm install redis && SYNCQ_REDIS_PORT=6379 node examples/enqueue.js
import { createClient } from 'redis';

const client = createClient({ url: `redis://127.0.0.1:${process.env.SYNCQ_REDIS_PORT ?? 6379}` });
await client.connect();
const prefix = process.env.SYNCQ_PREFIX ?? 'syncq';

const job = { kind: 'mutation', service: 'syncq', action: 'noop', actor: 'user:7', payload: { n: 1 } };
const [id, state] = await client.sendCommand(
  ['FCALL', 'syncq_enqueue', '1', `${prefix}:{urgent}:ready`, JSON.stringify(job)]);
console.log(id, state);
await client.quit();
