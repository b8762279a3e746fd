import {
  create,
  fromJson,
  toJson,
  type DescMessage,
  type DescMethod,
  type JsonValue,
  type MessageInitShape,
  type MessageShape,
} from "@bufbuild/protobuf";
import { IzinError } from "./errors.js";
import {
  AdminService,
  ListMessagesRequestSchema,
  ListMessagesResponseSchema,
  type ListMessagesResponse,
} from "./gen/izin/v1/admin_service_pb.js";
import {
  BatchCheckConsentsRequestSchema,
  BatchCheckConsentsResponseSchema,
  CheckConsentRequestSchema,
  ConsentService,
  CheckConsentResponseSchema,
  ListConsentEventsRequestSchema,
  ListConsentEventsResponseSchema,
  RecordConsentRequestSchema,
  RecordConsentResponseSchema,
  RejectConsentRequestSchema,
  RejectConsentResponseSchema,
  type BatchCheckConsentsResponse,
  type CheckConsentItem,
  type CheckConsentResponse,
  type ListConsentEventsResponse,
  type RecordConsentResponse,
  type RejectConsentResponse,
} from "./gen/izin/v1/consent_service_pb.js";
import { ConsentType, VerificationMethod, type Verification } from "./gen/izin/v1/types_pb.js";
import {
  CancelVerificationRequestSchema,
  CancelVerificationResponseSchema,
  GetVerificationRequestSchema,
  GetVerificationResponseSchema,
  ResendCodeRequestSchema,
  ResendCodeResponseSchema,
  StartVerificationRequestSchema,
  StartVerificationResponseSchema,
  SubmitCodeRequestSchema,
  SubmitCodeResponseSchema,
  VerificationService,
  type CancelVerificationResponse,
  type GetVerificationResponse,
  type ResendCodeResponse,
  type StartVerificationResponse,
  type SubmitCodeResponse,
} from "./gen/izin/v1/verification_service_pb.js";
import { registry } from "./registry.js";
import {
  backoffDelay,
  isRetryable,
  retriesAllowed,
  retryPolicy,
  type RetryOptions,
  type RetryPolicy,
} from "./retry.js";

/** The fetch function the client calls (the global one by default). */
export type FetchFn = (input: string, init: RequestInit) => Promise<Response>;

/** Options of {@link IzinClient}. */
export interface IzinClientOptions {
  /** The REST gateway, e.g. "https://izin.example.com" (a path prefix is kept). */
  baseUrl: string;
  /** An izin API key, sent as `Authorization: Bearer <apiKey>`. */
  apiKey: string;
  /**
   * Deadline of each call in milliseconds, retries and their waits included
   * (default 30000; 0 means none). When it passes, the call fails with
   * code "DEADLINE_EXCEEDED".
   */
  timeoutMs?: number;
  /** Retries of idempotent calls; see {@link RetryOptions}. */
  retry?: RetryOptions;
  /** A fetch implementation to use instead of the global `fetch`. */
  fetch?: FetchFn;
}

/** Per-call options. */
export interface CallOptions {
  /** Aborts the call; it then fails with code "CANCELLED". */
  signal?: AbortSignal;
  /** Overrides the client's timeoutMs for this call. */
  timeoutMs?: number;
}

/** A consent type as the enum value or its short name ("SMS", "CALL", "EMAIL"). */
export type ConsentTypeLike = ConsentType | "SMS" | "CALL" | "EMAIL";

/** Request shapes: a generated message or a plain object of its fields. */
export type CheckConsentInput = MessageInitShape<typeof CheckConsentRequestSchema>;
export type BatchCheckConsentsInput = MessageInitShape<typeof BatchCheckConsentsRequestSchema>;
export type RecordConsentInput = MessageInitShape<typeof RecordConsentRequestSchema>;
export type RejectConsentInput = MessageInitShape<typeof RejectConsentRequestSchema>;
export type ListConsentEventsInput = MessageInitShape<typeof ListConsentEventsRequestSchema>;
export type StartVerificationInput = MessageInitShape<typeof StartVerificationRequestSchema>;
export type ListMessagesInput = MessageInitShape<typeof ListMessagesRequestSchema>;
type IdInput<S extends DescMessage> = string | MessageInitShape<S>;

interface Endpoint<I extends DescMessage, O extends DescMessage> {
  /** The RPC; its declared idempotency decides whether the call is retried. */
  rpc: DescMethod;
  method: "GET" | "POST";
  /** Path template; "{id}" is filled from the request's id field. */
  path: string;
  input: I;
  output: O;
}

