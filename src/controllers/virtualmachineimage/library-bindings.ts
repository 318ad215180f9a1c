// Which content libraries become images: the ConfigMap vmop-content-libraries in the operator's namespace,
// key "cluster" (ClusterVirtualMachineImages) and keys "namespace.<name>" (VirtualMachineImages there), each a
// comma-separated list of library names or IDs.

export const LIBRARIES_CONFIGMAP = 'vmop-content-libraries';

export interface LibraryBindings {
  /** Libraries (names or IDs) whose items become ClusterVirtualMachineImages. */
  cluster: string[];
  /** Namespace → libraries whose items become VirtualMachineImages there. */
  namespaces: Record<string, string[]>;
}

function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Reads the ConfigMap's data. */
export function parseLibraryBindings(data: Record<string, string> | undefined): LibraryBindings {
  const out: LibraryBindings = { cluster: list(data?.cluster), namespaces: {} };
  for (const [k, v] of Object.entries(data ?? {})) {
    if (k.startsWith('namespace.')) out.namespaces[k.slice('namespace.'.length)] = list(v);
  }
  return out;
}
