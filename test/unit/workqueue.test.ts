// The work queue: dedup of waiting keys, one worker per key (a key added while running runs once more),
// the concurrency bound, per-key exponential backoff, delayed adds and the overall rate limit.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WorkQueue } from '../../src/runtime/workqueue.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('work queue', () => {
  it('runs a key once however often it is added while waiting', async () => {
    const runs: string[] = [];
    const q = new WorkQueue(async (k) => void runs.push(k), { concurrency: 1 });
    q.add('busy');
    for (let i = 0; i < 10; i++) q.add('a');
    await q.idle();
    assert.deepEqual(runs.filter((r) => r === 'a').length, 1);
  });

  it('never runs one key twice at once, and runs it again if it was added meanwhile', async () => {
    let running = 0;
    let maxParallel = 0;
    let runs = 0;
    const q = new WorkQueue(
      async () => {
        running++;
        runs++;
        maxParallel = Math.max(maxParallel, running);
        await sleep(30);
        running--;
      },
      { concurrency: 4 },
    );
    q.add('k');
    await sleep(5);
    q.add('k');
    q.add('k');
    await sleep(100);
    await q.idle();
    assert.equal(maxParallel, 1);
    assert.equal(runs, 2);
  });

  it('keeps at most `concurrency` keys running', async () => {
    let running = 0;
    let maxParallel = 0;
    const q = new WorkQueue(
      async () => {
        running++;
        maxParallel = Math.max(maxParallel, running);
        await sleep(10);
        running--;
      },
      { concurrency: 3 },
    );
    for (let i = 0; i < 20; i++) q.add(`k${i}`);
    await q.idle();
    assert.equal(maxParallel, 3);
  });

  it('backs off a failing key exponentially up to the cap, and forgets on success', () => {
    const q = new WorkQueue(async () => undefined, { concurrency: 1, backoff: { initialMs: 10, maxMs: 100 } });
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6].map(() => q.retry('k')),
      [10, 20, 40, 80, 100, 100],
    );
    q.forget('k');
    assert.equal(q.failuresOf('k'), 0);
    assert.equal(q.retry('k'), 10);
    q.stop();
  });

  it('runs a delayed key after its delay, and an add replaces a pending delay', async () => {
    const at: number[] = [];
    const start = Date.now();
    const q = new WorkQueue(async () => void at.push(Date.now() - start), { concurrency: 1 });
    q.addAfter('k', 80);
    await sleep(120);
    assert.equal(at.length, 1);
    assert.ok((at[0] ?? 0) >= 75, String(at[0]));
    q.addAfter('j', 1000);
    q.add('j');
    await sleep(20);
    assert.equal(at.length, 2);
    await sleep(30);
    q.stop();
  });

  it('limits the overall rate with a token bucket', async () => {
    const times: number[] = [];
    const q = new WorkQueue(async () => void times.push(Date.now()), {
      concurrency: 10,
      rate: { perSecond: 20, burst: 2 },
    });
    const start = Date.now();
    for (let i = 0; i < 6; i++) q.add(`k${i}`);
    await sleep(400);
    await q.idle();
    assert.equal(times.length, 6);
    // 2 at once (burst), then one each 50 ms: the last no sooner than ~200 ms.
    assert.ok((times.at(-1) ?? 0) - start >= 180, String((times.at(-1) ?? 0) - start));
  });
});
