// vSphere client benchmark against a vcsim of its own: RetrievePropertiesEx of 1 object and of 1,000
// objects, and a PowerOn/PowerOff pair, through vmop's client (encode, send, parse, decode) beside the same
// requests sent as pre-built envelopes over a bare keep-alive HTTPS agent (the floor: no encoding, no
// parsing). Then 100,000 calls through the client with heap samples, to show memory stays flat.
import https from 'node:https';
import { spawnVcsim } from '../src/devenv/vcsim.js';
import { encodeRequest, VimClient } from '../src/vsphere/client.js';
import { PropertyCollector, viewTraversal } from '../src/vsphere/property-collector.js';
import type { MoRef, VimObject } from '../src/vsphere/vim25/codec.js';
import { summarize, table } from './stats.js';

const CONCURRENCY = 8;

async function timed(n: number, one: (i: number) => Promise<unknown>): Promise<{ ms: number[]; seconds: number }> {
  const ms: number[] = [];
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < n) {
        const i = next++;
        const t = performance.now();
        await one(i);
        ms.push(performance.now() - t);
      }
    }),
  );
  return { ms, seconds: (performance.now() - start) / 1000 };
}

export async function benchVSphereClient(): Promise<void> {
  const vms = Number(process.env.VMOP_BENCH_VMS_IN_VCSIM ?? 1000);
  console.log(`starting vcsim with ${vms} VMs (about ${Math.round(vms / 45)} s)...`);
  const sim = await spawnVcsim({
    flags: [
      '-cluster',
      '1',
      '-host',
      '1',
      '-standalone-host',
      '0',
      '-pool',
      '0',
      '-vm',
      String(vms),
      '-autostart=false',
    ],
  });
  const client = await VimClient.connect({
    url: sim.url,
    tls: { insecure: true },
    credentials: { username: 'user', password: 'pass' },
    maxConcurrent: CONCURRENCY,
    keepAliveMs: 0,
  });
  const floorAgent = new https.Agent({ keepAlive: true, maxSockets: CONCURRENCY, rejectUnauthorized: false });
  try {
    const pc = new PropertyCollector(client);
    const all = await pc.containerObjects(['VirtualMachine'], ['name']);
    const first = all[0]?.obj as MoRef;
    const view = await pc.createContainerView(['VirtualMachine']);
    const propSet = [
      {
        _typeName: 'PropertySpec',
        type: 'VirtualMachine',
        pathSet: ['name', 'runtime.powerState', 'config.instanceUuid'],
      },
    ];
    const oneSpec: VimObject = {
      _typeName: 'PropertyFilterSpec',
      propSet,
      objectSet: [{ _typeName: 'ObjectSpec', obj: first }],
    };
    const manySpec: VimObject = { _typeName: 'PropertyFilterSpec', propSet, objectSet: [viewTraversal(view)] };
    const options: VimObject = { _typeName: 'RetrieveOptions' };
    const cookie = client.sessionCookie ?? '';
    const floorCall = (envelope: string) =>
      new Promise<void>((resolve, reject) => {
        const req = https.request(
          `${sim.url}/sdk`,
          {
            method: 'POST',
            agent: floorAgent,
            headers: {
              'Content-Type': 'text/xml; charset=utf-8',
              SOAPAction: 'urn:vim25/8.0.3.0',
              Cookie: `vmware_soap_session=${cookie}`,
              'Content-Length': Buffer.byteLength(envelope),
            },
          },
          (res) => {
            res.on('data', () => undefined);
            res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`))));
          },
        );
        req.on('error', reject);
        req.end(envelope);
      });
    const oneEnvelope = encodeRequest('RetrievePropertiesEx', client.serviceContent.propertyCollector, {
      specSet: [oneSpec],
      options,
    });
    const manyEnvelope = encodeRequest('RetrievePropertiesEx', client.serviceContent.propertyCollector, {
      specSet: [manySpec],
      options,
    });
    const onEnvelope = encodeRequest('PowerOnVM_Task', first, {});
    const offEnvelope = encodeRequest('PowerOffVM_Task', first, {});
    const many = await pc.retrieve([manySpec]);
    if (many.length !== vms) throw new Error(`expected ${vms} objects, got ${many.length}`);

    const rows: (string | number)[][] = [];
    // Client and floor take turns, ROUNDS times each, so drift in vcsim or the machine hits both alike; the
    // figures are each side's median round, latencies over all its samples.
    const ROUNDS = 5;
    const compare = async (
      label: string,
      n: number,
      viaClient: () => Promise<unknown>,
      viaFloor: () => Promise<unknown>,
      run = timed,
    ) => {
      await run(Math.ceil(n / 4), viaClient);
      await run(Math.ceil(n / 4), viaFloor);
      const c: { ms: number[]; seconds: number }[] = [];
      const f: { ms: number[]; seconds: number }[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        c.push(await run(Math.ceil(n / ROUNDS), viaClient));
        f.push(await run(Math.ceil(n / ROUNDS), viaFloor));
      }
      const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
      const cSec = median(c.map((x) => x.seconds));
      const fSec = median(f.map((x) => x.seconds));
      const cs = summarize(c.flatMap((x) => x.ms));
      const fs = summarize(f.flatMap((x) => x.ms));
      const perRound = Math.ceil(n / ROUNDS);
      rows.push([`${label}: vmop client`, perRound / cSec, cs.p50, cs.p99, cSec / fSec]);
      rows.push([`${label}: floor`, perRound / fSec, fs.p50, fs.p99, 1]);
    };
    await compare(
      'RetrievePropertiesEx, 1 object',
      3000,
      () =>
        client.call('RetrievePropertiesEx', client.serviceContent.propertyCollector, { specSet: [oneSpec], options }),
      () => floorCall(oneEnvelope),
    );
    await compare(
      `RetrievePropertiesEx, ${vms} objects`,
      60,
      () =>
        client.call('RetrievePropertiesEx', client.serviceContent.propertyCollector, { specSet: [manySpec], options }),
      () => floorCall(manyEnvelope),
    );
    // One VM can only be powered on and off in turn, so the pairs run one at a time.
    const sequential = async (n: number, fn: (i: number) => Promise<unknown>) => {
      const ms: number[] = [];
      const start = performance.now();
      for (let i = 0; i < n; i++) {
        const t0 = performance.now();
        await fn(i);
        ms.push(performance.now() - t0);
      }
      return { ms, seconds: (performance.now() - start) / 1000 };
    };
    await compare(
      'PowerOn+PowerOff pair',
      500,
      async () => {
        await client.call('PowerOnVM_Task', first);
        await client.call('PowerOffVM_Task', first);
      },
      async () => {
        await floorCall(onEnvelope);
        await floorCall(offEnvelope);
      },
      sequential,
    );
    console.log(
      `\nvSphere client vs pre-built envelopes on a bare keep-alive agent (vcsim on loopback, ${CONCURRENCY} concurrent)`,
    );
    console.log(table(['request', 'calls/s', 'p50 ms', 'p99 ms', 'time ×floor'], rows));

    const total = Number(process.env.VMOP_BENCH_MEMORY_CALLS ?? 100_000);
    const gc = (globalThis as { gc?: () => void }).gc;
    const samples: [number, number, number][] = [];
    const step = total / 10;
    for (let done = 0; done < total; done += step) {
      await timed(step, () =>
        client.call('RetrievePropertiesEx', client.serviceContent.propertyCollector, { specSet: [oneSpec], options }),
      );
      gc?.();
      const m = process.memoryUsage();
      samples.push([done + step, m.heapUsed / 2 ** 20, m.rss / 2 ** 20]);
    }
    console.log(
      `\nclient memory over ${total} calls${gc ? ' (after a GC at each sample)' : ' (run with --expose-gc for steadier figures)'}`,
    );
    console.log(table(['calls', 'heap MiB', 'RSS MiB'], samples));
    const heap = samples.map((s) => s[1]);
    console.log(`heap growth from the 2nd sample to the last: ${((heap.at(-1) ?? 0) - (heap[1] ?? 0)).toFixed(2)} MiB`);
  } finally {
    floorAgent.destroy();
    await client.logout();
    await sim.stop();
  }
}
