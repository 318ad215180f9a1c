#!/usr/bin/env node
// The `kubectl vm` plugin (kubectl runs kubectl-vm from PATH); the command lives in dist/src/cli/kubectl-vm.js.
import { loadBuilt } from './load-built.js';

const { kubectlVM } = await loadBuilt('cli/kubectl-vm.js', 'kubectl-vm');
kubectlVM(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);
