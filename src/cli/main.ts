// `vmop` command dispatch: manager, manifests, dev. Wires the other modules together; nothing imports it.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../install/package-root.js';
import { devCommand } from './dev.js';
import { managerCommand } from './manager.js';
import { manifestsCommand } from './manifests.js';

const HEADER = `vmop — VM Operator's VirtualMachine API for Kubernetes and vSphere\n\nUsage:\n`;

/** Each command's usage lines, shown together by \`vmop --help\` and alone by \`vmop <command> --help\`. */
const COMMANDS: Record<string, string> = {
  dev: `  vmop dev up [--kubeconfig FILE] [--apply-examples] [--vcenter instant|realistic]
                               build what is missing, start etcd, kube-apiserver, vcsim and the manager
                               in the background, install the CRDs and seed the spec's examples
                               (--vcenter realistic: vcsim as slow as a real vCenter; VMOP_VCSIM_ARGS
                               adds launcher arguments, e.g. faults)
  vmop dev status              show each local component, its address and health
  vmop dev down [--purge]      stop what \`dev up\` started (--purge also deletes its data)
`,
  manager: `  vmop manager [--kubeconfig FILE] [--context NAME] [--health-addr HOST:PORT]
               [--webhook-addr HOST:PORT] [--webhook-cert-dir DIR | --webhook-cert-secret NAME
               [--webhook-service NAME] [--webhook-cert-hosts a,b] [--webhook-cert-validity 2160h]
               [--webhook-configuration-prefix vmop]] [--webhook-client-ca FILE] [--privileged-users a,b]
               [--service-account NAME] [--leader-elect [--leader-election-namespace NS]]
               [--controllers LIST] [--vm-concurrency N] [--max-concurrent-creates 32] [--trysoft-timeout 300s]
               [--orphan-grace 300s|off] [--vm-selector SELECTOR]
                               run the operator (health, readiness and metrics on --health-addr;
                               admission webhooks with a certificate folder, or a certificate it
                               issues, renews and injects itself from a Secret; controllers only on
                               the replica that holds the Lease vmop-controller-manager)
`,
  manifests: `  vmop manifests [--write] [--check]
                               print the CRDs (--write: to config/crd/, --check: fail if those are stale)
`,
};

const USAGE = `${HEADER}${Object.values(COMMANDS).join('')}  vmop --version               print vmop's version
`;

/** The package's version, from its package.json. */
function version(): string {
  const pkg = JSON.parse(readFileSync(path.join(repoRoot(), 'package.json'), 'utf8')) as { version?: string };
  return pkg.version ?? 'unknown';
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  // \`vmop <command> --help\`: that command's usage, before its own flag parser could refuse the flag.
  if (command && COMMANDS[command] && rest.some((a) => a === '--help' || a === '-h')) {
    process.stdout.write(`${HEADER}${COMMANDS[command]}`);
    return 0;
  }
  switch (command) {
    case '--version':
    case 'version':
      process.stdout.write(`vmop ${version()}\n`);
      return 0;
    case 'dev':
      return devCommand(rest);
    case 'manager':
      return managerCommand(rest);
    case 'manifests':
      return manifestsCommand(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}
