// `npm run bench [name…]`: runs the benchmarks and prints their figures beside their references.
import { benchAdmissionHandler, benchApplyOverhead } from './admission.js';
import { benchConversion } from './conversion.js';
import { benchMemory } from './memory.js';
import { benchRealistic } from './realistic.js';
import { benchVMs } from './vms.js';
import { benchVSphereClient } from './vsphere.js';

const BENCHMARKS: Record<string, () => Promise<void>> = {
  'admission-handler': benchAdmissionHandler,
  'admission-apply': benchApplyOverhead,
  conversion: benchConversion,
  'vsphere-client': benchVSphereClient,
  vms: benchVMs,
  memory: benchMemory,
  realistic: benchRealistic,
};

async function main(): Promise<void> {
  // Bare words name benchmarks; a flag's value (--vms 1000) is not a name.
  const args = process.argv.slice(2);
  const names = args.filter((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--'));
  const chosen = names.length > 0 ? names : Object.keys(BENCHMARKS);
  for (const name of chosen) {
    const bench = BENCHMARKS[name];
    if (!bench) throw new Error(`unknown benchmark "${name}"; known: ${Object.keys(BENCHMARKS).join(', ')}`);
    console.log(`\n== ${name}`);
    await bench();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (process.env.VMOP_BENCH_STACK ? err.stack : err.message) : err);
  process.exit(1);
});
