/**
 * Long lists stored compactly, so results of thousands of files fit a DynamoDB item (400 KB).
 *
 * `{ $keys }` is the media library's form of a list of object keys (src/services/media-library.ts) and the
 * tasks table's form of a list of URLs: a folder plus a numbered run of names (`<dir><pre><n><post>` for n =
 * from, from + step, …, to; step 1 when absent) or a folder plus the names. The tasks and events tables also
 * store, through `compactValue`, a repeated value as `{ $same }`, a run of numbers as `{ $seq }` and a list
 * of objects with the same fields (e.g. PicInfoSet) as `{ $rows }`: one compacted column per field.
 * `expandValue(compactValue(v))` deep-equals `v`, and expandValue leaves a value without these forms as it is.
 */

/** A packed list of strings (keys or URLs). */
export interface PackedKeys {
  dir: string;
  pre?: string;
  from?: number;
  to?: number;
  /** Between two numbers of the run; 1 when absent. */
  step?: number;
  post?: string;
  names?: string[];
}

/** Lists shorter than this are stored as they are. */
export const PACK_MIN = 4;

const NUMBERED = /^(.*?)(0|[1-9]\d*)(\.[A-Za-z0-9]+)$/;

/** A non-empty list of strings as a folder plus a numbered run, or a folder plus its names. */
export function packKeys(keys: string[]): { $keys: PackedKeys } {
  const slash = keys[0].lastIndexOf('/');
  const dir = keys[0].slice(0, slash + 1);
  const names = keys.every((k) => k.startsWith(dir) && !k.slice(dir.length).includes('/'))
    ? keys.map((k) => k.slice(dir.length))
    : undefined;
  if (!names) return { $keys: { dir: '', names: keys } };
  const m = names.map((n) => NUMBERED.exec(n));
  if (m.every(Boolean)) {
    const [pre, post] = [m[0]![1], m[0]![3]];
    const from = Number(m[0]![2]);
    const step = names.length > 1 ? Number(m[1]![2]) - from : 1;
    if (
      Number.isSafeInteger(from) &&
      Number.isSafeInteger(step) &&
      step > 0 &&
      Number.isSafeInteger(from + step * (names.length - 1)) &&
      m.every((x, i) => x![1] === pre && x![3] === post && x![2] === String(from + step * i))
    ) {
      const to = from + step * (names.length - 1);
      return { $keys: { dir, pre, from, to, ...(step !== 1 ? { step } : {}), post } };
    }
  }
  return { $keys: { dir, names } };
}

export function unpackKeys(p: PackedKeys): string[] {
  if (p.names) return p.names.map((n) => p.dir + n);
  const out: string[] = [];
  const step = p.step ?? 1;
  if (!(step > 0)) return out;
  for (let i = p.from ?? 0; i <= (p.to ?? -1); i += step)
    out.push(`${p.dir}${p.pre ?? ''}${i}${p.post ?? ''}`);
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Any JSON value (a subtask's Output, an event's content)

interface Seq {
  from: number;
  step: number;
  n: number;
}
interface Rows {
  n: number;
  /** The fields of every row, in order, and one compacted column per field. */
  keys: string[];
  cols: unknown[];
}

const isPlain = (v: unknown): v is Record<string, unknown> => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
};

/** The one form an object is, when it has exactly one of the markers as its only field. */
function marker(v: Record<string, unknown>): '$keys' | '$same' | '$seq' | '$rows' | undefined {
  const k = Object.keys(v);
  if (k.length !== 1 || !isPlain(v[k[0]])) return undefined;
  return k[0] === '$keys' || k[0] === '$same' || k[0] === '$seq' || k[0] === '$rows' ? k[0] : undefined;
}

function packNumbers(list: number[]): { $seq: Seq } | undefined {
  const from = list[0];
  const step = list[1] - from;
  if (!Number.isFinite(step)) return undefined;
  return list.every((x, i) => Object.is(x, from + step * i))
    ? { $seq: { from, step, n: list.length } }
    : undefined;
}

function packRows(list: Array<Record<string, unknown>>): { $rows: Rows } | undefined {
  const keys = Object.keys(list[0]);
  const sig = keys.join('\u0000');
  if (keys.length === 0 || !list.every((o) => Object.keys(o).join('\u0000') === sig)) return undefined;
  return { $rows: { n: list.length, keys, cols: keys.map((k) => compactValue(list.map((o) => o[k]))) } };
}

/** `v` with its long lists compacted (see the top of this file). */
export function compactValue(v: unknown): unknown {
  if (Array.isArray(v)) {
    if (v.length >= PACK_MIN) {
      const first = JSON.stringify(v[0]);
      if (first !== undefined && v.every((x) => JSON.stringify(x) === first)) {
        return { $same: { n: v.length, value: compactValue(v[0]) } };
      }
      if (v.every((x) => typeof x === 'string')) {
        const packed = packKeys(v as string[]);
        // Without a folder or a run, a plain list is as small.
        if (packed.$keys.dir || packed.$keys.from !== undefined) return packed;
        return v;
      }
      if (v.every((x) => typeof x === 'number')) return packNumbers(v as number[]) ?? v;
      if (v.every(isPlain)) {
        const rows = packRows(v as Array<Record<string, unknown>>);
        if (rows) return rows;
      }
    }
    return v.map(compactValue);
  }
  if (isPlain(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, compactValue(x)]));
  return v;
}

/** The inverse of compactValue; a value without compacted lists comes back as it is. */
export function expandValue(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(expandValue);
  if (v instanceof Set) return [...(v as Set<unknown>)].map(expandValue);
  if (!isPlain(v)) return v;
  switch (marker(v)) {
    case '$keys':
      return unpackKeys(v.$keys as PackedKeys);
    case '$same': {
      const { n, value } = v.$same as { n: number; value: unknown };
      const one = expandValue(value);
      return Array.from({ length: n }, () => structuredClone(one));
    }
    case '$seq': {
      const { from, step, n } = v.$seq as Seq;
      return Array.from({ length: n }, (_, i) => from + step * i);
    }
    case '$rows': {
      const { n, keys, cols } = v.$rows as Rows;
      const columns = cols.map((c) => expandValue(c) as unknown[]);
      return Array.from({ length: n }, (_, i) => Object.fromEntries(keys.map((k, j) => [k, columns[j][i]])));
    }
    default:
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, expandValue(x)]));
  }
}

/** The size of a value as JSON, in bytes (about what it takes in a DynamoDB item). */
export const jsonBytes = (v: unknown): number => Buffer.byteLength(JSON.stringify(v) ?? '', 'utf8');
