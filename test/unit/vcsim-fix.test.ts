// The vcsim lock-order fix: it rewrites exactly the filter's re-read mark (set without the filter lock, read
// and cleared before taking it), and refuses a source that is not the one it was written for.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fixPropertyFilter } from '../../src/devenv/vcsim-fix.js';

// The shape of the four places in govmomi v0.56.0's simulator/property_filter.go, bodies shortened.
const SOURCE = [
  'package simulator',
  '',
  'import (\n\t"reflect"\n\t"strings"\n',
  '\t"github.com/vmware/govmomi/vim25/types"',
  ')',
  '',
  'type PropertyFilter struct {',
  '\trefs map[types.ManagedObjectReference]struct{}',
  '\tsync bool\n}',
  '',
  'func (f *PropertyFilter) UpdateObject(ctx *Context) {',
  '\t\t\tctx.WithLock(f, func() { f.sync = true })',
  '}',
  '',
  'func (f *PropertyFilter) update(ctx *Context) {',
  '\tctx.WithLock(f, func() {\n\t\tif f.sync {\n\t\t\tf.sync = false\n\t\t\tclear(f.refs)\n\t\t}\n\t})',
  '}',
].join('\n');

describe('vcsim fix', () => {
  it('marks the filter without its lock and takes the lock only to re-read it', () => {
    const fixed = fixPropertyFilter(SOURCE);
    assert.match(fixed, /"sync\/atomic"/);
    assert.match(fixed, /\tsync atomic\.Bool\n/);
    assert.match(fixed, /f\.sync\.Store\(true\)/);
    assert.doesNotMatch(fixed, /WithLock\(f, func\(\) \{ f\.sync = true \}\)/);
    // The flag is taken before the lock, and the lock is not taken when nothing is marked.
    const update = fixed.slice(fixed.indexOf('func (f *PropertyFilter) update'));
    assert.ok(update.indexOf('f.sync.Swap(false)') < update.indexOf('ctx.WithLock(f'));
    assert.match(update, /if !f\.sync\.Swap\(false\) \{\n\t\treturn\n\t\}/);
    assert.match(update, /clear\(f\.refs\)/);
    assert.doesNotMatch(fixed, /f\.sync = /);
  });

  it('refuses a source it was not written for, and a source already fixed', () => {
    assert.throws(() => fixPropertyFilter(SOURCE.replace('\tsync bool\n}', '\tdirty bool\n}')), /sync bool/);
    assert.throws(() => fixPropertyFilter(fixPropertyFilter(SOURCE)), /not govmomi v0\.56\.0's/);
  });
});