/** The largest BatchCheckConsents request the server takes. */
export const MAX_BATCH_CHECKS = 1000;

const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * A client of the izin REST API (the gateway in front of the gRPC services),
 * built on `fetch`: it runs in Node 20+, browsers and React Native.
 *
 * Every method resolves to the generated protobuf-es response message, or
 * rejects with an {@link IzinError}. Calls that are safe to repeat are retried
 * on UNAVAILABLE and RESOURCE_EXHAUSTED: the methods the proto declares
 * NO_SIDE_EFFECTS or IDEMPOTENT (checks, gets, lists, RejectConsent), and
 * StartVerification and RecordConsent when they
 * carry an idempotency key (see {@link retriesAllowed}).
 */
export class IzinClient {
  readonly baseUrl: string;
  private readonly apiKey: string;
  private readonly timeoutMs: number;
  private readonly retry: RetryPolicy;
  private readonly fetchFn: FetchFn;

  constructor(options: IzinClientOptions) {
    if (!options || typeof options.baseUrl !== "string" || options.baseUrl === "") {
      throw new TypeError("IzinClient: baseUrl is required");
    }
    if (typeof options.apiKey !== "string" || options.apiKey === "") {
      throw new TypeError("IzinClient: apiKey is required");
    }
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.apiKey = options.apiKey;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!(this.timeoutMs >= 0)) throw new RangeError("IzinClient: timeoutMs must be >= 0");
    this.retry = retryPolicy(options.retry);
    const f = options.fetch;
    // Call the global fetch unbound: some runtimes reject fetch called as a method of another object.
    this.fetchFn = f ?? ((input, init) => globalThis.fetch(input, init));
  }

  // --- ConsentService ---

  /** ConsentService.CheckConsent: POST /v1/consents:check. */
  checkConsent(req: CheckConsentInput, options?: CallOptions): Promise<CheckConsentResponse> {
    return this.call(
      {
        rpc: ConsentService.method.checkConsent,
        method: "POST",
        path: "/v1/consents:check",
        input: CheckConsentRequestSchema,
        output: CheckConsentResponseSchema,
      },
      req,
      options,
    );
  }

  /**
   * ConsentService.BatchCheckConsents: POST /v1/consents:batchCheck (at most
   * {@link MAX_BATCH_CHECKS} checks; see {@link checkMany} for more).
   */
  batchCheckConsents(req: BatchCheckConsentsInput, options?: CallOptions): Promise<BatchCheckConsentsResponse> {
    return this.call(
      {
        rpc: ConsentService.method.batchCheckConsents,
        method: "POST",
        path: "/v1/consents:batchCheck",
        input: BatchCheckConsentsRequestSchema,
        output: BatchCheckConsentsResponseSchema,
      },
      req,
      options,
    );
  }

  /**
   * ConsentService.RecordConsent: POST /v1/consents. Retried only when it
   * carries an idempotency key.
   */
  recordConsent(req: RecordConsentInput, options?: CallOptions): Promise<RecordConsentResponse> {
    const msg = create(RecordConsentRequestSchema, req);
    return this.call(
      {
        rpc: ConsentService.method.recordConsent,
        method: "POST",
        path: "/v1/consents",
        input: RecordConsentRequestSchema,
        output: RecordConsentResponseSchema,
      },
      msg,
      options,
    );
  }

  /** ConsentService.RejectConsent: POST /v1/consents:reject (retried: the proto declares it IDEMPOTENT). */
  rejectConsent(req: RejectConsentInput, options?: CallOptions): Promise<RejectConsentResponse> {
    return this.call(
      {
        rpc: ConsentService.method.rejectConsent,
        method: "POST",
        path: "/v1/consents:reject",
        input: RejectConsentRequestSchema,
        output: RejectConsentResponseSchema,
      },
      req,
      options,
    );
  }

  /** ConsentService.ListConsentEvents: GET /v1/consents/events. */
  listConsentEvents(req: ListConsentEventsInput = {}, options?: CallOptions): Promise<ListConsentEventsResponse> {
    return this.call(
      {
        rpc: ConsentService.method.listConsentEvents,
        method: "GET",
        path: "/v1/consents/events",
        input: ListConsentEventsRequestSchema,
        output: ListConsentEventsResponseSchema,
      },
      req,
      options,
    );
  }

  // --- VerificationService ---

  /**
   * VerificationService.StartVerification: POST /v1/verifications. Retried
   * only when it carries an idempotency key.
   */
  startVerification(req: StartVerificationInput, options?: CallOptions): Promise<StartVerificationResponse> {
    const msg = create(StartVerificationRequestSchema, req);
    return this.call(
      {
        rpc: VerificationService.method.startVerification,
        method: "POST",
        path: "/v1/verifications",
        input: StartVerificationRequestSchema,
        output: StartVerificationResponseSchema,
      },
      msg,
      options,
    );
  }

  /** VerificationService.GetVerification: GET /v1/verifications/{id}. */
  getVerification(
    id: IdInput<typeof GetVerificationRequestSchema>,
    options?: CallOptions,
  ): Promise<GetVerificationResponse> {
    return this.call(
      {
        rpc: VerificationService.method.getVerification,
        method: "GET",
        path: "/v1/verifications/{id}",
        input: GetVerificationRequestSchema,
        output: GetVerificationResponseSchema,
      },
      typeof id === "string" ? { id } : id,
      options,
    );
  }

  /**
   * VerificationService.SubmitCode: POST /v1/verifications/{id}:submit. Never
   * retried (each wrong code uses up an attempt). A wrong code fails with
   * INVALID_ARGUMENT, field "code", reason "ERROR_REASON_INVALID_CODE" and
   * metadata.attempts_left.
   */
  submitCode(id: string, code: string, options?: CallOptions): Promise<SubmitCodeResponse> {
    return this.call(
      {
        rpc: VerificationService.method.submitCode,
        method: "POST",
        path: "/v1/verifications/{id}:submit",
        input: SubmitCodeRequestSchema,
        output: SubmitCodeResponseSchema,
      },
      { id, code },
      options,
    );
  }

  /** VerificationService.ResendCode: POST /v1/verifications/{id}:resend (not retried). */
  resendCode(id: IdInput<typeof ResendCodeRequestSchema>, options?: CallOptions): Promise<ResendCodeResponse> {
    return this.call(
      {
        rpc: VerificationService.method.resendCode,
        method: "POST",
        path: "/v1/verifications/{id}:resend",
        input: ResendCodeRequestSchema,
        output: ResendCodeResponseSchema,
      },
      typeof id === "string" ? { id } : id,
      options,
    );
  }

  /** VerificationService.CancelVerification: POST /v1/verifications/{id}:cancel (not retried). */
  cancelVerification(
    id: IdInput<typeof CancelVerificationRequestSchema>,
    options?: CallOptions,
  ): Promise<CancelVerificationResponse> {
    return this.call(
      {
        rpc: VerificationService.method.cancelVerification,
        method: "POST",
        path: "/v1/verifications/{id}:cancel",
        input: CancelVerificationRequestSchema,
        output: CancelVerificationResponseSchema,
      },
      typeof id === "string" ? { id } : id,
      options,
    );
  }

  // --- AdminService ---

  /**
   * AdminService.ListMessages: GET /v1/messages, newest first (needs an
   * admin key). In sandbox mode these are the SMS izin would have sent.
   */
  listMessages(req: ListMessagesInput = {}, options?: CallOptions): Promise<ListMessagesResponse> {
    return this.call(
      {
        rpc: AdminService.method.listMessages,
        method: "GET",
        path: "/v1/messages",
        input: ListMessagesRequestSchema,
        output: ListMessagesResponseSchema,
      },
      req,
      options,
    );
  }

  // --- Conveniences ---

  /** Checks a recipient's consent for the given types (all types when omitted). */
  check(recipient: string, types?: ConsentTypeLike[], options?: CallOptions): Promise<CheckConsentResponse> {
    return this.checkConsent({ recipient, types: consentTypes(types ?? []) }, options);
  }

  /**
   * Starts an SMS-code verification (the customer gets a code by SMS, then
   * you call {@link submitCode}) and resolves to the new Verification.
   */
  async startSMSVerification(
    recipient: string,
    types: ConsentTypeLike[],
    options?: CallOptions & { brand?: string; idempotencyKey?: string; operatorId?: string },
  ): Promise<Verification> {
    const res = await this.startVerification(
      {
        recipient,
        types: consentTypes(types),
        method: VerificationMethod.SMS_CODE,
        brand: options?.brand ?? "",
        idempotencyKey: options?.idempotencyKey ?? "",
        operatorId: options?.operatorId ?? "",
      },
      options,
    );
    if (!res.verification) {
      throw new IzinError({ code: "INTERNAL", message: "StartVerification answered without a verification" });
    }
    return res.verification;
  }

  /**
   * Starts a landing-page verification: the customer gets an SMS with a link
   * to a consent page (also in the answer's `landingUrl`, e.g. for a QR
   * code), ticks the ETK box (and, freely, the KVKK box), and receives the
   * activation code, which you pass to {@link submitCode}.
   */
  async startLandingPageVerification(
    recipient: string,
    types: ConsentTypeLike[],
    options?: CallOptions & {
      brand?: string;
      idempotencyKey?: string;
      operatorId?: string;
      firstName?: string;
      lastName?: string;
    },
  ): Promise<Verification> {
    const res = await this.startVerification(
      {
        recipient,
        types: consentTypes(types),
        method: VerificationMethod.LANDING_PAGE,
        brand: options?.brand ?? "",
        idempotencyKey: options?.idempotencyKey ?? "",
        operatorId: options?.operatorId ?? "",
        ...(options?.firstName || options?.lastName
          ? { customer: { firstName: options.firstName ?? "", lastName: options.lastName ?? "" } }
          : {}),
      },
      options,
    );
    if (!res.verification) {
      throw new IzinError({ code: "INTERNAL", message: "StartVerification answered without a verification" });
    }
    return res.verification;
  }

  /** Records the recipient's rejection (RET) of the given types (all types when empty). */
  reject(recipient: string, types: ConsentTypeLike[], options?: CallOptions): Promise<RejectConsentResponse> {
    return this.rejectConsent({ recipient, types: consentTypes(types) }, options);
  }

  /**
   * Checks any number of recipients through BatchCheckConsents, in requests
   * of at most `chunkSize` (default {@link MAX_BATCH_CHECKS}) checks, up to
   * `concurrency` (default 1) at a time. Resolves to one item per check, in
   * order; a check that failed alone has its `error` set (see
   * IzinError.fromStatus), while a failed request rejects the whole call.
   */
  async checkMany(
    checks: CheckConsentInput[],
    options?: CallOptions & { chunkSize?: number; concurrency?: number },
  ): Promise<CheckConsentItem[]> {
    const size = options?.chunkSize ?? MAX_BATCH_CHECKS;
    const concurrency = options?.concurrency ?? 1;
    if (!Number.isInteger(size) || size < 1 || size > MAX_BATCH_CHECKS) {
      throw new RangeError(`checkMany: chunkSize must be an integer in 1..${MAX_BATCH_CHECKS}`);
    }
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new RangeError("checkMany: concurrency must be an integer >= 1");
    }
    const chunks = chunk(checks, size);
    const results: CheckConsentItem[][] = new Array(chunks.length);
    let next = 0;
    const worker = async () => {
      while (next < chunks.length) {
        const i = next++;
        const part = chunks[i]!;
        const res = await this.batchCheckConsents({ checks: part }, options);
        if (res.items.length !== part.length) {
          throw new IzinError({
            code: "INTERNAL",
            message: `BatchCheckConsents answered ${res.items.length} items for ${part.length} checks`,
          });
        }
        results[i] = res.items;
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, chunks.length) }, worker));
    return results.flat();
  }

  // --- transport ---

  private async call<I extends DescMessage, O extends DescMessage>(
    ep: Endpoint<I, O>,
    req: MessageInitShape<I>,
    options: CallOptions | undefined,
  ): Promise<MessageShape<O>> {
    const msg = create(ep.input, req);
    const json = toJson(ep.input, msg, { useProtoFieldName: true, registry }) as Record<string, JsonValue>;
    let path = ep.path;
    if (path.includes("{id}")) {
      const id = json["id"];
      if (typeof id !== "string" || id === "") {
        throw new IzinError({
          code: "INVALID_ARGUMENT",
          message: "id: value is required",
          violations: [{ field: "id", description: "value is required" }],
        });
      }
      path = path.replace("{id}", encodeURIComponent(id));
      delete json["id"];
    }
    let url = this.baseUrl + path;
    const headers: Record<string, string> = {
      Authorization: `Bearer ${this.apiKey}`,
      Accept: "application/json",
    };
    let body: string | undefined;
    if (ep.method === "GET") {
      const q = queryString(json);
      if (q) url += "?" + q;
    } else {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(json);
    }

    const timeoutMs = options?.timeoutMs ?? this.timeoutMs;
    const deadline = timeoutMs > 0 ? Date.now() + timeoutMs : Infinity;
    const maxAttempts = retriesAllowed(ep.rpc, msg) ? this.retry.maxAttempts : 1;
    for (let attempt = 1; ; attempt++) {
      try {
        const resJson = await this.attempt(url, { method: ep.method, headers, body }, deadline, options?.signal);
        try {
          return fromJson(ep.output, resJson, { ignoreUnknownFields: true, registry });
        } catch (e) {
          throw new IzinError({
            code: "INTERNAL",
            httpStatus: 200,
            message: `cannot decode the ${ep.output.typeName} response: ${(e as Error).message}`,
            cause: e,
          });
        }
      } catch (e) {
        if (!(e instanceof IzinError) || attempt >= maxAttempts || !isRetryable(e)) throw e;
        const wait = backoffDelay(attempt, this.retry, e.retryAfterMs);
        if (wait === undefined || Date.now() + wait >= deadline) throw e;
        await sleep(wait, options?.signal);
        // A timer that fires late (a busy event loop) must not turn the real cause into a bare timeout.
        if (Date.now() >= deadline) throw e;
      }
    }
  }

  /** One HTTP exchange: resolves to the parsed JSON of a 2xx answer, or rejects with an IzinError. */
  private async attempt(
    url: string,
    init: { method: string; headers: Record<string, string>; body: string | undefined },
    deadline: number,
    signal: AbortSignal | undefined,
  ): Promise<JsonValue> {
    if (signal?.aborted) throw cancelled(signal);
    const controller = new AbortController();
    let timedOut = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    if (deadline !== Infinity) {
      const left = deadline - Date.now();
      if (left <= 0) throw deadlineExceeded();
      timer = setTimeout(() => {
        timedOut = true;
        controller.abort();
      }, left);
    }
    const onAbort = () => controller.abort();
    signal?.addEventListener("abort", onAbort);
    try {
      let res: Response;
      let text: string;
      try {
        const reqInit: RequestInit = { method: init.method, headers: init.headers, signal: controller.signal };
        if (init.body !== undefined) reqInit.body = init.body;
        res = await this.fetchFn(url, reqInit);
        text = await res.text();
      } catch (e) {
        if (timedOut) throw deadlineExceeded(e);
        if (signal?.aborted) throw cancelled(signal);
        throw new IzinError({
          code: "UNAVAILABLE",
          message: `cannot reach izin at ${this.baseUrl}: ${(e as Error)?.message ?? String(e)}`,
          cause: e,
        });
      }
      if (!res.ok) throw IzinError.fromHttp(res.status, text, res.headers);
      try {
        return text === "" ? {} : (JSON.parse(text) as JsonValue);
      } catch (e) {
        throw new IzinError({
          code: "INTERNAL",
          httpStatus: res.status,
          message: `the response is not JSON: ${text.slice(0, 200)}`,
          cause: e,
        });
      }
    } finally {
      if (timer !== undefined) clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    }
  }
}

