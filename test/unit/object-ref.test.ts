// Typed queue keys: a key made from an ObjectRef reads back as the same kind, namespace and name, and a key of
// another kind (or not a key at all) is refused rather than misread.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRefKey, refKey } from '../../src/runtime/object-ref.js';

describe('object refs as queue keys', () => {
  it('reads back namespaced and cluster-scoped refs', () => {
    const kinds = ['IPAddressClaim', 'PersistentVolume'] as const;
    const claim = parseRefKey(refKey({ kind: 'IPAddressClaim', namespace: 'ns-1', name: 'vm.eth0' }), kinds);
    assert.deepEqual(claim, { kind: 'IPAddressClaim', namespace: 'ns-1', name: 'vm.eth0', key: 'ns-1/vm.eth0' });
    const pv = parseRefKey(refKey({ kind: 'PersistentVolume', name: 'pvc-1' }), kinds);
    assert.deepEqual(pv, { kind: 'PersistentVolume', name: 'pvc-1', key: 'pvc-1' });
  });

  it('refuses keys of other kinds and strings that are not keys', () => {
    assert.throws(() => parseRefKey(refKey({ kind: 'IPPool', namespace: 'a', name: 'b' }), ['IPAddressClaim']));
    assert.throws(() => parseRefKey('ns/name', ['IPAddressClaim']));
  });
});
