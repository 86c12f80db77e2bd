import { z } from 'zod';
import { ApiError } from '../domain/errors';
import { common, parseParams } from '../api/validation';
import { assertFetchable, type UrlPolicy } from '../adapters/safe-http';
import type { SecretCipher } from '../adapters/secret-cipher';

/**
 * Event notification configuration of an app (ModifyEventConfig / DescribeEventConfig). Every field of the
 * SDK's ModifyEventConfigRequest is accepted and stored; the switches whose events OpenVOD produces are
 * honoured (UploadMediaCompleteEventSwitch → NewFileUpload). The configuration applies to events created
 * after it changed: each event carries a snapshot of the mode and URL it was created under.
 */
export interface EventConfig {
  mode: 'PUSH' | 'PULL';
  /** '' = no URL (PUSH events then wait for PullEvents). */
  notificationUrl: string;
  uploadMediaCompleteEventSwitch: 'ON' | 'OFF';
  deleteMediaCompleteEventSwitch: 'ON' | 'OFF';
  persistenceCompleteEventSwitch: 'ON' | 'OFF';
  /**
   * Tencent's callback key (letters and digits, ≤ 32): Sign = MD5(SignKey + T), and OpenVOD's HMAC key; as stored,
   * encrypted at rest like app SecretKeys (`openSignKey` gives the plaintext, for signing only). None = unsigned.
   */
  signKey: StoredSignKey;
}

/**
 * The SignKey as the events table holds it: `sealed` by the SecretCipher (KMS on AWS), or, in an item written
 * before SignKeys were encrypted, `legacyPlaintext` (still honoured; sealed the next time SignKey is set).
 */
export type StoredSignKey = { sealed: string } | { legacyPlaintext: string } | undefined;

/** What ModifyEventConfig changes: absent fields are kept. */
export type EventConfigChanges = Partial<Omit<EventConfig, 'signKey'>> & {
  /** The sealed SignKey, or null to remove it (callbacks unsigned); either way a legacy plaintext one is dropped. */
  signKey?: { sealed: string } | null;
};

/**
 * The cipher's context binds a sealed SignKey to its app and purpose: it cannot be replayed as another app's
 * SignKey, nor as an app SecretKey (whose context is {secretId, subAppId}); on AWS the IAM policies grant
 * kms:Encrypt / kms:Decrypt only under `purpose = SignKey` (serverless.yml).
 */
export const signKeyContext = (subAppId: number): Record<string, string> => ({
  purpose: 'SignKey',
  subAppId: String(subAppId),
});

/** The plaintext SignKey, '' when there is none. */
export async function openSignKey(
  cipher: Pick<SecretCipher, 'decrypt'>,
  subAppId: number,
  stored: StoredSignKey,
): Promise<string> {
  if (!stored) return '';
  if ('legacyPlaintext' in stored) return stored.legacyPlaintext;
  return cipher.decrypt(stored.sealed, signKeyContext(subAppId));
}

export const DEFAULT_EVENT_CONFIG: EventConfig = {
  mode: 'PUSH',
  notificationUrl: '',
  uploadMediaCompleteEventSwitch: 'OFF',
  deleteMediaCompleteEventSwitch: 'OFF',
  persistenceCompleteEventSwitch: 'OFF',
  signKey: undefined,
};

export interface EventConfigRepository {
  get(subAppId: number): Promise<EventConfig>;
  update(subAppId: number, changes: EventConfigChanges, updateTime: string): Promise<void>;
}

const onOff = z.enum(['ON', 'OFF']);
const modifySchema = z
  .object({
    ...common,
    Mode: z.enum(['PUSH', 'PULL']).optional(),
    NotificationUrl: z.string().max(1024).optional(),
    UploadMediaCompleteEventSwitch: onOff.optional(),
    DeleteMediaCompleteEventSwitch: onOff.optional(),
    PersistenceCompleteEventSwitch: onOff.optional(),
    SignKey: z
      .string()
      .regex(/^[A-Za-z0-9]{0,32}$/, 'must be at most 32 letters and digits')
      .optional(),
  })
  .strict();
const describeSchema = z.object({ ...common }).strict();

export interface EventConfigDeps {
  configs: EventConfigRepository;
  /** Seals the SignKey before it is stored. */
  cipher: Pick<SecretCipher, 'encrypt'>;
  urlPolicy: UrlPolicy;
  clock: () => number;
}

export async function modifyEventConfig(
  deps: EventConfigDeps,
  subAppId: number,
  raw: unknown,
): Promise<object> {
  const p = parseParams(modifySchema, raw);
  if (p.NotificationUrl) {
    try {
      await assertFetchable(p.NotificationUrl, deps.urlPolicy);
    } catch (e) {
      throw new ApiError(
        'InvalidParameterValue.NotificationUrl',
        `NotificationUrl is refused: ${(e as Error).message}.`,
      );
    }
  }
  // '' removes the key; KMS cannot encrypt an empty plaintext, and there is nothing to hide.
  const signKey =
    p.SignKey === undefined
      ? undefined
      : p.SignKey === ''
        ? null
        : { sealed: await deps.cipher.encrypt(p.SignKey, signKeyContext(subAppId)) };
  await deps.configs.update(
    subAppId,
    {
      mode: p.Mode,
      notificationUrl: p.NotificationUrl,
      uploadMediaCompleteEventSwitch: p.UploadMediaCompleteEventSwitch,
      deleteMediaCompleteEventSwitch: p.DeleteMediaCompleteEventSwitch,
      persistenceCompleteEventSwitch: p.PersistenceCompleteEventSwitch,
      signKey,
    },
    new Date(deps.clock()).toISOString(),
  );
  return {};
}

/** The configuration, without SignKey (Tencent does not return it either). */
export async function describeEventConfig(
  deps: EventConfigDeps,
  subAppId: number,
  raw: unknown,
): Promise<object> {
  parseParams(describeSchema, raw);
  const c = await deps.configs.get(subAppId);
  return {
    Mode: c.mode,
    NotificationUrl: c.notificationUrl,
    UploadMediaCompleteEventSwitch: c.uploadMediaCompleteEventSwitch,
    DeleteMediaCompleteEventSwitch: c.deleteMediaCompleteEventSwitch,
    PersistenceCompleteEventSwitch: c.persistenceCompleteEventSwitch,
  };
}
