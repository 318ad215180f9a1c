// The XML reader's hardening, and the vim25 codec: VirtualMachineConfigSpec-shaped JSON (as VM Operator's
// class configSpec holds it) survives encode → XML → parse → decode unchanged, subtypes included.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decodeFault, decodeResponse, encodeRequest, requestTypeOf } from '../../src/vsphere/client.js';
import { VimFault } from '../../src/vsphere/faults.js';
import { decodeElement, encodeElement, moRef, VimEncodeError } from '../../src/vsphere/vim25/codec.js';
import { parseXML, XMLError } from '../../src/vsphere/xml.js';

const XSI = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema"';

function roundTrip(value: unknown, type: string): unknown {
  const xml = `<root ${XSI}>${encodeElement('v', value, type)}</root>`;
  const el = parseXML(xml).children[0];
  assert.ok(el, xml);
  return decodeElement(el, type);
}

describe('XML reader', () => {
  it('refuses DOCTYPEs and entity declarations (no entity expansion)', () => {
    const bomb = '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><a>&lol2;</a>';
    assert.throws(() => parseXML(bomb), /DOCTYPE and entity declarations are not accepted/);
    assert.throws(() => parseXML('<a>&ext;</a>'), /unknown entity &ext;/);
  });

  it('expands the predefined entities, character references and CDATA', () => {
    const el = parseXML('<a x="&quot;q&quot;">&lt;b&gt; &amp; &#65;&#x42; <![CDATA[<raw>]]></a>');
    assert.equal(el.text, '<b> & AB <raw>');
    assert.equal(el.attrs.x, '"q"');
  });

  it('keeps prefixes and attributes, so xsi:type keeps its meaning', () => {
    const el = parseXML(`<val ${XSI} xsi:type="ManagedObjectReference" type="HostSystem">host-1</val>`);
    assert.equal(el.attrs['xsi:type'], 'ManagedObjectReference');
    assert.deepEqual(decodeElement(el, 'xsd:anyType'), {
      _typeName: 'ManagedObjectReference',
      type: 'HostSystem',
      value: 'host-1',
    });
  });

  const malformed: [string, RegExp][] = [
    ['<a><b></a>', /does not match/],
    ['<a>', /unclosed element/],
    ['<a></a><b></b>', /more than one root/],
    ['text', /text outside the root|no root/],
    ['<a x=1></a>', /unquoted attribute/],
  ];
  for (const [xml, message] of malformed) {
    it(`rejects ${JSON.stringify(xml)}`, () => assert.throws(() => parseXML(xml), message));
  }

  it('bounds size and nesting depth', () => {
    assert.throws(
      () => parseXML('<a>' + 'x'.repeat(100) + '</a>', { maxBytes: 50, maxDepth: 10 }),
      /larger than 50 bytes/,
    );
    assert.throws(
      () => parseXML('<a>'.repeat(20) + '</a>'.repeat(20), { maxBytes: 1000, maxDepth: 10 }),
      /deeper than 10/,
    );
  });

  it('never throws anything but XMLError on random input', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (s) => {
        try {
          parseXML(s);
        } catch (err) {
          assert.ok(err instanceof XMLError, String(err));
        }
      }),
      { numRuns: 3000 },
    );
  });
});

const nicType = fc.constantFrom('VirtualE1000', 'VirtualE1000e', 'VirtualVmxnet2', 'VirtualVmxnet3', 'VirtualPCNet32');
// eslint-disable-next-line no-control-regex -- XML 1.0 cannot carry control characters or lone surrogates, and a CR reads back as LF.
const NOT_XML = new RegExp('[\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\ud800-\\udfff\\ufffe\\uffff\\r]');
const text = fc.string({ maxLength: 20 }).filter((s) => !NOT_XML.test(s));
const allocation = fc.record(
  {
    _typeName: fc.constant('ResourceAllocationInfo'),
    reservation: fc.integer({ min: 0, max: 100_000 }),
    limit: fc.integer({ min: -1, max: 100_000 }),
    expandableReservation: fc.boolean(),
  },
  { requiredKeys: ['_typeName'] },
);
const device = fc.record(
  {
    _typeName: nicType,
    key: fc.integer({ min: -1000, max: -1 }),
    addressType: fc.constantFrom('generated', 'manual'),
    macAddress: text,
    backing: fc.record({
      _typeName: fc.constant('VirtualEthernetCardNetworkBackingInfo'),
      deviceName: text,
      network: fc.constant(moRef('Network', 'network-7')),
    }),
  },
  { requiredKeys: ['_typeName', 'key'] },
);
const configSpec = fc.record(
  {
    _typeName: fc.constant('VirtualMachineConfigSpec'),
    name: text,
    guestId: fc.constantFrom('ubuntu64Guest', 'vmwarePhoton64Guest', 'otherGuest'),
    numCPUs: fc.integer({ min: 1, max: 128 }),
    numCoresPerSocket: fc.integer({ min: 1, max: 8 }),
    memoryMB: fc.integer({ min: 4, max: 1024 * 1024 }),
    instanceUuid: fc.uuid(),
    cpuAllocation: allocation,
    memoryAllocation: allocation,
    annotation: text,
    extraConfig: fc.array(
      fc.record({ _typeName: fc.constant('OptionValue'), key: text, value: fc.oneof(text, fc.boolean()) }),
      { maxLength: 4 },
    ),
    deviceChange: fc.array(
      fc.record({
        _typeName: fc.constant('VirtualDeviceConfigSpec'),
        operation: fc.constantFrom('add', 'edit', 'remove'),
        device,
      }),
      { maxLength: 4 },
    ),
  },
  { requiredKeys: ['_typeName'] },
);

