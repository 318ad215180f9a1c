// Conditions carry names and values from objects a tenant controls: their messages are cut to a bound the
// API server accepts (a status write with a message over 32,768 characters would fail, forever).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bounded, MAX_CONDITION_MESSAGE, setCondition } from '../../src/runtime/status.js';

describe('condition bounds', () => {
  it('cuts a message over the bound, and says it did', () => {
    const [c] = setCondition(undefined, {
      type: 'VirtualMachineBootstrapReady',
      status: 'False',
      reason: 'SecretNotFound',
      message: `Secret "${'x'.repeat(40_000)}" not found`,
    });
    assert.equal(c!.message.length, MAX_CONDITION_MESSAGE);
    assert.match(c!.message, /… \(truncated\)$/);
  });

  it('leaves short messages and reasons alone', () => {
    const [c] = setCondition(undefined, { type: 'Ready', status: 'True', reason: 'True', message: 'ok' });
    assert.equal(c!.message, 'ok');
    assert.equal(bounded('abc', 3), 'abc');
    assert.equal(bounded('abcdefghijklmnopqrstuvwxyz', 20).length, 20);
  });
});
