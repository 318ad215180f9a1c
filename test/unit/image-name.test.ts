import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { imageResourceName } from '../../src/api/v1alpha3/image-name.js';

describe('image resource names', () => {
  it('is vmi- and 17 hex digits, the same for the same item ID, a DNS label', () => {
    fc.assert(
      fc.property(fc.uuid(), (id) => {
        const name = imageResourceName(id);
        assert.match(name, /^vmi-[0-9a-f]{17}$/);
        assert.equal(imageResourceName(id), name);
      }),
    );
  });

  it('differs between two items', () => {
    assert.notEqual(
      imageResourceName('e6946c7a-554c-402c-862a-528509b143e3'),
      imageResourceName('e6946c7a-554c-402c-862a-528509b143e4'),
    );
  });
});
