// Command-line values that the manager parses: durations and host:port pairs, with errors that name the flag.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDuration } from '../../src/cli/args.js';
import { parseHostPort } from '../../src/cli/manager.js';

describe('manager flags', () => {
  it('reads durations with a unit, and bare numbers as seconds', () => {
    assert.equal(parseDuration('300', 'trysoft-timeout'), 300_000);
    assert.equal(parseDuration('20s', 'x'), 20_000);
    assert.equal(parseDuration('1.5m', 'x'), 90_000);
    assert.equal(parseDuration('2160h', 'x'), 2160 * 3_600_000);
    assert.equal(parseDuration('30d', 'x'), 30 * 86_400_000);
    assert.equal(parseDuration('250ms', 'x'), 250);
  });

  it('refuses other durations, naming the flag', () => {
    for (const bad of ['', '0', '-5s', '5 weeks', '1h30m', 'soon']) {
      assert.throws(
        () => parseDuration(bad, 'webhook-cert-validity'),
        /--webhook-cert-validity must be a positive duration.*got/,
      );
    }
  });

  it('reads HOST:PORT, with all interfaces for an empty host', () => {
    assert.deepEqual(parseHostPort('127.0.0.1:9443', 'webhook-addr'), { host: '127.0.0.1', port: 9443 });
    assert.deepEqual(parseHostPort(':8081', 'health-addr'), { host: '0.0.0.0', port: 8081 });
    assert.throws(() => parseHostPort('localhost', 'health-addr'), /--health-addr must be HOST:PORT/);
    assert.throws(() => parseHostPort('h:99999', 'health-addr'), /--health-addr must be HOST:PORT/);
  });
});
