/** An application (Tencent's sub-application): the unit of tenancy. Every resource belongs to one. */
export interface App {
  subAppId: number;
  name: string;
  createdAt: string;
}

export interface AppKey {
  secretId: string;
  subAppId: number;
  /** Encrypted at rest (see SecretCipher). */
  secretKeyCipher: string;
  status: 'active' | 'revoked';
  createdAt: string;
}

/** Port: where apps and their keys are kept. */
export interface AppsRepository {
  nextSubAppId(): Promise<number>;
  putApp(app: App): Promise<void>;
  getApp(subAppId: number): Promise<App | undefined>;
  listApps(): Promise<App[]>;
  putKey(key: AppKey): Promise<void>;
  getKey(secretId: string): Promise<AppKey | undefined>;
  listKeys(subAppId: number): Promise<AppKey[]>;
  revokeKey(secretId: string): Promise<void>;
}

/** The first SubAppId handed out; Tencent's sub-application IDs look like 1500000001. */
export const FIRST_SUB_APP_ID = 1500000001;
