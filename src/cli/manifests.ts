// `vmop manifests`: the generated CRD YAML, printed, written to config/crd/, or checked for staleness.
import path from 'node:path';
import { renderCRDs, staleCRDs, writeCRDs } from '../crd/render.js';
import { repoRoot } from '../devenv/toolchain.js';
import { checkFlags, parseArgs } from './args.js';

export const CRD_DIR = () => path.join(repoRoot(), 'config', 'crd');

export async function manifestsCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['write', 'check']);
  checkFlags(args, ['write', 'check'], 'manifests');
  if (args.flags.has('write')) {
    for (const file of await writeCRDs(CRD_DIR()))
      process.stdout.write(`wrote ${path.relative(process.cwd(), file)}\n`);
    return 0;
  }
  if (args.flags.has('check')) {
    const stale = await staleCRDs(CRD_DIR());
    if (stale.length === 0) return 0;
    process.stderr.write(`stale CRDs in config/crd: ${stale.join(', ')}; run \`npm run manifests\` and commit\n`);
    return 1;
  }
  process.stdout.write([...renderCRDs().values()].join('---\n'));
  return 0;
}
