// What a request to the API server means in RBAC terms (verb, API group, resource with subresource), so the
// manager can count the permissions it actually uses and a test can hold them against its ClusterRole.
export interface RBACAttributes {
  verb: string;
  group: string;
  /** e.g. virtualmachines, virtualmachines/status. */
  resource: string;
  namespace?: string;
}

const VERBS: Record<string, string> = { POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: 'delete' };

/**
 * The RBAC attributes of a request, or undefined for non-resource paths (/version, /readyz, discovery).
 * GET is get on an object, list on a collection, watch with ?watch; an apply PATCH that created the object
 * (201) needed create as well, reported as create.
 */
export function rbacAttributes(
  method: string,
  path: string,
  opts: { watch?: boolean; status?: number } = {},
): RBACAttributes | undefined {
  const parts = path.split('?')[0]!.split('/').filter(Boolean);
  let rest: string[];
  let group: string;
  if (parts[0] === 'api' && parts.length >= 3) {
    group = '';
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 4) {
    group = parts[1]!;
    rest = parts.slice(3);
  } else return undefined;
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const [resource, name, subresource] = rest;
  if (!resource) return undefined;
  const full = subresource ? `${resource}/${subresource}` : resource;
  let verb: string;
  if (method === 'GET') verb = opts.watch ? 'watch' : name ? 'get' : 'list';
  else if (method === 'PATCH' && opts.status === 201) verb = 'create';
  else verb = VERBS[method] ?? method.toLowerCase();
  return { verb, group, resource: full, namespace };
}
