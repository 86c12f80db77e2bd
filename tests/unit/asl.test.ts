/**
 * Every statemachines/*.asl.json is valid Amazon States Language (asl-validator) once its
 * DefinitionSubstitutions placeholders are filled with plausible ARNs, and follows the task-flow design:
 * every Task retries, worker states inside a Map catch everything into the failure recorder.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as domainErrors from '../../src/domain/errors';

type AslValidator = (
  definition: object,
  opts?: { checkPaths?: boolean; checkArn?: boolean },
) => { isValid: boolean; errors: Array<{ message: string }>; errorsText: (sep?: string) => string };
// asl-validator 4 ships no type declarations; its CommonJS export is the function.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const aslValidator = require('asl-validator') as AslValidator;

const DIR = path.resolve(__dirname, '../../statemachines');
const files = readdirSync(DIR).filter((f) => f.endsWith('.asl.json'));

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
function plausible(name: string): string {
  if (/FunctionArn$/.test(name))
    return `arn:aws:lambda:${REGION}:${ACCOUNT}:function:openvod-dev-${name.replace(/FunctionArn$/, '')}`;
  if (/ClusterArn$/.test(name)) return `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/openvod-dev-workers`;
  if (/TaskDefinitionArn$/.test(name))
    return `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/openvod-dev-worker:1`;
  if (/Subnets?$/.test(name)) return 'subnet-0123456789abcdef0';
  if (/SecurityGroups?$/.test(name)) return 'sg-0123456789abcdef0';
  if (/StateMachineArn$/.test(name))
    return `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:openvod-dev-${name}`;
  if (/(Queue)Url$/.test(name)) return `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/openvod-dev-${name}`;
  if (/(Table)(Name)?$/.test(name)) return `openvod-dev-${name}`;
  if (/Bucket(Name)?$/.test(name)) return 'openvod-dev-media';
  return `arn:aws:lambda:${REGION}:${ACCOUNT}:function:openvod-dev-${name}`;
}

function substitute(text: string): { definition: Record<string, unknown>; placeholders: string[] } {
  const placeholders = new Set<string>();
  const out = text.replace(/\$\{([^}]+)\}/g, (_m, name: string) => {
    placeholders.add(name);
    return plausible(name);
  });
  return { definition: JSON.parse(out) as Record<string, unknown>, placeholders: [...placeholders] };
}

interface State {
  Type: string;
  Resource?: string;
  Next?: string;
  End?: boolean;
  Retry?: Array<{
    ErrorEquals: string[];
    MaxAttempts?: number;
    IntervalSeconds?: number;
    BackoffRate?: number;
  }>;
  Catch?: Array<{ ErrorEquals: string[]; Next: string; ResultPath?: string | null }>;
  ItemProcessor?: { States: Record<string, State>; StartAt: string };
  Iterator?: { States: Record<string, State>; StartAt: string };
  Branches?: Array<{ States: Record<string, State>; StartAt: string }>;
}
interface Scope {
  where: string;
  insideMap: boolean;
  states: Record<string, State>;
}

function scopes(states: Record<string, State>, where = 'top', insideMap = false): Scope[] {
  const out: Scope[] = [{ where, insideMap, states }];
  for (const [name, s] of Object.entries(states)) {
    const proc = s.ItemProcessor ?? s.Iterator;
    if (s.Type === 'Map' && proc) out.push(...scopes(proc.States, `${where}/${name}`, true));
    for (const [i, b] of (s.Branches ?? []).entries())
      out.push(...scopes(b.States, `${where}/${name}[${i}]`, insideMap));
  }
  return out;
}

const domainErrorNames = new Set(
  Object.values(domainErrors as Record<string, unknown>)
    .filter(
      (v): v is new (...a: unknown[]) => Error => typeof v === 'function' && v.prototype instanceof Error,
    )
    .map((C) => (Reflect.construct(C, [70000, 'x']) as Error).name),
);

it('finds the state machine files (task-flow at least)', () => {
  expect(files).toContain('task-flow.asl.json');
});

describe.each(files)('%s', (file) => {
  const text = readFileSync(path.join(DIR, file), 'utf8');
  const { definition, placeholders } = substitute(text);
  const all = scopes(definition.States as Record<string, State>);

  it('is valid ASL per asl-validator once the placeholders are substituted', () => {
    const r = aslValidator(structuredClone(definition));
    if (!r.isValid) throw new Error(`${file}: ${r.errorsText('\n')}`);
    expect(r.errors).toEqual([]);
  });

  it('is rejected by asl-validator when broken (so the check above means something)', () => {
    const broken = structuredClone(definition);
    broken.StartAt = 'NoSuchState';
    expect(aslValidator(broken).isValid).toBe(false);
  });

  it('gives every Task state a Retry with sane retriers', () => {
    const tasks = all.flatMap((s) =>
      Object.entries(s.states)
        .filter(([, st]) => st.Type === 'Task')
        .map(([n, st]) => ({ n, st, s })),
    );
    expect(tasks.length).toBeGreaterThan(0);
    for (const { n, st, s } of tasks) {
      const where = `${s.where}/${n}`;
      expect({ where, retry: Array.isArray(st.Retry) && st.Retry.length > 0 }).toEqual({
        where,
        retry: true,
      });
      st.Retry!.forEach((r, i) => {
        expect(r.ErrorEquals.length).toBeGreaterThan(0);
        expect(r.MaxAttempts ?? 3).toBeGreaterThanOrEqual(1);
        // ASL: States.ALL must be alone in its retrier and in the last one.
        if (r.ErrorEquals.includes('States.ALL')) {
          expect(r.ErrorEquals).toEqual(['States.ALL']);
          expect(i).toBe(st.Retry!.length - 1);
        }
        // A permanent failure is never retried.
        expect(r.ErrorEquals).not.toContain('PermanentError');
      });
    }
  });

  it('names only domain errors (src/domain/errors.ts) or AWS errors in Retry/Catch', () => {
    const names = all.flatMap((s) =>
      Object.values(s.states).flatMap((st) =>
        [...(st.Retry ?? []), ...(st.Catch ?? [])].flatMap((r) => r.ErrorEquals),
      ),
    );
    for (const n of names) {
      if (/^(States|Lambda|ECS)\./.test(n)) continue;
      expect(domainErrorNames).toContain(n);
    }
  });

  it('has Lambda task states retry the transient domain error', () => {
    for (const s of all) {
      for (const [n, st] of Object.entries(s.states)) {
        if (st.Type !== 'Task' || !/^arn:aws:lambda:/.test(st.Resource ?? '')) continue;
        const errors = (st.Retry ?? []).flatMap((r) => r.ErrorEquals);
        const retriesTransient = errors.includes('TransientError') || errors.includes('States.ALL');
        expect({ state: n, retriesTransient }).toEqual({ state: n, retriesTransient: true });
      }
    }
  });

  it('has every worker Task inside a Map catch States.ALL into a failure-recording Task', () => {
    const maps = all.filter((s) => s.insideMap);
    if (file === 'task-flow.asl.json') expect(maps.length).toBeGreaterThan(0);
    for (const s of maps) {
      const catchTargets = new Set(
        Object.values(s.states).flatMap((st) => (st.Catch ?? []).map((c) => c.Next)),
      );
      for (const [n, st] of Object.entries(s.states)) {
        if (st.Type !== 'Task' || catchTargets.has(n)) continue;
        const all = (st.Catch ?? []).find((c) => c.ErrorEquals.includes('States.ALL'));
        expect({ state: `${s.where}/${n}`, catchesAll: Boolean(all) }).toEqual({
          state: `${s.where}/${n}`,
          catchesAll: true,
        });
        const target = s.states[all!.Next];
        expect(target?.Type).toBe('Task');
        // The error is kept for the recorder, not thrown away.
        expect(all!.ResultPath).toMatch(/^\$\./);
      }
      for (const t of catchTargets) {
        expect(s.states[t]).toBeDefined();
        expect(s.states[t].Catch ?? []).not.toEqual(
          expect.arrayContaining([expect.objectContaining({ Next: t })]),
        );
      }
    }
  });

  if (file === 'task-flow.asl.json') {
    it('runs RunOnLambda and RunOnFargate in the Map and catches both into RecordFailure', () => {
      const map = all.find((s) => s.insideMap)!;
      expect(Object.keys(map.states)).toEqual(
        expect.arrayContaining(['RunOnLambda', 'RunOnFargate', 'RecordFailure']),
      );
      for (const n of ['RunOnLambda', 'RunOnFargate']) {
        expect(map.states[n].Catch).toEqual([
          expect.objectContaining({ ErrorEquals: ['States.ALL'], Next: 'RecordFailure' }),
        ]);
      }
      expect(map.states.RunOnFargate.Resource).toBe('arn:aws:states:::ecs:runTask.sync');
      expect(placeholders).toContain('WorkerFunctionArn');
    });
  }
});
