// The admission suites once more with every request in v1alpha6 (what VM Operator's current docs write): the API
// server converts each to the hub before admission, and the verdicts, messages and field paths must be the ones
// the same suites check in v1alpha3. (None of these suites uses a field that moved between the versions; the
// CD-ROM paths are compared in api-versions.test.)
process.env.VMOP_TEST_API_VERSION = 'v1alpha6';

for (const suite of [
  'webhook-power',
  'webhook-network',
  'webhook-bootstrap',
  'webhook-required',
  'webhook-update-table',
  'webhook-volumes-class',
  'webhook-mutation',
  'webhook-unsupported',
  'webhook-hardware',
  'webhook-image-name',
]) {
  await import(`./${suite}.test.js`);
}
