import { toJson } from "@bufbuild/protobuf";
import { StatusSchema, type Status } from "./gen/google/rpc/status_pb.js";
import { registry } from "./registry.js";

/** gRPC status code names, indexed by their number. */
const CODE_NAMES = [
  "OK",
  "CANCELLED",
  "UNKNOWN",
  "INVALID_ARGUMENT",
  "DEADLINE_EXCEEDED",
  "NOT_FOUND",
  "ALREADY_EXISTS",
  "PERMISSION_DENIED",
  "RESOURCE_EXHAUSTED",
  "FAILED_PRECONDITION",
  "ABORTED",
  "OUT_OF_RANGE",
  "UNIMPLEMENTED",
  "INTERNAL",
  "UNAVAILABLE",
  "DATA_LOSS",
  "UNAUTHENTICATED",
] as const;

/** A gRPC status code name, e.g. "INVALID_ARGUMENT". */
export type ErrorCode = (typeof CODE_NAMES)[number];

/** One google.rpc.BadRequest field violation. */
export interface FieldViolation {
  /** The request field, in proto name form ("recipient", "types[1]", "code"). */
  field: string;
  description: string;
  /** The validation rule, when the server names one. */
  reason?: string;
}

/** The fields of an {@link IzinError}. */
export interface IzinErrorInit {
  code: ErrorCode;
  message: string;
  httpStatus?: number;
  violations?: FieldViolation[];
  reason?: string;
  domain?: string;
  metadata?: Record<string, string>;
  retryAfterMs?: number;
  details?: unknown[];
  cause?: unknown;
}

/**
 * An error from the izin API (or from reaching it): the gRPC status with its
 * google.rpc details, decoded.
 *
 * - `code`: the gRPC code name ("INVALID_ARGUMENT", "UNAUTHENTICATED", ...);
 *   "UNAVAILABLE" for network failures, "DEADLINE_EXCEEDED" when the
 *   client's timeout passed, "CANCELLED" when the caller's signal aborted.
 * - `httpStatus`: the HTTP status of the response (0 when there was none).
 * - `field` / `violations`: google.rpc.BadRequest field violations; `field` is
 *   the first one's field.
 * - `reason` / `domain` / `metadata`: google.rpc.ErrorInfo, e.g. reason
 *   "ERROR_REASON_INVALID_CODE" with metadata `{attempts_left: "2"}`.
 * - `retryAfterMs`: google.rpc.RetryInfo.retry_delay (or the Retry-After
 *   header), in milliseconds.
 */
export class IzinError extends Error {
  override readonly name = "IzinError";
  readonly code: ErrorCode;
  readonly httpStatus: number;
  readonly field: string | undefined;
  readonly violations: FieldViolation[];
  readonly reason: string | undefined;
  readonly domain: string | undefined;
  readonly metadata: Record<string, string>;
  readonly retryAfterMs: number | undefined;
  /** The status details as JSON objects, each with its "@type". */
  readonly details: unknown[];

  constructor(init: IzinErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.code = init.code;
    this.httpStatus = init.httpStatus ?? 0;
    this.violations = init.violations ?? [];
    this.field = this.violations[0]?.field;
    this.reason = init.reason;
    this.domain = init.domain;
    this.metadata = init.metadata ?? {};
    this.retryAfterMs = init.retryAfterMs;
    this.details = init.details ?? [];
  }

  /** The gRPC status code number of {@link code}. */
  get grpcCode(): number {
    return CODE_NAMES.indexOf(this.code);
  }

  /**
   * Decodes an error response of the REST gateway: `httpStatus` and the body
   * text, `{"code": 3, "message": "...", "details": [{"@type": ...}, ...]}`.
   * Bodies that are not such JSON (a proxy's HTML page, say) still give an
   * error whose code follows the HTTP status.
   */
  static fromHttp(httpStatus: number, bodyText: string, headers?: { get(name: string): string | null }): IzinError {
    let body: unknown;
    try {
      body = bodyText === "" ? undefined : JSON.parse(bodyText);
    } catch {
      body = undefined;
    }
    const retryAfterHeader = parseRetryAfter(headers?.get("retry-after") ?? null);
    if (isObject(body) && (typeof body["code"] === "number" || typeof body["message"] === "string")) {
      const err = fromStatusJson(body, httpStatus);
      if (err.retryAfterMs === undefined && retryAfterHeader !== undefined) {
        return new IzinError({ ...initOf(err), retryAfterMs: retryAfterHeader });
      }
      return err;
    }
    const text = bodyText.trim().slice(0, 200);
    return new IzinError({
      code: codeFromHttpStatus(httpStatus),
      httpStatus,
      message: `HTTP ${httpStatus}${text ? `: ${text}` : ""}`,
      retryAfterMs: retryAfterHeader,
    });
  }

