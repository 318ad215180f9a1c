#!/usr/bin/env node
// Entry point of the `vmop` command; the commands themselves live in dist/src/cli (built from src/cli).
import { loadBuilt } from './load-built.js';

const { main } = await loadBuilt('cli/main.js', 'vmop');
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exitCode = 1;
  },
);
