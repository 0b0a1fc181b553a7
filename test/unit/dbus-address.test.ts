// nodeSocketAddress: unix addresses go to dbus-next as `unix:socket=` (Node's net.Socket, which handles short writes)
// instead of its usocket path, which drops the rest of a partially written message.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { escapeAddressValue, nodeSocketAddress, sessionBusAddress } from '../../src/dbus/address.js';

test('unix:path becomes unix:socket (guid and the like dropped); unix:abstract stays (Node cannot reach abstract sockets)', () => {
  assert.equal(nodeSocketAddress('unix:path=/run/user/1000/bus'), 'unix:socket=/run/user/1000/bus');
  assert.equal(nodeSocketAddress('unix:path=/tmp/dbus-AbC,guid=0123456789abcdef'), 'unix:socket=/tmp/dbus-AbC');
  assert.equal(nodeSocketAddress('unix:abstract=/tmp/dbus-XyZ,guid=01'), 'unix:abstract=/tmp/dbus-XyZ,guid=01');
  assert.equal(nodeSocketAddress('UNIX:path=/x'), 'unix:socket=/x');
});

test('%XX escapes are decoded (UTF-8 bytes too); values dbus-next cannot carry keep their original form', () => {
  assert.equal(nodeSocketAddress('unix:path=/tmp/my%20bus/s%c3%a9'), 'unix:socket=/tmp/my bus/sé');
  assert.equal(nodeSocketAddress('unix:path=/tmp/a%2cb'), 'unix:path=/tmp/a%2cb');
  assert.equal(nodeSocketAddress('unix:path=/tmp/a%3db'), 'unix:path=/tmp/a%3db');
  assert.equal(nodeSocketAddress('unix:path=/tmp/50%'), 'unix:socket=/tmp/50%', 'a lone % stays');
});

test('non-unix entries stay; a ;-separated list is rewritten entry by entry', () => {
  assert.equal(nodeSocketAddress('tcp:host=127.0.0.1,port=4000'), 'tcp:host=127.0.0.1,port=4000');
  assert.equal(nodeSocketAddress('unix:tmpdir=/tmp'), 'unix:tmpdir=/tmp');
  assert.equal(nodeSocketAddress('unix:path=/a;tcp:host=h,port=1;unix:abstract=b'), 'unix:socket=/a;tcp:host=h,port=1;unix:abstract=b');
});

test('the session bus is found like sd-bus and GLib do: DBUS_SESSION_BUS_ADDRESS, else unix:path=$XDG_RUNTIME_DIR/bus', () => {
  assert.equal(sessionBusAddress({ DBUS_SESSION_BUS_ADDRESS: 'unix:path=/a', XDG_RUNTIME_DIR: '/run/user/1000' }), 'unix:path=/a');
  assert.equal(sessionBusAddress({ XDG_RUNTIME_DIR: '/run/user/1000' }), 'unix:path=/run/user/1000/bus');
  assert.equal(sessionBusAddress({ DBUS_SESSION_BUS_ADDRESS: '', XDG_RUNTIME_DIR: '/run/user/1000/' }), 'unix:path=/run/user/1000/bus', 'empty counts as unset');
  assert.equal(sessionBusAddress({}), undefined);
  assert.equal(sessionBusAddress({ XDG_RUNTIME_DIR: '' }), undefined);
  assert.equal(sessionBusAddress({ XDG_RUNTIME_DIR: 'run/user/1000' }), undefined, 'a relative XDG_RUNTIME_DIR is ignored');
});

test('the runtime directory is escaped in the address and reaches dbus-next as the same path', () => {
  const address = sessionBusAddress({ XDG_RUNTIME_DIR: '/tmp/rt dir,x=1;é' })!;
  assert.equal(address, 'unix:path=/tmp/rt%20dir%2cx%3d1%3b%c3%a9/bus');
  assert.equal(escapeAddressValue('-_/.*azAZ09'), '-_/.*azAZ09');
  assert.equal(nodeSocketAddress(sessionBusAddress({ XDG_RUNTIME_DIR: '/tmp/my dir/sé' })!), 'unix:socket=/tmp/my dir/sé/bus');
});
