// The path builder is the only way a name reaches a Kubernetes request path: traversal and encoding variants
// are refused or encoded, and a fuzz of random names (lengths, encodings, Unicode, dot segments) proves that
// a path the builder returns, once parsed as a URL the way KubeClient sends it, stays in its namespace and
// names exactly the object asked for.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { apiPath, InvalidPathSegmentError, memberPath, subresourcePath } from '../../src/runtime/api-path.js';

const SERVER = 'https://127.0.0.1:6443';

/** The path as the server receives it after the URL parser (dot segments resolved). */
function sent(path: string): string {
  return new URL(SERVER + path).pathname;
}

/** Throws unless `path`, as sent, is exactly the Secret `name` of namespace `ns`. */
function assertInNamespace(path: string, ns: string, name: string): void {
  const segments = sent(path).split('/');
  assert.deepEqual(segments.slice(0, 6), ['', 'api', 'v1', 'namespaces', ns, 'secrets'], `${path} left ${ns}`);
  assert.equal(segments.length, 7, `${path} has extra segments`);
  assert.equal(decodeURIComponent(segments[6]!), name, `${path} names another object`);
}

const TRAVERSALS = [
  '../../vmop-system/secrets/vmop-vcenter-credentials',
  '..',
  '.',
  '%2e%2e',
  '%2E%2E%2Fvmop-system',
  '..%2f..%2fvmop-system',
  'a/../../b',
  'a\\..\\..\\b',
  '..\\vmop-system',
  'x?watch=1',
  'x#frag',
  'name with space',
  'tab\tname',
  'new\nline',
  '',
  'é',
  '%',
  'x'.repeat(254),
];

describe('Kubernetes request paths', () => {
  it('builds core, group, collection, object and subresource paths', () => {
    assert.equal(apiPath({ apiVersion: 'v1' }), '/api/v1');
    assert.equal(
      apiPath({ apiVersion: 'v1', resource: 'secrets', namespace: 'ns-1' }),
      '/api/v1/namespaces/ns-1/secrets',
    );
    assert.equal(
      apiPath({ apiVersion: 'coordination.k8s.io/v1', resource: 'leases', namespace: 'a', name: 'l.1' }),
      '/apis/coordination.k8s.io/v1/namespaces/a/leases/l.1',
    );
    assert.equal(
      apiPath({
        apiVersion: 'vmoperator.vmware.com/v1alpha3',
        resource: 'virtualmachines',
        namespace: 'a',
        name: 'vm',
        subresource: 'status',
      }),
      '/apis/vmoperator.vmware.com/v1alpha3/namespaces/a/virtualmachines/vm/status',
    );
    assert.equal(
      apiPath({ apiVersion: 'v1', resource: 'persistentvolumes', name: 'pv-1' }),
      '/api/v1/persistentvolumes/pv-1',
    );
    const col = apiPath({ apiVersion: 'v1', resource: 'secrets', namespace: 'a' });
    assert.equal(subresourcePath(memberPath(col, 'b'), 'status'), '/api/v1/namespaces/a/secrets/b/status');
  });

  for (const name of TRAVERSALS) {
    it(`refuses or contains the name ${JSON.stringify(name.slice(0, 40))}`, () => {
      let path: string;
      try {
        path = apiPath({ apiVersion: 'v1', resource: 'secrets', namespace: 'my-namespace', name });
      } catch (err) {
        assert.ok(err instanceof InvalidPathSegmentError, String(err));
        assert.match(err.message, /secrets name/);
        return;
      }
      assertInNamespace(path, 'my-namespace', name);
    });
  }

  it('refuses namespaces, versions and resources that are not what the API server accepts', () => {
    const bad: Parameters<typeof apiPath>[0][] = [
      { apiVersion: 'v1', resource: 'secrets', namespace: '..' },
      { apiVersion: 'v1', resource: 'secrets', namespace: 'a/b' },
      { apiVersion: 'v1', resource: 'secrets', namespace: 'A' },
      { apiVersion: '../v1', resource: 'secrets' },
      { apiVersion: 'g/v1/x', resource: 'secrets' },
      { apiVersion: 'v1', resource: '../secrets' },
      { apiVersion: 'v1', resource: 'secrets', name: 'a', subresource: '../x' },
      { apiVersion: 'v1', name: 'a' },
    ];
    for (const parts of bad) assert.throws(() => apiPath(parts), InvalidPathSegmentError, JSON.stringify(parts));
  });

  it('keeps 5,000+ random Secret names in their namespace, or refuses them', () => {
    const piece = fc.oneof(
      fc.constantFrom(
        '..',
        '.',
        '/',
        '\\',
        '%2e',
        '%2E',
        '%2f',
        '%2F',
        '%5c',
        '%00',
        '?',
        '#',
        ';',
        '%',
        '~',
        ':',
        '@',
      ),
      fc.string({ unit: 'grapheme', maxLength: 12 }),
      fc.stringMatching(/^[a-z0-9][-a-z0-9.]{0,20}$/),
      fc.string({ unit: 'binary', maxLength: 6 }),
    );
    const name = fc.oneof(
      fc.array(piece, { maxLength: 8 }).map((p) => p.join('')),
      fc.string({ maxLength: 300 }),
      fc.stringMatching(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/),
    );
    let refused = 0;
    let built = 0;
    fc.assert(
      fc.property(name, fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?$/), (n, ns) => {
        let path: string;
        try {
          path = apiPath({ apiVersion: 'v1', resource: 'secrets', namespace: ns, name: n });
        } catch (err) {
          if (!(err instanceof InvalidPathSegmentError)) throw err;
          refused++;
          return;
        }
        built++;
        assertInNamespace(path, ns, n);
      }),
      { numRuns: 6000 },
    );
    // Both branches were exercised, not just one.
    assert.ok(refused > 500 && built > 500, `refused ${refused}, built ${built}`);
  });
});

describe('no hand-made request paths in src/', () => {
  it('casts to APIPath only inside the path builder', async () => {
    const { readdir, readFile } = await import('node:fs/promises');
    const path = await import('node:path');
    const { repoRoot } = await import('../../src/devenv/toolchain.js');
    const src = path.join(repoRoot(), 'src');
    const offenders: string[] = [];
    for (const entry of await readdir(src, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
      const file = path.join(entry.parentPath, entry.name);
      const text = await readFile(file, 'utf8');
      if (file.endsWith(path.join('runtime', 'api-path.ts'))) continue;
      if (/as APIPath\b|\/namespaces\/\$\{/.test(text)) offenders.push(path.relative(src, file));
    }
    assert.deepEqual(offenders, []);
  });
});
