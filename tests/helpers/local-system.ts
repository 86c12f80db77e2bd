/**
 * Runs `npm start`'s entry point (tsx local/main.ts) as a child process for end-to-end tests, and the
 * admin CLI against it. Each system runs in its own process group so cleanup can reach every process it
 * started (tsx, its node child, the DynamoDB Local JVM) by that group's id.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { LocalCredentials } from '../../local/runtime';
import { freePortRange } from './ports';

export const ROOT = path.resolve(__dirname, '../..');
const TSX = path.join(ROOT, 'node_modules/.bin/tsx');

/** What `npm start` writes to <data dir>/credentials.json. */
export type Credentials = LocalCredentials;

export interface RunningSystem {
  child: ChildProcess;
  /** Everything the process wrote, stdout and stderr interleaved, line by line. */
  lines: string[];
  /** Milliseconds from spawn to the ready line. */
  readyMs: number;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function childEnv(port: number, dataDir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    OPENVOD_PORT: String(port),
    OPENVOD_DATA_DIR: dataDir,
    OPENVOD_LOG_LEVEL: 'INFO',
  };
  // Under jest the handlers' logger would be silent; the tests want to see (and check) the logs.
  delete env.JEST_WORKER_ID;
  return env;
}

/** Spawns the local system; resolves once it printed its ready line and the credential lines. */
export function startSystem(port: number, dataDir: string, timeoutMs = 60_000): Promise<RunningSystem> {
  const started = Date.now();
  const child = spawn(TSX, ['local/main.ts'], {
    cwd: ROOT,
    env: childEnv(port, dataDir),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const lines: string[] = [];
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  let readyMs = -1;
  return new Promise<RunningSystem>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`no ready line within ${timeoutMs} ms. Output:\n${lines.slice(-40).join('\n')}`));
    }, timeoutMs);
    const onLine = (line: string): void => {
      lines.push(line);
      if (readyMs < 0 && line.startsWith('OpenVOD ready on')) readyMs = Date.now() - started;
      if (readyMs >= 0 && line.startsWith('SQSEndpoint:')) {
        clearTimeout(timer);
        resolve({ child, lines, readyMs, exited });
      }
    };
    for (const stream of [child.stdout!, child.stderr!]) {
      let buf = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        buf += chunk;
        let i: number;
        while ((i = buf.indexOf('\n')) >= 0) {
          onLine(buf.slice(0, i));
          buf = buf.slice(i + 1);
        }
      });
    }
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(
        new Error(
          `the system exited before it was ready (code ${code}, signal ${signal}). Output:\n${lines.slice(-40).join('\n')}`,
        ),
      );
    });
  });
}

/** Sends SIGTERM to the system's own process (as `kill PID` would) and waits for its exit. */
export async function stopSystem(
  sys: RunningSystem,
  timeoutMs = 15_000,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }> {
  const started = Date.now();
  if (sys.child.exitCode !== null || sys.child.signalCode !== null) {
    return { code: sys.child.exitCode, signal: sys.child.signalCode, ms: 0 };
  }
  sys.child.kill('SIGTERM');
  const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), timeoutMs).unref());
  const r = await Promise.race([sys.exited, timeout]);
  if (r === 'timeout') throw new Error(`the system did not exit within ${timeoutMs} ms of SIGTERM`);
  return { ...r, ms: Date.now() - started };
}

/** Last-resort cleanup: SIGKILL the whole process group the system was started in. */
export function killGroup(sys: RunningSystem | undefined): void {
  const pid = sys?.child.pid;
  if (!pid) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Processes whose command line names this data directory (DynamoDB Local's -dbPath does). */
export async function listProcessesNaming(dataDir: string): Promise<Array<{ pid: number; args: string }>> {
  const out = await new Promise<string>((resolve, reject) =>
    execFile('ps', ['-eo', 'pid=,args='], { maxBuffer: 8 * 1024 * 1024 }, (err, stdout) =>
      err ? reject(err) : resolve(stdout),
    ),
  );
  return out
    .split('\n')
    .map((l) => /^\s*(\d+)\s+(.*)$/.exec(l))
    .filter((m): m is RegExpExecArray => Boolean(m))
    .map((m) => ({ pid: Number(m[1]), args: m[2] }))
    .filter((p) => p.args.includes(dataDir) && p.pid !== process.pid);
}

/** Runs `tsx local/cli.ts …args` against the system using dataDir; returns stdout, fails on a non-zero exit. */
export function runCli(dataDir: string, args: string[], timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, OPENVOD_DATA_DIR: dataDir };
    delete env.OPENVOD_MODE;
    execFile(
      TSX,
      ['local/cli.ts', ...args],
      { cwd: ROOT, env, timeout: timeoutMs },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`openvod ${args.join(' ')} failed: ${err.message}\n${stderr}`));
        else resolve(stdout);
      },
    );
  });
}

export function readCredentials(dataDir: string): Credentials {
  return JSON.parse(readFileSync(path.join(dataDir, 'credentials.json'), 'utf8')) as Credentials;
}

/** A fresh data directory under the OS tmpdir, free ports, the system started there, and its credentials. */
export async function startInFreshDir(
  prefix: string,
  timeoutMs = 90_000,
): Promise<{ sys: RunningSystem; dataDir: string; port: number; creds: Credentials }> {
  const dataDir = mkdtempSync(path.join(tmpdir(), prefix));
  const port = await freePortRange(5);
  const sys = await startSystem(port, dataDir, timeoutMs);
  return { sys, dataDir, port, creds: readCredentials(dataDir) };
}

/** afterAll's cleanup: SIGTERM (and wait), then SIGKILL whatever is left of the system's process group. */
export async function shutdownSystem(sys: RunningSystem | undefined): Promise<void> {
  if (sys) await stopSystem(sys).catch(() => killGroup(sys));
  killGroup(sys);
}