  /**
   * Turns a google.rpc.Status (e.g. the `error` of a BatchCheckConsents item)
   * into an IzinError.
   */
  static fromStatus(status: Status): IzinError {
    const json = toJson(StatusSchema, status, { registry, useProtoFieldName: true });
    return fromStatusJson(isObject(json) ? json : {}, 0);
  }
}

function initOf(e: IzinError): IzinErrorInit {
  return {
    code: e.code,
    message: e.message,
    httpStatus: e.httpStatus,
    violations: e.violations,
    reason: e.reason,
    domain: e.domain,
    metadata: e.metadata,
    retryAfterMs: e.retryAfterMs,
    details: e.details,
  };
}

/** Decodes the JSON form of a google.rpc.Status (proto or JSON field names). */
function fromStatusJson(body: Record<string, unknown>, httpStatus: number): IzinError {
  const num = body["code"];
  const code: ErrorCode =
    typeof num === "number" && Number.isInteger(num) && num > 0 && num < CODE_NAMES.length
      ? CODE_NAMES[num]!
      : codeFromHttpStatus(httpStatus);
  const message = typeof body["message"] === "string" && body["message"] !== "" ? body["message"] : code;
  const details = Array.isArray(body["details"]) ? body["details"] : [];
  const init: IzinErrorInit = { code, message, httpStatus, details, violations: [], metadata: {} };
  for (const d of details) {
    if (!isObject(d)) continue;
    const type = typeof d["@type"] === "string" ? d["@type"] : "";
    const name = type.slice(type.lastIndexOf("/") + 1);
    switch (name) {
      case "google.rpc.BadRequest": {
        const vs = pick(d, "field_violations", "fieldViolations");
        if (Array.isArray(vs)) {
          for (const v of vs) {
            if (!isObject(v)) continue;
            const fv: FieldViolation = { field: str(v["field"]), description: str(v["description"]) };
            const reason = str(v["reason"]);
            if (reason) fv.reason = reason;
            init.violations!.push(fv);
          }
        }
        break;
      }
      case "google.rpc.ErrorInfo": {
        if (init.reason === undefined) {
          init.reason = str(d["reason"]) || undefined;
          init.domain = str(d["domain"]) || undefined;
          const md = d["metadata"];
          if (isObject(md)) {
            for (const [k, v] of Object.entries(md)) init.metadata![k] = String(v);
          }
        }
        break;
      }
      case "google.rpc.RetryInfo": {
        const ms = parseDuration(pick(d, "retry_delay", "retryDelay"));
        if (ms !== undefined) init.retryAfterMs = ms;
        break;
      }
    }
  }
  return new IzinError(init);
}

/**
 * The gRPC code for an HTTP status, as the gateway maps them (used when a
 * response has no status body).
 */
export function codeFromHttpStatus(httpStatus: number): ErrorCode {
  switch (httpStatus) {
    case 400:
      return "INVALID_ARGUMENT";
    case 401:
      return "UNAUTHENTICATED";
    case 403:
      return "PERMISSION_DENIED";
    case 404:
      return "NOT_FOUND";
    case 409:
      return "ABORTED";
    case 412:
      return "FAILED_PRECONDITION";
    case 429:
      return "RESOURCE_EXHAUSTED";
    case 499:
      return "CANCELLED";
    case 501:
      return "UNIMPLEMENTED";
    case 502:
    case 503:
      return "UNAVAILABLE";
    case 504:
      return "DEADLINE_EXCEEDED";
    default:
      return httpStatus >= 500 ? "INTERNAL" : "UNKNOWN";
  }
}

/** Parses a google.protobuf.Duration in JSON form ("60s", "0.250s") to milliseconds. */
export function parseDuration(v: unknown): number | undefined {
  if (typeof v === "string") {
    const m = /^(-?\d+(?:\.\d+)?)s$/.exec(v.trim());
    if (!m) return undefined;
    return Math.max(0, Math.round(parseFloat(m[1]!) * 1000));
  }
  if (isObject(v)) {
    // {"seconds": "60", "nanos": 0}, as some encoders write it.
    const s = Number(v["seconds"] ?? 0);
    const n = Number(v["nanos"] ?? 0);
    if (Number.isFinite(s) && Number.isFinite(n)) return Math.max(0, Math.round(s * 1000 + n / 1e6));
  }
  return undefined;
}

/** Parses a Retry-After header (delay-seconds or an HTTP date) to milliseconds. */
function parseRetryAfter(v: string | null): number | undefined {
  if (v === null || v.trim() === "") return undefined;
  if (/^\d+$/.test(v.trim())) return parseInt(v.trim(), 10) * 1000;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, t - Date.now());
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function pick(o: Record<string, unknown>, a: string, b: string): unknown {
  return o[a] !== undefined ? o[a] : o[b];
}

function str(v: unknown): string {
  return typeof v === "string" ? v : "";
}
