/**
 * Named errors of the core. Their literal `name`s are the `ErrorEquals` of the task-flow state machine's
 * Retry/Catch, and `ApiError` codes are Tencent's. Transient vs permanent is decided here, in one place.
 */

/** A failure worth retrying (throttling, a flaky network, a dependency briefly down). */
export class TransientError extends Error {
  override readonly name = 'TransientError';
}

/** Tencent task error codes (ErrCode of a subtask). */
export const ErrCode = {
  BadParameter: 40000,
  BadSource: 60000,
  Internal: 70000,
} as const;
export type ErrCodeValue = (typeof ErrCode)[keyof typeof ErrCode];

/** A failure that retrying will not fix: ends the subtask FAIL with this ErrCode and Message. */
export class PermanentError extends Error {
  override readonly name = 'PermanentError';
  constructor(
    readonly errCode: ErrCodeValue,
    message: string,
  ) {
    super(message);
  }
}

/** An error answered to an API caller in Tencent's format: `{"Response":{"Error":{"Code","Message"},"RequestId"}}`. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export const invalidParameter = (field: string, message: string): ApiError =>
  new ApiError('InvalidParameter', `${field}: ${message}`);
export const invalidParameterValue = (field: string, message: string): ApiError =>
  new ApiError(`InvalidParameterValue.${field.split('.')[0]}`, `${field}: ${message}`);

/** A conditional write lost: the state was not what the transition expected. */
export class ConflictError extends Error {
  override readonly name = 'ConflictError';
}

/** The error to throw for a transient failure: named TransientError, so the state machine's Retry matches it. */
export function asTransient(err: unknown, message: string): TransientError {
  return err instanceof TransientError ? err : new TransientError(message);
}

/** Classifies any thrown value: retry it, or end the work with an ErrCode. */
export function classify(err: unknown): { transient: boolean; errCode: ErrCodeValue; message: string } {
  if (err instanceof PermanentError) return { transient: false, errCode: err.errCode, message: err.message };
  if (err instanceof TransientError)
    return { transient: true, errCode: ErrCode.Internal, message: err.message };
  const e = err as {
    name?: string;
    message?: string;
    $retryable?: unknown;
    $metadata?: { httpStatusCode?: number };
  };
  const status = e?.$metadata?.httpStatusCode;
  const transientNames = new Set([
    'ThrottlingException',
    'ProvisionedThroughputExceededException',
    'RequestLimitExceeded',
    'InternalServerError',
    'ServiceUnavailable',
    'SlowDown',
    'TimeoutError',
    'ECONNRESET',
    'ECONNREFUSED',
    'EPIPE',
    'ETIMEDOUT',
  ]);
  const transient =
    Boolean(e?.$retryable) ||
    (e?.name !== undefined && transientNames.has(e.name)) ||
    (status !== undefined && status >= 500);
  return { transient, errCode: ErrCode.Internal, message: e?.message ?? String(err) };
}
