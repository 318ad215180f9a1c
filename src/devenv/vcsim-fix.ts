// A fix to govmomi v0.56.0's simulator, applied to a copy of the module before vcsim is built.
//
// vcsim can deadlock when a property collector filter over a container view is in use while VMs are
// created and powered on at the same time (the operator's change feed, at the benchmark's 200 VMs). Three
// goroutines wait on each other:
//   - WaitForUpdatesEx re-reads the filter (the view changed) holding the filter's lock, and waits for a VM's;
//   - a power-on holds that VM's lock and, creating its Task, waits for the view's lock;
//   - a create holds the view's lock (adding the new VM) and waits for the filter's lock to mark the filter
//     for that re-read.
// The last step is the needless one: marking needs no lock. Upstream made the mark an atomic flag in
// vmware/govmomi#4109 (merged 2026-08); no release served by the Go module proxy has it yet, so the local
// ground applies the same idea to v0.56.0. Only the locking changes; what the simulator reports does not.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, cp, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The edits, each an exact text that must occur once in v0.56.0's simulator/property_filter.go. */
const EDITS: { find: string; replace: string }[] = [
  {
    find: 'import (\n\t"reflect"\n\t"strings"\n',
    replace: 'import (\n\t"reflect"\n\t"strings"\n\t"sync/atomic"\n',
  },
  { find: '\tsync bool\n}', replace: '\tsync atomic.Bool\n}' },
  { find: 'ctx.WithLock(f, func() { f.sync = true })', replace: 'f.sync.Store(true)' },
  {
    find: '\tctx.WithLock(f, func() {\n\t\tif f.sync {\n\t\t\tf.sync = false\n',
    replace: '\tif !f.sync.Swap(false) {\n\t\treturn\n\t}\n\tctx.WithLock(f, func() {\n\t\t{\n',
  },
];

/** Names the fix in cache folders; it changes with the edits, so a changed fix is never taken from the cache. */
export const VCSIM_FIX_ID = `filter-mark-lockfree-${createHash('sha256').update(JSON.stringify(EDITS)).digest('hex').slice(0, 8)}`;

/** Applies the fix to the text of property_filter.go; throws when the text is not the one it was made for. */
export function fixPropertyFilter(source: string): string {
  let out = source;
  for (const { find, replace } of EDITS) {
    const at = out.indexOf(find);
    if (at < 0 || out.indexOf(find, at + 1) >= 0) {
      throw new Error(
        `vcsim fix ${VCSIM_FIX_ID}: simulator/property_filter.go is not govmomi v0.56.0's (expected once: ${JSON.stringify(find)})`,
      );
    }
    out = out.slice(0, at) + replace + out.slice(at + find.length);
  }
  return out;
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

async function makeWritable(dir: string): Promise<void> {
  await chmod(dir, 0o755);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) await makeWritable(p);
    else await chmod(p, 0o644);
  }
}

/**
 * Makes a fixed copy of the govmomi module that `moduleDir` requires, under `cacheDir` (once), and writes
 * `modfile` (NAME.mod, with NAME.sum beside it, as `go build -modfile` wants): the module's go.mod with the
 * govmomi module replaced by the copy.
 */
export async function fixedGovmomi(
  go: string,
  moduleDir: string,
  version: string,
  cacheDir: string,
  modfile: string,
): Promise<void> {
  const fixed = path.join(cacheDir, 'src', `govmomi-${version}-${VCSIM_FIX_ID}`);
  if (!(await exists(fixed))) {
    const { stdout } = await run(go, ['mod', 'download', '-json', `github.com/vmware/govmomi@${version}`], {
      cwd: moduleDir,
      maxBuffer: 1 << 20,
    });
    const source = (JSON.parse(stdout) as { Dir?: string }).Dir;
    if (!source) throw new Error(`go mod download did not say where github.com/vmware/govmomi@${version} is`);
    const tmp = `${fixed}.partial-${process.pid}`;
    await rm(tmp, { recursive: true, force: true });
    await cp(source, tmp, { recursive: true });
    await makeWritable(tmp);
    const file = path.join(tmp, 'simulator', 'property_filter.go');
    await writeFile(file, fixPropertyFilter(await readFile(file, 'utf8')));
    await rename(tmp, fixed).catch(async (err: unknown) => {
      // Another build made it meanwhile: use that one.
      await rm(tmp, { recursive: true, force: true });
      if (!(await exists(fixed))) throw err;
    });
  }
  const goMod = await readFile(path.join(moduleDir, 'go.mod'), 'utf8');
  await writeFile(modfile, `${goMod}\nreplace github.com/vmware/govmomi => ${fixed}\n`);
  await cp(path.join(moduleDir, 'go.sum'), modfile.replace(/\.mod$/, '.sum'));
}
