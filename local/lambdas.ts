/**
 * Runs the Lambda handlers declared in serverless.yml in this process, as Lambda would call them: the
 * exported handler of the module named by `handler`, with a Lambda-shaped context.
 */
import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import type { Context } from 'aws-lambda';
import type { FunctionDef } from './serverless-config';

type Handler = (event: unknown, context: Context) => Promise<unknown>;

export class LocalLambdas {
  private readonly byKey = new Map<string, FunctionDef>();
  private readonly loaded = new Map<string, Handler>();

  constructor(
    private readonly root: string,
    functions: FunctionDef[],
  ) {
    for (const f of functions) {
      this.byKey.set(f.name, f);
      this.byKey.set(f.fullName, f);
      this.byKey.set(f.arn, f);
    }
  }

  get(nameOrArn: string): FunctionDef {
    const f = this.byKey.get(nameOrArn) ?? this.byKey.get(nameOrArn.replace(/:(\$LATEST|\d+)$/, ''));
    if (!f) throw Object.assign(new Error(`Function not found: ${nameOrArn}`), { name: 'ResourceNotFoundException' });
    return f;
  }

  /** Loads every handler module now, so the first request does not pay for it. */
  preload(): void {
    for (const f of new Set(this.byKey.values())) this.handlerOf(f);
  }

  async invoke(nameOrArn: string, event: unknown): Promise<unknown> {
    const f = this.get(nameOrArn);
    const handler = this.handlerOf(f);
    const deadline = Date.now() + f.timeoutSeconds * 1000;
    const context: Context = {
      callbackWaitsForEmptyEventLoop: false,
      functionName: f.fullName,
      functionVersion: '$LATEST',
      invokedFunctionArn: f.arn,
      memoryLimitInMB: '1024',
      awsRequestId: randomUUID(),
      logGroupName: `/aws/lambda/${f.fullName}`,
      logStreamName: 'local',
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
      done: () => undefined,
      fail: () => undefined,
      succeed: () => undefined,
    };
    return handler(event, context);
  }

  private handlerOf(f: FunctionDef): Handler {
    const hit = this.loaded.get(f.name);
    if (hit) return hit;
    const dot = f.handler.lastIndexOf('.');
    const file = path.resolve(this.root, f.handler.slice(0, dot));
    const exportName = f.handler.slice(dot + 1);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(file) as Record<string, unknown>;
    const h = mod[exportName];
    if (typeof h !== 'function') throw new Error(`${f.handler}: no exported function ${exportName}`);
    this.loaded.set(f.name, h as Handler);
    return h as Handler;
  }
}
