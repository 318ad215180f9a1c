// vmop's vSphere client against vcsim: TLS by CA, by pinned thumbprint and insecure; login and the faults
// of wrong credentials; calls without a session; the client's own errors never carry the password.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { describe, it } from 'node:test';
import { VimFault, VimTransportError } from '../../src/vsphere/faults.js';
import { SERVICE_INSTANCE, VimClient } from '../../src/vsphere/client.js';
import { ground } from '../support/ground.js';
import { vcsimBase, vcsimCA, vimClient } from '../support/vsphere.js';
import { readFileSync } from 'node:fs';

describe('vSphere client sessions against vcsim', () => {
  it('connects over TLS verified by the CA, logs in and reads the ServiceContent', async () => {
    const c = await vimClient();
    try {
      assert.equal(c.serviceContent.about.apiVersion, '8.0.3.0');
      assert.equal(c.serviceContent.rootFolder.type, 'Folder');
      assert.equal(c.serviceContent.propertyCollector.type, 'PropertyCollector');
      const now = await c.call<string>('CurrentTime', SERVICE_INSTANCE);
      assert.ok(Math.abs(Date.parse(now) - Date.now()) < 60_000, now);
      const session = await c.call<{ currentSession?: { userName: string } }>(
        'RetrievePropertiesEx',
        c.serviceContent.propertyCollector,
        {
          specSet: [
            {
              _typeName: 'PropertyFilterSpec',
              propSet: [{ _typeName: 'PropertySpec', type: 'SessionManager', pathSet: ['currentSession'] }],
              objectSet: [{ _typeName: 'ObjectSpec', obj: c.serviceContent.sessionManager }],
            },
          ],
          options: { _typeName: 'RetrieveOptions' },
        },
      );
      assert.ok(JSON.stringify(session).includes(ground().vcsimUser));
    } finally {
      await c.logout();
    }
  });

  it('accepts the server when its pinned SHA-256 thumbprint matches', async () => {
    const cert = new X509Certificate(readFileSync(ground().caCert.replace(/ca\.crt$/, 'vcsim.crt')));
    const c = await vimClient({ tls: { thumbprint: cert.fingerprint256 } });
    await c.logout();
  });

  it('refuses the server when the pinned thumbprint does not match', async () => {
    const err = await vimClient({ tls: { thumbprint: 'AA'.repeat(32) } }).catch((e: unknown) => e);
    assert.ok(err instanceof VimTransportError, String(err));
    assert.match(err.message, /thumbprint .* is not the pinned/);
  });

  it('refuses an unverified certificate unless insecure is asked for', async () => {
    const err = await vimClient({ tls: {} }).catch((e: unknown) => e);
    assert.ok(err instanceof VimTransportError, String(err));
    assert.match(err.message, /self.signed|unable to verify|certificate/i);
    const c = await vimClient({ tls: { insecure: true } });
    await c.logout();
  });

  it('turns wrong credentials into an InvalidLogin fault without the password in the message', async () => {
    const password = 'hunter2-not-the-password';
    const err = await VimClient.connect({
      url: vcsimBase(),
      tls: { ca: vcsimCA() },
      credentials: { username: ground().vcsimUser, password },
      keepAliveMs: 0,
    }).catch((e: unknown) => e);
    assert.ok(err instanceof VimFault, String(err));
    assert.equal(err.faultType, 'InvalidLogin');
    assert.equal(err.retryable, false);
    assert.doesNotMatch(`${err.message} ${JSON.stringify(err.fields)}`, new RegExp(password));
  });

  it('answers NotAuthenticated to calls without a session', async () => {
    const c = await VimClient.connect({ url: vcsimBase(), tls: { ca: vcsimCA() }, keepAliveMs: 0 });
    try {
      const err = await c
        .call('CreateContainerView', c.serviceContent.viewManager ?? SERVICE_INSTANCE, {
          container: c.serviceContent.rootFolder,
          type: ['VirtualMachine'],
          recursive: true,
        })
        .catch((e: unknown) => e);
      assert.ok(err instanceof VimFault && err.is('NotAuthenticated'), String(err));
      assert.equal(err.retryable, true);
    } finally {
      await c.logout();
    }
  });

  it('logs in again by itself when the session is gone', async () => {
    const calls: string[] = [];
    const c = await vimClient({ onCall: (method, _ms, fault) => calls.push(fault ? `${method}!${fault}` : method) });
    try {
      const sm = c.serviceContent.sessionManager;
      assert.ok(sm);
      // Another client terminates this client's session, as a vCenter restart would.
      const admin = await vimClient();
      const sessions = await admin.call<
        { propSet?: { val: { sessionList?: { key: string; userName: string }[] } }[] }[]
      >('RetrieveProperties', admin.serviceContent.propertyCollector, {
        specSet: [
          {
            _typeName: 'PropertyFilterSpec',
            propSet: [{ _typeName: 'PropertySpec', type: 'SessionManager', pathSet: ['sessionList'] }],
            objectSet: [{ _typeName: 'ObjectSpec', obj: sm }],
          },
        ],
      });
      const mine = await c.call<{ propSet?: { val: { key: string } }[] }[]>(
        'RetrieveProperties',
        c.serviceContent.propertyCollector,
        {
          specSet: [
            {
              _typeName: 'PropertyFilterSpec',
              propSet: [{ _typeName: 'PropertySpec', type: 'SessionManager', pathSet: ['currentSession'] }],
              objectSet: [{ _typeName: 'ObjectSpec', obj: sm }],
            },
          ],
        },
      );
      const key = mine[0]?.propSet?.[0]?.val.key;
      assert.ok(key && sessions.length > 0);
      await admin.call('TerminateSession', sm, { sessionId: [key] });
      await admin.logout();
      const view = await c.call('CreateContainerView', c.serviceContent.viewManager ?? SERVICE_INSTANCE, {
        container: c.serviceContent.rootFolder,
        type: ['HostSystem'],
        recursive: true,
      });
      assert.ok(view);
      assert.deepEqual(calls.slice(-3), ['CreateContainerView!NotAuthenticated', 'Login', 'CreateContainerView']);
    } finally {
      await c.logout();
    }
  });
});
