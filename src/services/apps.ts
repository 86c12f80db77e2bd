import { randomBytes } from 'node:crypto';
import type { App, AppsRepository } from '../domain/apps';
import type { SecretCipher } from '../adapters/secret-cipher';

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
function randomAlnum(n: number): string {
  const bytes = randomBytes(n * 2);
  let out = '';
  for (let i = 0; out.length < n; i++) {
    const b = bytes[i % bytes.length];
    if (b < 248) out += ALNUM[b % 62]; // 248 = 4*62: no modulo bias
    if (i > n * 8) return out + randomAlnum(n - out.length);
  }
  return out;
}

export interface Credentials {
  subAppId: number;
  secretId: string;
  secretKey: string;
}

/** Apps and their API keys: create, list, rotate; resolve a SecretId to its app and secret. */
export class AppsService {
  private readonly cache = new Map<string, { at: number; value: { subAppId: number; secretKey: string } | undefined }>();
  constructor(
    private readonly repo: AppsRepository,
    private readonly cipher: SecretCipher,
    private readonly clock: () => number = Date.now,
    /** How long a resolved key is cached in a warm process; bounds how long a revoked key still works. */
    private readonly cacheMs = 30_000,
  ) {}

  async createApp(name: string): Promise<App & Credentials> {
    const subAppId = await this.repo.nextSubAppId();
    const app: App = { subAppId, name, createdAt: new Date(this.clock()).toISOString() };
    await this.repo.putApp(app);
    const creds = await this.issueKey(subAppId);
    return { ...app, ...creds };
  }

  listApps(): Promise<App[]> {
    return this.repo.listApps();
  }

  /** Issues a new key for the app and revokes every older one. */
  async rotateKey(subAppId: number): Promise<Credentials> {
    if (!(await this.repo.getApp(subAppId))) throw new Error(`app ${subAppId} does not exist`);
    const old = await this.repo.listKeys(subAppId);
    const creds = await this.issueKey(subAppId);
    for (const k of old) if (k.status === 'active') await this.repo.revokeKey(k.secretId);
    this.cache.clear();
    return creds;
  }

  async resolve(secretId: string): Promise<{ subAppId: number; secretKey: string } | undefined> {
    const hit = this.cache.get(secretId);
    const now = this.clock();
    if (hit && now - hit.at < this.cacheMs) return hit.value;
    const key = await this.repo.getKey(secretId);
    const value =
      key && key.status === 'active'
        ? {
            subAppId: key.subAppId,
            secretKey: await this.cipher.decrypt(key.secretKeyCipher, { secretId, subAppId: String(key.subAppId) }),
          }
        : undefined;
    if (this.cache.size > 1000) this.cache.clear();
    this.cache.set(secretId, { at: now, value });
    return value;
  }

  private async issueKey(subAppId: number): Promise<Credentials> {
    const secretId = `AKID${randomAlnum(32)}`;
    const secretKey = randomAlnum(32);
    await this.repo.putKey({
      secretId,
      subAppId,
      secretKeyCipher: await this.cipher.encrypt(secretKey, { secretId, subAppId: String(subAppId) }),
      status: 'active',
      createdAt: new Date(this.clock()).toISOString(),
    });
    return { subAppId, secretId, secretKey };
  }
}
