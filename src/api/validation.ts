import { z } from 'zod';
import { ApiError } from '../domain/errors';

/**
 * Validates action parameters with a zod schema and turns the first problem into Tencent's error codes:
 * a wrong type or an unknown/missing field is `InvalidParameter`, a value out of its range or set is
 * `InvalidParameterValue.<Field>`; the message names the field path.
 */
export function parseParams<S extends z.ZodTypeAny>(schema: S, params: unknown): z.infer<S> {
  const r = schema.safeParse(params);
  if (r.success) return r.data as z.infer<S>;
  throw toApiError(r.error);
}

export function toApiError(error: z.ZodError): ApiError {
  const issue = error.issues[0];
  const path = issue.path.map(String).join('.');
  // The code names the field: the top-level one (InvalidParameterValue.Sort), or inside a list of items
  // the item's field (MediaProcessTask.TranscodeTaskSet.0.Definition → InvalidParameterValue.Definition).
  // The message gives the full path.
  const lastIndex = issue.path.map((p) => typeof p === 'number').lastIndexOf(true);
  const top = String((lastIndex >= 0 ? issue.path[lastIndex + 1] : issue.path[0]) ?? issue.path[0] ?? '');
  switch (issue.code) {
    case 'invalid_type':
      if (issue.received === 'undefined') {
        return new ApiError('MissingParameter', `The parameter ${path} is required.`);
      }
      return new ApiError(
        'InvalidParameter',
        `The parameter ${path} must be of type ${issue.expected}, not ${issue.received}.`,
      );
    case 'unrecognized_keys':
      return new ApiError(
        'InvalidParameter',
        `Unknown parameter${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => (path ? `${path}.${k}` : k)).join(', ')}.`,
      );
    default:
      return new ApiError(
        top ? `InvalidParameterValue.${top}` : 'InvalidParameterValue',
        `The parameter ${path || '(body)'} is invalid: ${issue.message}.`,
      );
  }
}

/** ISO 8601 date-time as Tencent uses it (e.g. 2018-12-01T19:00:00+08:00 or …Z). */
export const isoDateTime = z
  .string()
  .refine((s) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(s) && !isNaN(Date.parse(s)), {
    message: 'must be an ISO 8601 date-time such as 2026-01-01T00:00:00Z',
  });

/** Fields every action accepts. */
export const common = { SubAppId: z.number().int().positive().optional() };
