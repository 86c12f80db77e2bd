/** Ports of the services (implemented by adapters; faked in unit tests). */
import type { Readable } from 'node:stream';

export interface IntakeQueue {
  /** Asks the scheduler to look at an app's waiting tasks. */
  kick(subAppId: number): Promise<void>;
}

export interface FlowStarter {
  /** Starts the task-flow execution named TaskId; resolves 'exists' if it was started before. */
  start(taskId: string, input: { taskId: string; subAppId: number }): Promise<'started' | 'exists'>;
}

export interface ObjectStorage {
  bucket: string;
  /** A time-limited GET URL for a worker's ffmpeg/ffprobe to stream the object. */
  presignGet(key: string, expiresInSeconds: number): Promise<string>;
  /** Streams a body into the bucket (multipart for large bodies). */
  putStream(key: string, body: Readable, contentType?: string): Promise<{ size: number }>;
  putFile(key: string, file: string, contentType?: string): Promise<{ size: number }>;
  /** The URL a business downloads an output from. */
  publicUrl(key: string): string;
}

export type Clock = () => number;
export const isoNow = (clock: Clock): string => new Date(clock()).toISOString();