describe('vim25 codec', () => {
  it('round-trips random VirtualMachineConfigSpec JSON through SOAP and back', () => {
    fc.assert(
      fc.property(configSpec, (spec) => {
        // SOAP has no empty arrays: an array with no elements reads back as absent.
        const expected = JSON.parse(
          JSON.stringify(spec, (_k, v: unknown) => (Array.isArray(v) && v.length === 0 ? undefined : v)),
        ) as unknown;
        assert.deepEqual(roundTrip(spec, 'VirtualMachineConfigSpec'), expected);
      }),
      { numRuns: 1000 },
    );
  });

  it('writes xsi:type for a subtype in a base-type slot and reads it back', () => {
    const xml = encodeElement('device', { _typeName: 'VirtualVmxnet3', key: -300 }, 'VirtualDevice');
    assert.equal(xml, '<device xsi:type="VirtualVmxnet3"><key>-300</key></device>');
  });

  it('emits properties in schema order, whatever the JSON order', () => {
    const xml = encodeElement(
      'spec',
      { _typeName: 'VirtualMachineConfigSpec', memoryMB: 4096, numCPUs: 2, name: 'x' },
      'VirtualMachineConfigSpec',
    );
    assert.ok(
      xml.indexOf('<name>') < xml.indexOf('<numCPUs>') && xml.indexOf('<numCPUs>') < xml.indexOf('<memoryMB>'),
      xml,
    );
  });

  const bad: [string, unknown, string, RegExp][] = [
    [
      'an unknown property',
      { _typeName: 'VirtualMachineConfigSpec', numCPU: 2 },
      'VirtualMachineConfigSpec',
      /VirtualMachineConfigSpec has no property "numCPU"/,
    ],
    ['an unknown type', { _typeName: 'VirtualFloppyDisk' }, 'VirtualDevice', /unknown vim25 type "VirtualFloppyDisk"/],
    [
      'a type that is not a subtype',
      { _typeName: 'ResourceAllocationInfo' },
      'VirtualDevice',
      /ResourceAllocationInfo is not a VirtualDevice/,
    ],
    [
      'a string for an integer',
      { _typeName: 'VirtualMachineConfigSpec', numCPUs: '2' },
      'VirtualMachineConfigSpec',
      /numCPUs: expected an integer/,
    ],
    [
      'a non-array for an array',
      { _typeName: 'VirtualMachineConfigSpec', deviceChange: {} },
      'VirtualMachineConfigSpec',
      /deviceChange: expected an array/,
    ],
  ];
  for (const [what, value, type, message] of bad) {
    it(`refuses ${what} with the path in the message`, () =>
      assert.throws(
        () => encodeElement('spec', value, type),
        (e: unknown) => e instanceof VimEncodeError && message.test(e.message),
      ));
  }

  it('builds requests with _this first and task methods under their request type', () => {
    assert.equal(requestTypeOf('PowerOnVM_Task'), 'PowerOnVMRequestType');
    const body = encodeRequest('PowerOnVM_Task', moRef('VirtualMachine', 'vm-1'), {});
    assert.match(
      body,
      /<PowerOnVM_Task xmlns="urn:vim25"><_this type="VirtualMachine">vm-1<\/_this><\/PowerOnVM_Task>/,
    );
    assert.throws(
      () => encodeRequest('PowerOnVM_Task', moRef('VirtualMachine', 'vm-1'), { force: true }),
      /has no argument "force"/,
    );
  });

  it('reads a SOAP fault into a VimFault with its fields', () => {
    const xml = `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" ${XSI}><soapenv:Body><soapenv:Fault><faultcode>ServerFaultCode</faultcode><faultstring>The attempted operation cannot be performed in the current state (Powered on).</faultstring><detail><InvalidPowerStateFault xmlns="urn:vim25" xsi:type="InvalidPowerState"><requestedState>poweredOn</requestedState><existingState>poweredOn</existingState></InvalidPowerStateFault></detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>`;
    const err = (() => {
      try {
        decodeResponse('PowerOnVM_Task', xml);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    assert.ok(err instanceof VimFault);
    assert.equal(err.faultType, 'InvalidPowerState');
    assert.ok(err.is('InvalidState') && err.is('VimFault'));
    assert.deepEqual(err.fields, { requestedState: 'poweredOn', existingState: 'poweredOn' });
    assert.match(err.message, /PowerOnVM_Task: InvalidPowerState: The attempted operation/);
    assert.equal(decodeFault('x', parseXML('<Fault><faultstring>boom</faultstring></Fault>')).faultType, 'SystemError');
  });

  it('decodes arrays as arrays even with one element, and typed anyType values', () => {
    const xml = `<RetrievePropertiesExResponse ${XSI}><returnval><objects><obj type="VirtualMachine">vm-1</obj><propSet><name>config.hardware.numCPU</name><val xsi:type="xsd:int">4</val></propSet></objects></returnval></RetrievePropertiesExResponse>`;
    const env = `<soapenv:Envelope xmlns:soapenv="x"><soapenv:Body>${xml}</soapenv:Body></soapenv:Envelope>`;
    const r = decodeResponse('RetrievePropertiesEx', env) as { objects: { propSet: { val: unknown }[] }[] };
    assert.ok(Array.isArray(r.objects) && Array.isArray(r.objects[0]?.propSet));
    assert.equal(r.objects[0]?.propSet[0]?.val, 4);
  });
});
