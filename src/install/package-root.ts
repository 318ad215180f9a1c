// Where the package's files are (config/, charts/, tools/, examples/): found from this module's own path, so
// it holds for src/ run by a loader and for dist/src after a build.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's (or installed package's) root: the folder above src/ or dist/src/. */
export function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (path.basename(dir) !== 'src') dir = path.dirname(dir);
  const parent = path.dirname(dir);
  return path.basename(parent) === 'dist' ? path.dirname(parent) : parent;
}
