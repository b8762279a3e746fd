import type { DescMethod } from "@bufbuild/protobuf";
import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import type { IzinError } from "./errors.js";

/**
 * Whether a call may be sent again after a failure: its method declares
 * `idempotency_level` NO_SIDE_EFFECTS or IDEMPOTENT in the proto (read from
 * the generated descriptor), or its request carries an `idempotency_key`,
 * with which the server replays the first answer.
 */
export function retriesAllowed(rpc: DescMethod, request: object): boolean {
  if (
    rpc.idempotency === MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS ||
    rpc.idempotency === MethodOptions_IdempotencyLevel.IDEMPOTENT
  ) {
    return true;
  }
  const key = (request as { idempotencyKey?: unknown }).idempotencyKey;
  return typeof key === "string" && key !== "";
}

/**
 * How idempotent calls are retried on UNAVAILABLE (HTTP 503, or no response
 * at all) and RESOURCE_EXHAUSTED (HTTP 429).
 */
export interface RetryOptions {
  /** Attempts in all, the first one included (default 3; 1 turns retries off). */
  maxAttempts?: number;
  /** Backoff before the second attempt (default 200 ms); it doubles each time. */
  initialBackoffMs?: number;
  /**
   * Longest wait between attempts (default 5000 ms). A server retry delay
   * (google.rpc.RetryInfo) longer than this is not waited for: the error is
   * thrown at once, with its `retryAfterMs`.
   */
  maxBackoffMs?: number;
}

/** {@link RetryOptions} with every default filled in. */
export type RetryPolicy = Required<RetryOptions>;

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 3, initialBackoffMs: 200, maxBackoffMs: 5000 };

export function retryPolicy(o: RetryOptions | undefined): RetryPolicy {
  const p = { ...DEFAULT_RETRY, ...stripUndefined(o ?? {}) };
  if (!Number.isInteger(p.maxAttempts) || p.maxAttempts < 1) {
    throw new RangeError(`retry.maxAttempts must be an integer >= 1, got ${p.maxAttempts}`);
  }
  if (!(p.initialBackoffMs >= 0) || !(p.maxBackoffMs >= 0)) {
    throw new RangeError("retry.initialBackoffMs and retry.maxBackoffMs must be >= 0");
  }
  return p;
}

/** Codes worth another attempt of an idempotent call. */
export function isRetryable(err: IzinError): boolean {
  return err.code === "UNAVAILABLE" || err.code === "RESOURCE_EXHAUSTED";
}

/**
 * The wait before attempt `attempt + 1` after a failed attempt `attempt`
 * (1-based): exponential backoff capped at maxBackoffMs, with "equal jitter"
 * (a random point in the upper half), and never shorter than the server's
 * retry delay. Returns undefined when the server asks for a longer wait than
 * maxBackoffMs.
 */
export function backoffDelay(
  attempt: number,
  policy: RetryPolicy,
  serverDelayMs: number | undefined,
  random: () => number = Math.random,
): number | undefined {
  if (serverDelayMs !== undefined && serverDelayMs > policy.maxBackoffMs) return undefined;
  const cap = Math.min(policy.maxBackoffMs, policy.initialBackoffMs * 2 ** (attempt - 1));
  const jittered = cap / 2 + random() * (cap / 2);
  return Math.round(Math.max(jittered, serverDelayMs ?? 0));
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
