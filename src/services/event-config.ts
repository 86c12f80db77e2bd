import { z } from 'zod';
import { ApiError } from '../domain/errors';
import { common, parseParams } from '../api/validation';
import { assertFetchable, type UrlPolicy } from '../adapters/safe-http';

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
  /** Tencent's callback key (letters and digits, ≤ 32): Sign = MD5(SignKey + T), and OpenVOD's HMAC key. '' = unsigned. */
  signKey: string;
}

export const DEFAULT_EVENT_CONFIG: EventConfig = {
  mode: 'PUSH',
  notificationUrl: '',
  uploadMediaCompleteEventSwitch: 'OFF',
  deleteMediaCompleteEventSwitch: 'OFF',
  persistenceCompleteEventSwitch: 'OFF',
  signKey: '',
};

export interface EventConfigRepository {
  get(subAppId: number): Promise<EventConfig>;
  update(subAppId: number, changes: Partial<EventConfig>, updateTime: string): Promise<void>;
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
  await deps.configs.update(
    subAppId,
    {
      mode: p.Mode,
      notificationUrl: p.NotificationUrl,
      uploadMediaCompleteEventSwitch: p.UploadMediaCompleteEventSwitch,
      deleteMediaCompleteEventSwitch: p.DeleteMediaCompleteEventSwitch,
      persistenceCompleteEventSwitch: p.PersistenceCompleteEventSwitch,
      signKey: p.SignKey,
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
