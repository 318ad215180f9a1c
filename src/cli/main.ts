// `vmop` command dispatch: manager, manifests, dev, migrate-storage. Wires the other modules together; nothing imports it.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../install/package-root.js';
import { devCommand } from './dev.js';
import { managerCommand } from './manager.js';
import { manifestsCommand } from './manifests.js';
import { migrateStorageCommand } from './migrate-storage.js';

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
  manager: `  vmop manager [flags]         run the operator: health, readiness and metrics on --health-addr;
                               admission webhooks with a certificate folder, or a certificate it issues,
                               renews and injects itself from a Secret; controllers only on the replica
                               that holds the Lease vmop-controller-manager
      --kubeconfig FILE, --context NAME       the cluster (in-cluster config when none)
      --namespace NS                          the operator's namespace (POD_NAMESPACE; vmop-system)
      --health-addr HOST:PORT                 /healthz, /readyz, /metrics (0.0.0.0:8081)
      --log-level LEVEL                       trace|debug|info|warn|error (VMOP_LOG_LEVEL; info)
      --webhook-addr HOST:PORT                admission webhooks (with one of the next two)
      --webhook-cert-dir DIR                  serving certificate from files (tls.crt, tls.key)
      --webhook-cert-secret NAME              or one vmop issues and renews in this Secret, with
        --webhook-service NAME                  the Service it is for (vmop-webhook-service),
        --webhook-cert-hosts a,b                extra names, --webhook-cert-validity 2160h, and
        --webhook-configuration-prefix vmop     the webhook configurations it injects the CA into
      --webhook-client-ca FILE                serve only clients with a certificate from this CA
      --privileged-users a,b                  users the webhooks treat as admins (PRIVILEGED_USERS)
      --service-account NAME                  the manager's own user (VMOP_SERVICE_ACCOUNT)
      --leader-elect                          run controllers only while holding the Lease
        --leader-election-namespace NS, --leader-election-id ID
      --controllers LIST                      virtualmachine,virtualmachineimage,volumeprovisioner,ipam
      --vm-concurrency N                      VM reconciles at once (8)
      --max-concurrent-creates N              deploys in flight (32)
      --trysoft-timeout DURATION              soft power operations before the hard one (300s)
      --orphan-grace DURATION|off             vSphere VMs without an object are destroyed after it
                                              (VMOP_ORPHAN_GRACE; 300s)
      --vm-selector SELECTOR                  reconcile only VMs with these labels (VMOP_VM_SELECTOR)
      --image-sync-interval SECONDS           content library listing period (5)
      --metrics-secure-addr HOST:PORT         also /metrics over HTTPS, for callers the cluster allows
        --metrics-cert-dir DIR                  (TokenReview + SubjectAccessReview; its certificate from
                                                tls.crt/tls.key here, else self-signed)
`,
  'migrate-storage': `  vmop migrate-storage [--kubeconfig FILE] [--context NAME]
                               after an upgrade: rewrite every VirtualMachine, class and image in the
                               storage version (v1alpha6) and set the CRDs' storedVersions to it
`,
  manifests: `  vmop manifests [--write] [--check] [--served-versions v1alpha6,…]
                               print the CRDs (--write: to config/crd/, --check: fail if those are stale;
                               --served-versions: only the CRDs, serving just these versions)
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
    case 'migrate-storage':
      return migrateStorageCommand(rest);
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
