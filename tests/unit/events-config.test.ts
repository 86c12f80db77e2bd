import { randomBytes } from 'node:crypto';
import { LocalSecretCipher } from '../../src/adapters/secret-cipher';
import {
  DEFAULT_EVENT_CONFIG,
  describeEventConfig,
  modifyEventConfig,
  openSignKey,
  signKeyContext,
  type EventConfig,
  type EventConfigChanges,
  type EventConfigDeps,
} from '../../src/services/event-config';

const APP = 1_000_001;

function deps(stored: EventConfig = { ...DEFAULT_EVENT_CONFIG }) {
  const cipher = new LocalSecretCipher(randomBytes(32).toString('base64'));
  const updates: EventConfigChanges[] = [];
  const d: EventConfigDeps = {
    configs: {
      get: async () => stored,
      update: async (_app, changes) => void updates.push(changes),
    },
    cipher,
    urlPolicy: { allowLoopback: true },
    clock: () => 1_700_000_000_000,
  };
  return { d, cipher, updates };
}

describe('SignKey at rest', () => {
  test('ModifyEventConfig stores the SignKey sealed under the app and purpose, never in plain text', async () => {
    const { d, cipher, updates } = deps();
    await modifyEventConfig(d, APP, { SignKey: 'TopSecret42' });
    expect(updates).toHaveLength(1);
    const sealed = (updates[0].signKey as { sealed: string }).sealed;
    expect(sealed).toMatch(/^aesgcm:/);
    expect(JSON.stringify(updates[0])).not.toContain('TopSecret42');
    expect(await openSignKey(cipher, APP, { sealed })).toBe('TopSecret42');
    expect(await cipher.decrypt(sealed, signKeyContext(APP))).toBe('TopSecret42');
    // Bound to its app and purpose: not another app's SignKey, not an app SecretKey.
    await expect(openSignKey(cipher, APP + 1, { sealed })).rejects.toThrow();
    await expect(cipher.decrypt(sealed, { secretId: 'x', subAppId: String(APP) })).rejects.toThrow();
  });

  test("'' removes the key (nothing is encrypted); an absent SignKey leaves it as it is", async () => {
    const { d, updates } = deps();
    await modifyEventConfig(d, APP, { SignKey: '' });
    await modifyEventConfig(d, APP, { Mode: 'PULL' });
    expect(updates[0].signKey).toBeNull();
    expect(updates[1]).toMatchObject({ mode: 'PULL' });
    expect(updates[1].signKey).toBeUndefined();
  });

  test('each sealing is fresh (random IV): equal keys of two writes do not compare equal at rest', async () => {
    const { d, updates } = deps();
    await modifyEventConfig(d, APP, { SignKey: 'Same1' });
    await modifyEventConfig(d, APP, { SignKey: 'Same1' });
    expect((updates[0].signKey as { sealed: string }).sealed).not.toBe(
      (updates[1].signKey as { sealed: string }).sealed,
    );
  });

  test('an item from before encryption (plain signKey) still signs; none means unsigned', async () => {
    const { cipher } = deps();
    expect(await openSignKey(cipher, APP, { legacyPlaintext: 'OldKey7' })).toBe('OldKey7');
    expect(await openSignKey(cipher, APP, undefined)).toBe('');
  });

  test('a refused SignKey is not encrypted nor stored', async () => {
    const { d, updates } = deps();
    await expect(modifyEventConfig(d, APP, { SignKey: 'has spaces' })).rejects.toMatchObject({
      code: 'InvalidParameterValue.SignKey',
    });
    expect(updates).toEqual([]);
  });

  test('DescribeEventConfig never returns the SignKey, sealed or not', async () => {
    for (const signKey of [{ sealed: 'aesgcm:AAAA' }, { legacyPlaintext: 'OldKey7' }]) {
      const { d } = deps({ ...DEFAULT_EVENT_CONFIG, signKey });
      const out = await describeEventConfig(d, APP, {});
      expect(out).not.toHaveProperty('SignKey');
      expect(JSON.stringify(out)).not.toMatch(/OldKey7|aesgcm/);
    }
  });
});
