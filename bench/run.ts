// `npm run bench [name…]`: runs the benchmarks and prints their figures beside their references.
import { benchAdmissionHandler, benchApplyOverhead } from './admission.js';
import { benchVSphereClient } from './vsphere.js';

const BENCHMARKS: Record<string, () => Promise<void>> = {
  'admission-handler': benchAdmissionHandler,
  'admission-apply': benchApplyOverhead,
  'vsphere-client': benchVSphereClient,
};

async function main(): Promise<void> {
  const names = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const chosen = names.length > 0 ? names : Object.keys(BENCHMARKS);
  for (const name of chosen) {
    const bench = BENCHMARKS[name];
    if (!bench) throw new Error(`unknown benchmark "${name}"; known: ${Object.keys(BENCHMARKS).join(', ')}`);
    console.log(`\n== ${name}`);
    await bench();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
