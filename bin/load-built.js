// Loads a module of the built command (dist/src); in a checkout that was never built, says what to run instead
// of a module-not-found stack trace.
import { existsSync } from 'node:fs';
import { fileURLToPath, URL } from 'node:url';

export async function loadBuilt(module, command) {
  const url = new URL(`../dist/src/${module}`, import.meta.url);
  if (!existsSync(fileURLToPath(url))) {
    console.error(
      `${command}: this checkout is not built yet (no ${fileURLToPath(url)}). Run \`npm install && npm run build\` ` +
        'in it first (`npm start` and `npm test` do both).',
    );
    process.exit(1);
  }
  return import(url.href);
}
