import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { DecryptCommand, EncryptCommand, type KMSClient } from '@aws-sdk/client-kms';

/**
 * Encrypts app SecretKeys at rest. The secret itself is needed to verify TC3 HMACs, so it cannot be
 * hashed: it is encrypted with KMS on AWS and with AES-256-GCM under a local master key in local mode.
 */
export interface SecretCipher {
  encrypt(plaintext: string, context: Record<string, string>): Promise<string>;
  decrypt(ciphertext: string, context: Record<string, string>): Promise<string>;
}

export class KmsSecretCipher implements SecretCipher {
  constructor(
    private readonly kms: KMSClient,
    private readonly keyId: string,
  ) {}
  async encrypt(plaintext: string, context: Record<string, string>): Promise<string> {
    const out = await this.kms.send(
      new EncryptCommand({
        KeyId: this.keyId,
        Plaintext: Buffer.from(plaintext, 'utf8'),
        EncryptionContext: context,
      }),
    );
    return `kms:${Buffer.from(out.CiphertextBlob ?? new Uint8Array()).toString('base64')}`;
  }
  async decrypt(ciphertext: string, context: Record<string, string>): Promise<string> {
    if (!ciphertext.startsWith('kms:')) throw new Error('not a KMS ciphertext');
    const out = await this.kms.send(
      new DecryptCommand({
        CiphertextBlob: Buffer.from(ciphertext.slice(4), 'base64'),
        EncryptionContext: context,
      }),
    );
    return Buffer.from(out.Plaintext ?? new Uint8Array()).toString('utf8');
  }
}

/** AES-256-GCM with the context as additional authenticated data. */
export class LocalSecretCipher implements SecretCipher {
  private readonly key: Buffer;
  constructor(masterKeyBase64: string) {
    this.key = Buffer.from(masterKeyBase64, 'base64');
    if (this.key.length !== 32) throw new Error('OPENVOD_LOCAL_MASTER_KEY must be 32 bytes, base64-encoded');
  }
  private static aad(context: Record<string, string>): Buffer {
    return Buffer.from(
      JSON.stringify(Object.entries(context).sort(([a], [b]) => a.localeCompare(b))),
      'utf8',
    );
  }
  async encrypt(plaintext: string, context: Record<string, string>): Promise<string> {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.key, iv);
    c.setAAD(LocalSecretCipher.aad(context));
    const body = Buffer.concat([c.update(plaintext, 'utf8'), c.final()]);
    return `aesgcm:${Buffer.concat([iv, c.getAuthTag(), body]).toString('base64')}`;
  }
  async decrypt(ciphertext: string, context: Record<string, string>): Promise<string> {
    if (!ciphertext.startsWith('aesgcm:')) throw new Error('not a local AES-GCM ciphertext');
    const raw = Buffer.from(ciphertext.slice(7), 'base64');
    const d = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
    d.setAAD(LocalSecretCipher.aad(context));
    d.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([d.update(raw.subarray(28)), d.final()]).toString('utf8');
  }
}