/** Maps short names ("SMS") and enum values to ConsentType values. */
export function consentTypes(types: ConsentTypeLike[]): ConsentType[] {
  return types.map((t) => {
    if (typeof t === "number") return t;
    const v = ConsentType[t as keyof typeof ConsentType];
    if (v === undefined || typeof v !== "number" || v === ConsentType.UNSPECIFIED) {
      throw new TypeError(`unknown consent type ${JSON.stringify(t)} (want SMS, CALL or EMAIL)`);
    }
    return v;
  });
}

/** Splits items into arrays of at most `size`. */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * The query string of a GET request from its JSON form: repeated fields
 * repeat the parameter, nested messages use dotted names (as the gateway
 * reads them).
 */
function queryString(json: Record<string, JsonValue>): string {
  const params: string[] = [];
  const add = (key: string, v: JsonValue) => {
    if (v === null) return;
    if (Array.isArray(v)) {
      for (const x of v) add(key, x);
    } else if (typeof v === "object") {
      for (const [k, x] of Object.entries(v)) add(`${key}.${k}`, x);
    } else {
      params.push(`${encodeURIComponent(key)}=${encodeURIComponent(String(v))}`);
    }
  };
  for (const [k, v] of Object.entries(json)) add(k, v);
  return params.join("&");
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(cancelled(signal));
    const onAbort = () => {
      clearTimeout(timer);
      reject(cancelled(signal!));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function cancelled(signal: AbortSignal): IzinError {
  return new IzinError({ code: "CANCELLED", message: "the call was cancelled", cause: signal.reason });
}

function deadlineExceeded(cause?: unknown): IzinError {
  return new IzinError({ code: "DEADLINE_EXCEEDED", message: "the call timed out", cause });
}
