// Applies RFC 6902 add/replace/remove ops the way the API server does, failing on a missing parent, so tests
// can prove the webhook's patches apply.
function unescape(token: string): string {
  return token.replace(/~1/g, '/').replace(/~0/g, '~');
}

type Container = Record<string, unknown> | unknown[];

export function applyPatch(doc: unknown, ops: { op: string; path: string; value?: unknown }[]): unknown {
  let root = structuredClone(doc);
  for (const op of ops) {
    if (op.path === '') {
      if (op.op !== 'replace') throw new Error(`cannot ${op.op} the root`);
      root = structuredClone(op.value);
      continue;
    }
    const tokens = op.path.split('/').slice(1).map(unescape);
    const last = tokens.pop() as string;
    let parent: unknown = root;
    for (const t of tokens) {
      if (typeof parent !== 'object' || parent === null) throw new Error(`${op.path}: missing parent ${t}`);
      parent = (parent as Record<string, unknown>)[t];
    }
    if (typeof parent !== 'object' || parent === null) throw new Error(`${op.path}: parent is not a container`);
    const c = parent as Container;
    if (Array.isArray(c)) throw new Error(`${op.path}: array ops are not produced by vmop`);
    if (op.op === 'add') c[last] = structuredClone(op.value);
    else if (op.op === 'replace') {
      if (!(last in c)) throw new Error(`${op.path}: replace of a missing member`);
      c[last] = structuredClone(op.value);
    } else if (op.op === 'remove') {
      if (!(last in c)) throw new Error(`${op.path}: remove of a missing member`);
      delete c[last];
    } else throw new Error(`unknown op ${op.op}`);
  }
  return root;
}
