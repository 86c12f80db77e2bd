/**
 * App SecretKeys at rest: AES-256-GCM locally (context bound as AAD), KMS with an EncryptionContext on AWS.
 */
import { randomBytes } from 'node:crypto';
import { DecryptCommand, EncryptCommand, KMSClient } from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { KmsSecretCipher, LocalSecretCipher } from '../../src/adapters/secret-cipher';

const SECRET = 'PlainSecretKey0123456789abcdefGH';
const CTX = { secretId: 'AKIDabc', subAppId: '1500000001' };

describe('LocalSecretCipher', () => {
  const masterKey = randomBytes(32).toString('base64');
  const cipher = new LocalSecretCipher(masterKey);

  it('round-trips a secret under the same context', async () => {
    const c = await cipher.encrypt(SECRET, CTX);
    expect(c).toMatch(/^aesgcm:[A-Za-z0-9+/]+=*$/);
    await expect(cipher.decrypt(c, CTX)).resolves.toBe(SECRET);
  });

  it('binds the context, not its key order', async () => {
    const c = await cipher.encrypt(SECRET, CTX);
    await expect(cipher.decrypt(c, { subAppId: CTX.subAppId, secretId: CTX.secretId })).resolves.toBe(SECRET);
  });

  it('never contains the plaintext, in clear or in base64', async () => {
    const c = await cipher.encrypt(SECRET, CTX);
    expect(c).not.toContain(SECRET);
    expect(c).not.toContain(Buffer.from(SECRET).toString('base64').slice(0, 16));
    const raw = Buffer.from(c.slice('aesgcm:'.length), 'base64');
    expect(raw.includes(Buffer.from(SECRET))).toBe(false);
  });

  it('uses a fresh IV each time (two ciphertexts of one secret differ)', async () => {
    const a = await cipher.encrypt(SECRET, CTX);
    const b = await cipher.encrypt(SECRET, CTX);
    expect(a).not.toBe(b);
    await expect(cipher.decrypt(b, CTX)).resolves.toBe(SECRET);
  });

  it('fails with a wrong context (another SecretId or app)', async () => {
    const c = await cipher.encrypt(SECRET, CTX);
    await expect(cipher.decrypt(c, { ...CTX, secretId: 'AKIDother' })).rejects.toThrow();
    await expect(cipher.decrypt(c, { ...CTX, subAppId: '1500000002' })).rejects.toThrow();
    await expect(cipher.decrypt(c, { secretId: CTX.secretId })).rejects.toThrow();
  });

  it('fails on any tampered byte (IV, tag or body)', async () => {
    const c = await cipher.encrypt(SECRET, CTX);
    const raw = Buffer.from(c.slice(7), 'base64');
    for (const i of [0, 12, 28, raw.length - 1]) {
      const t = Buffer.from(raw);
      t[i] ^= 0x01;
      await expect(cipher.decrypt(`aesgcm:${t.toString('base64')}`, CTX)).rejects.toThrow();
    }
  });

  it('fails under another master key', async () => {
    const c = await cipher.encrypt(SECRET, CTX);
    const other = new LocalSecretCipher(randomBytes(32).toString('base64'));
    await expect(other.decrypt(c, CTX)).rejects.toThrow();
  });

  it('refuses a master key that is not 32 bytes, and a ciphertext of another kind', async () => {
    expect(() => new LocalSecretCipher(randomBytes(16).toString('base64'))).toThrow(/32 bytes/);
    await expect(cipher.decrypt('kms:AAAA', CTX)).rejects.toThrow(/not a local/);
  });
});

describe('KmsSecretCipher (aws-sdk-client-mock)', () => {
  const kms = mockClient(KMSClient);
  const blob = Uint8Array.from(randomBytes(48));

  beforeEach(() => kms.reset());
  afterAll(() => kms.restore());

  it('encrypts with the key and the EncryptionContext, and stores the blob as kms:<base64>', async () => {
    kms.on(EncryptCommand).resolves({ CiphertextBlob: blob, KeyId: 'k' });
    const cipher = new KmsSecretCipher(new KMSClient({ region: 'us-east-1' }), 'alias/openvod');
    const c = await cipher.encrypt(SECRET, CTX);
    expect(c).toBe(`kms:${Buffer.from(blob).toString('base64')}`);
    expect(c).not.toContain(SECRET);
    const calls = kms.commandCalls(EncryptCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0].args[0].input;
    expect(input.KeyId).toBe('alias/openvod');
    expect(input.EncryptionContext).toEqual(CTX);
    expect(Buffer.from(input.Plaintext as Uint8Array).toString('utf8')).toBe(SECRET);
  });

  it('decrypts with the same EncryptionContext and the stored blob', async () => {
    kms.on(DecryptCommand, { EncryptionContext: CTX }).resolves({ Plaintext: Buffer.from(SECRET) });
    const cipher = new KmsSecretCipher(new KMSClient({ region: 'us-east-1' }), 'alias/openvod');
    await expect(cipher.decrypt(`kms:${Buffer.from(blob).toString('base64')}`, CTX)).resolves.toBe(SECRET);
    const calls = kms.commandCalls(DecryptCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0].args[0].input.EncryptionContext).toEqual(CTX);
    expect(Buffer.from(calls[0].args[0].input.CiphertextBlob as Uint8Array).equals(Buffer.from(blob))).toBe(
      true,
    );
  });

  it('propagates KMS refusing a wrong context', async () => {
    kms
      .on(DecryptCommand)
      .rejects(
        Object.assign(new Error('InvalidCiphertextException'), { name: 'InvalidCiphertextException' }),
      );
    const cipher = new KmsSecretCipher(new KMSClient({ region: 'us-east-1' }), 'alias/openvod');
    await expect(cipher.decrypt('kms:AAAA', { ...CTX, secretId: 'AKIDother' })).rejects.toThrow(
      /InvalidCiphertext/,
    );
  });

  it('refuses a ciphertext that is not a KMS one without calling KMS', async () => {
    const cipher = new KmsSecretCipher(new KMSClient({ region: 'us-east-1' }), 'alias/openvod');
    await expect(cipher.decrypt('aesgcm:AAAA', CTX)).rejects.toThrow(/not a KMS/);
    expect(kms.commandCalls(DecryptCommand)).toHaveLength(0);
  });
});
