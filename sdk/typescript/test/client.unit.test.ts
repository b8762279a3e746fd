import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  AdminService,
  ConsentService,
  ConsentStatus,
  ConsentType,
  DEFAULT_RETRY,
  IzinClient,
  IzinError,
  VerificationMethod,
  VerificationService,
  VerificationStatus,
  backoffDelay,
  chunk,
  retriesAllowed,
  type FetchFn,
  type RetryOptions,
} from "@izinhq/izin";
import { fakeFetch, unavailable, type Answer } from "./fake-fetch.js";

const fast: RetryOptions = { maxAttempts: 3, initialBackoffMs: 1, maxBackoffMs: 50 };

function client(fetch: FetchFn, extra: { timeoutMs?: number; retry?: RetryOptions } = {}) {
  return new IzinClient({ baseUrl: "http://izin.test/", apiKey: "izin_k", fetch, retry: fast, ...extra });
}

const checkOk: Answer = {
  status: 200,
  body: {
    recipient: "+905321234567",
    recipient_type: "RECIPIENT_TYPE_INDIVIDUAL",
    brand: "CONF",
    results: [
      { type: "CONSENT_TYPE_SMS", status: "CONSENT_STATUS_GRANTED", allowed: true, consent_time: "2024-01-02T03:04:05Z" },
      { type: "CONSENT_TYPE_CALL", status: "CONSENT_STATUS_NONE", allowed: false, consent_time: null },
    ],
    a_field_from_a_newer_server: 1,
  },
};

const verification = (status: string) => ({
  verification: { id: "0b9f5d0e-4b7e-4c3f-9a53-3b1f0d1c2e3f", status, attempts_left: 3, types: ["CONSENT_TYPE_SMS"] },
});

async function rejects(p: Promise<unknown>): Promise<IzinError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof IzinError, `want IzinError, got ${e}`);
    return e;
  }
  assert.fail("the call resolved");
}

describe("requests", () => {
  test("check: POST with bearer key, proto field names and enum names; decodes the answer", async () => {
    const f = fakeFetch(checkOk);
    const res = await client(f).check("+90 532 123 45 67", ["SMS", ConsentType.CALL]);
    assert.equal(f.calls.length, 1);
    const c = f.calls[0]!;
    assert.equal(c.url, "http://izin.test/v1/consents:check");
    assert.equal(c.method, "POST");
    assert.equal(c.headers["Authorization"], "Bearer izin_k");
    assert.equal(c.headers["Content-Type"], "application/json");
    assert.deepEqual(c.body, { recipient: "+90 532 123 45 67", types: ["CONSENT_TYPE_SMS", "CONSENT_TYPE_CALL"] });
    assert.equal(res.recipient, "+905321234567");
    assert.equal(res.results[0]!.type, ConsentType.SMS);
    assert.equal(res.results[0]!.status, ConsentStatus.GRANTED);
    assert.equal(res.results[0]!.allowed, true);
    assert.equal(res.results[0]!.consentTime?.seconds, 1704164645n);
    assert.equal(res.results[1]!.consentTime, undefined);
  });

  test("startSMSVerification sends the SMS_CODE method and returns the verification", async () => {
    const f = fakeFetch({ status: 200, body: verification("VERIFICATION_STATUS_PENDING") });
    const v = await client(f).startSMSVerification("05321234567", ["SMS"], { idempotencyKey: "k1" });
    assert.deepEqual(f.calls[0]!.body, {
      recipient: "05321234567",
      types: ["CONSENT_TYPE_SMS"],
      method: "VERIFICATION_METHOD_SMS_CODE",
      idempotency_key: "k1",
    });
    assert.equal(v.status, VerificationStatus.PENDING);
    assert.equal(v.attemptsLeft, 3);
    assert.equal(VerificationMethod.SMS_CODE, 1);
  });

  test("startLandingPageVerification sends the LANDING_PAGE method and the customer's name", async () => {
    const body = verification("VERIFICATION_STATUS_PENDING");
    const f = fakeFetch({ status: 200, body: { verification: { ...body.verification, landing_url: "https://izin.example/l/abc" } } });
    const v = await client(f).startLandingPageVerification("05321234567", ["SMS", "CALL"], { firstName: "Ayşe" });
    assert.deepEqual(f.calls[0]!.body, {
      recipient: "05321234567",
      types: ["CONSENT_TYPE_SMS", "CONSENT_TYPE_CALL"],
      method: "VERIFICATION_METHOD_LANDING_PAGE",
      customer: { first_name: "Ayşe" },
    });
    assert.equal(v.landingUrl, "https://izin.example/l/abc");
    await client(f).startLandingPageVerification("05321234567", ["SMS"]);
    assert.equal((f.calls[1]!.body as Record<string, unknown>).customer, undefined, "no empty customer object");
  });

  test("path ids: submitCode, getVerification, resendCode, cancelVerification", async () => {
    const f = fakeFetch({ status: 200, body: verification("VERIFICATION_STATUS_VERIFIED") });
    const c = client(f);
    const res = await c.submitCode("a/b", "123456");
    assert.equal(res.verification?.status, VerificationStatus.VERIFIED);
    await c.getVerification("id1");
    await c.resendCode({ id: "id2" });
    await c.cancelVerification("id3");
    assert.deepEqual(
      f.calls.map((x) => [x.method, x.url, x.body]),
      [
        ["POST", "http://izin.test/v1/verifications/a%2Fb:submit", { code: "123456" }],
        ["GET", "http://izin.test/v1/verifications/id1", undefined],
        ["POST", "http://izin.test/v1/verifications/id2:resend", {}],
        ["POST", "http://izin.test/v1/verifications/id3:cancel", {}],
      ],
    );
    const e = await rejects(c.submitCode("", "123456"));
    assert.equal(e.code, "INVALID_ARGUMENT");
    assert.equal(e.field, "id");
    assert.equal(f.calls.length, 4);
  });

  test("GET parameters go in the query string", async () => {
    const f = fakeFetch({ status: 200, body: { messages: [], next_page_token: "" } });
    const c = client(f);
    await c.listMessages({ recipient: "+905321234567", pageSize: 5 });
    await c.listConsentEvents();
    assert.equal(f.calls[0]!.url, "http://izin.test/v1/messages?recipient=%2B905321234567&page_size=5");
    assert.equal(f.calls[1]!.url, "http://izin.test/v1/consents/events");
    assert.equal(f.calls[0]!.headers["Content-Type"], undefined);
  });

  test("reject and record", async () => {
    const f = fakeFetch({ status: 200, body: { events: [], results: [], recipient: "+905321234567" } });
    const c = client(f);
    await c.reject("+905321234567", ["SMS"]);
    await c.recordConsent({ recipient: "x@example.com", types: [ConsentType.EMAIL], consentTime: { seconds: 10n } });
    assert.equal(f.calls[0]!.url, "http://izin.test/v1/consents:reject");
    assert.deepEqual(f.calls[0]!.body, { recipient: "+905321234567", types: ["CONSENT_TYPE_SMS"] });
    assert.equal(f.calls[1]!.url, "http://izin.test/v1/consents");
    assert.deepEqual(f.calls[1]!.body, {
      recipient: "x@example.com",
      types: ["CONSENT_TYPE_EMAIL"],
      consent_time: "1970-01-01T00:00:10Z",
    });
  });

  test("an error answer rejects with the decoded IzinError", async () => {
    const f = fakeFetch({
      status: 400,
      body: {
        code: 3,
        message: "recipient: invalid",
        details: [{ "@type": "type.googleapis.com/google.rpc.BadRequest", field_violations: [{ field: "recipient", description: "invalid" }] }],
      },
    });
    const e = await rejects(client(f).check("12ab"));
    assert.equal(e.code, "INVALID_ARGUMENT");
    assert.equal(e.httpStatus, 400);
    assert.equal(e.field, "recipient");
    assert.equal(f.calls.length, 1, "INVALID_ARGUMENT is not retried");
  });

  test("unknown consent type names are refused", () => {
    assert.throws(() => client(fakeFetch(checkOk)).check("x", ["FAX" as "SMS"]), TypeError);
  });

  test("options are checked", () => {
    assert.throws(() => new IzinClient({ baseUrl: "", apiKey: "k" }), TypeError);
    assert.throws(() => new IzinClient({ baseUrl: "http://x", apiKey: "" }), TypeError);
    assert.throws(() => new IzinClient({ baseUrl: "http://x", apiKey: "k", retry: { maxAttempts: 0 } }), RangeError);
  });
});

describe("retries", () => {
  test("idempotent calls retry UNAVAILABLE and succeed", async () => {
    const f = fakeFetch(unavailable, unavailable, checkOk);
    const res = await client(f).check("+905321234567");
    assert.equal(res.recipient, "+905321234567");
    assert.equal(f.calls.length, 3);
  });

  test("they give up after maxAttempts with the last error", async () => {
    const f = fakeFetch(unavailable);
    const e = await rejects(client(f).getVerification("v1"));
    assert.equal(e.code, "UNAVAILABLE");
    assert.equal(e.httpStatus, 503);
    assert.equal(f.calls.length, 3);
  });

  test("network errors count as UNAVAILABLE", async () => {
    const f = fakeFetch({ error: new TypeError("fetch failed") }, checkOk);
    await client(f).check("+905321234567");
    assert.equal(f.calls.length, 2);
    const g = fakeFetch({ error: new TypeError("fetch failed") });
    const e = await rejects(client(g).submitCode("v1", "123456"));
    assert.equal(e.code, "UNAVAILABLE");
    assert.equal(e.httpStatus, 0);
    assert.ok(e.cause instanceof TypeError);
  });

  test("submitCode, resend and cancel are never retried", async () => {
    for (const call of [
      (c: IzinClient) => c.submitCode("v1", "123456"),
      (c: IzinClient) => c.resendCode("v1"),
      (c: IzinClient) => c.cancelVerification("v1"),
    ]) {
      const f = fakeFetch(unavailable, checkOk);
      const e = await rejects(call(client(f)));
      assert.equal(e.code, "UNAVAILABLE");
      assert.equal(f.calls.length, 1);
    }
  });

  test("reject, declared IDEMPOTENT in the proto, is retried", async () => {
    const f = fakeFetch(unavailable, { status: 200, body: { events: [], results: [] } });
    await client(f).reject("+905321234567", ["SMS"]);
    assert.equal(f.calls.length, 2);
  });

  test("retry decisions follow the descriptors' idempotency_level, for every method", () => {
    // Without an idempotency key: true where the proto declares
    // NO_SIDE_EFFECTS or IDEMPOTENT. A new method must be added here.
    const want: Record<string, boolean> = {
      CheckConsent: true, BatchCheckConsents: true, StreamCheckConsents: true, ListConsentEvents: true,
      WatchConsentEvents: true,
      RecordConsent: false, RejectConsent: true, ImportConsents: false,
      StartVerification: false, GetVerification: true, SubmitCode: false, ResendCode: false,
      CancelVerification: false,
      ListMessages: true, CreateBrand: false, ListBrands: true, CreateSource: false, ListSources: true,
      CreateApiKey: false, ListApiKeys: true, RevokeApiKey: false, SetIysConfig: true, GetIysStatus: true,
      ListIysUploads: true, CreateConsentText: false, ListConsentTexts: true, GetConsentText: true,
      CreateWebhook: false, ListWebhooks: true, DeleteWebhook: true, RotateWebhookSecret: false,
      ListWebhookDeliveries: true, ReplayWebhookDeliveries: false,
      SetSmsConfig: true, GetSmsStatus: true, SendTestSms: false, ListInboundMessages: true,
    };
    const seen = new Set<string>();
    for (const svc of [ConsentService, VerificationService, AdminService]) {
      for (const m of svc.methods) {
        seen.add(m.name);
        assert.ok(m.name in want, `${m.name} has no expected retry decision`);
        assert.equal(retriesAllowed(m, {}), want[m.name], m.name);
      }
    }
    assert.deepEqual([...seen].sort(), Object.keys(want).sort());
    assert.equal(retriesAllowed(ConsentService.method.recordConsent, { idempotencyKey: "k" }), true);
    assert.equal(retriesAllowed(VerificationService.method.submitCode, { idempotencyKey: "" }), false);
  });

  test("startVerification and recordConsent retry only with an idempotency key", async () => {
    const ok = { status: 200, body: verification("VERIFICATION_STATUS_PENDING") };
    let f = fakeFetch(unavailable, ok);
    await rejects(client(f).startSMSVerification("+905321234567", ["SMS"]));
    assert.equal(f.calls.length, 1);
    f = fakeFetch(unavailable, ok);
    await client(f).startSMSVerification("+905321234567", ["SMS"], { idempotencyKey: "k" });
    assert.equal(f.calls.length, 2);

    const recOk = { status: 200, body: { events: [], results: [] } };
    f = fakeFetch(unavailable, recOk);
    await rejects(client(f).recordConsent({ recipient: "+905321234567", types: [ConsentType.SMS] }));
    assert.equal(f.calls.length, 1);
    f = fakeFetch(unavailable, recOk);
    await client(f).recordConsent({ recipient: "+905321234567", types: [ConsentType.SMS], idempotencyKey: "k" });
    assert.equal(f.calls.length, 2);
  });

  test("RESOURCE_EXHAUSTED waits the server's retry delay", async () => {
    const limited: Answer = {
      status: 429,
      body: { code: 8, message: "slow down", details: [{ "@type": "type.googleapis.com/google.rpc.RetryInfo", retry_delay: "0.040s" }] },
    };
    const f = fakeFetch(limited, checkOk);
    const t0 = performance.now();
    await client(f).check("+905321234567");
    assert.equal(f.calls.length, 2);
    assert.ok(performance.now() - t0 >= 35, "waited at least the retry delay");
  });

  test("a retry delay longer than maxBackoffMs is not waited for", async () => {
    const limited: Answer = {
      status: 429,
      body: { code: 8, message: "slow down", details: [{ "@type": "type.googleapis.com/google.rpc.RetryInfo", retry_delay: "60s" }] },
    };
    const f = fakeFetch(limited, checkOk);
    const t0 = performance.now();
    const e = await rejects(client(f).check("+905321234567"));
    assert.equal(e.code, "RESOURCE_EXHAUSTED");
    assert.equal(e.retryAfterMs, 60_000);
    assert.equal(f.calls.length, 1);
    assert.ok(performance.now() - t0 < 1000);
  });

  test("maxAttempts 1 turns retries off", async () => {
    const f = fakeFetch(unavailable, checkOk);
    await rejects(client(f, { retry: { maxAttempts: 1 } }).check("+905321234567"));
    assert.equal(f.calls.length, 1);
  });

  test("backoff: exponential, capped, jittered, at least the server delay", () => {
    const p = { maxAttempts: 5, initialBackoffMs: 100, maxBackoffMs: 1000 };
    assert.deepEqual(DEFAULT_RETRY, { maxAttempts: 3, initialBackoffMs: 200, maxBackoffMs: 5000 });
    assert.equal(backoffDelay(1, p, undefined, () => 1), 100);
    assert.equal(backoffDelay(1, p, undefined, () => 0), 50);
    assert.equal(backoffDelay(2, p, undefined, () => 1), 200);
    assert.equal(backoffDelay(3, p, undefined, () => 1), 400);
    assert.equal(backoffDelay(5, p, undefined, () => 1), 1000);
    assert.equal(backoffDelay(5, p, undefined, () => 0), 500);
    assert.equal(backoffDelay(1, p, 700, () => 0), 700);
    assert.equal(backoffDelay(1, p, 1001, () => 0), undefined);
    for (let i = 0; i < 100; i++) {
      const d = backoffDelay(2, p, undefined)!;
      assert.ok(d >= 100 && d <= 200, `${d}`);
    }
  });
});

describe("timeouts and cancellation", () => {
  test("a call that takes too long fails with DEADLINE_EXCEEDED", async () => {
    const f = fakeFetch("hang");
    const t0 = performance.now();
    const e = await rejects(client(f, { timeoutMs: 50 }).check("+905321234567"));
    assert.equal(e.code, "DEADLINE_EXCEEDED");
    const took = performance.now() - t0;
    assert.ok(took >= 45 && took < 2000, `took ${took} ms`);
    assert.equal(f.calls.length, 1, "DEADLINE_EXCEEDED is not retried");
  });

  test("the deadline covers the retries", async () => {
    const f = fakeFetch(unavailable);
    // Backoff is 15–30 ms (jittered), so at most 1 + 300/15 calls fit. Generous margins: timers fire
    // late on a loaded machine, and the test is about bounds, not speed.
    const c = client(f, { timeoutMs: 300, retry: { maxAttempts: 100, initialBackoffMs: 30, maxBackoffMs: 30 } });
    const t0 = performance.now();
    const e = await rejects(c.check("+905321234567"));
    // The deadline ends the retries; the caller sees the real cause, not a bare timeout.
    assert.equal(e.code, "UNAVAILABLE");
    assert.ok(performance.now() - t0 < 3000);
    assert.ok(f.calls.length >= 2 && f.calls.length <= 21, `${f.calls.length} calls`);
  });

  test("the per-call timeout overrides the client's", async () => {
    const f = fakeFetch("hang");
    const e = await rejects(client(f, { timeoutMs: 60_000 }).check("+905321234567", undefined, { timeoutMs: 20 }));
    assert.equal(e.code, "DEADLINE_EXCEEDED");
  });

  test("an aborted signal cancels the call", async () => {
    const f = fakeFetch("hang");
    const ac = new AbortController();
    const p = client(f).check("+905321234567", undefined, { signal: ac.signal });
    setTimeout(() => ac.abort(new Error("user left")), 10);
    const e = await rejects(p);
    assert.equal(e.code, "CANCELLED");
    assert.equal((e.cause as Error).message, "user left");
    const e2 = await rejects(client(f).check("+905321234567", undefined, { signal: AbortSignal.abort() }));
    assert.equal(e2.code, "CANCELLED");
  });

  test("an abort during the backoff cancels the call", async () => {
    const f = fakeFetch(unavailable);
    const ac = new AbortController();
    const c = client(f, { retry: { maxAttempts: 3, initialBackoffMs: 5000, maxBackoffMs: 5000 } });
    const p = c.check("+905321234567", undefined, { signal: ac.signal });
    setTimeout(() => ac.abort(), 20);
    const e = await rejects(p);
    assert.equal(e.code, "CANCELLED");
    assert.equal(f.calls.length, 1);
  });
});

describe("checkMany", () => {
  test("chunk", () => {
    assert.deepEqual(chunk([1, 2, 3, 4, 5], 2), [[1, 2], [3, 4], [5]]);
    assert.deepEqual(chunk([], 3), []);
  });

  test("splits into batches of at most 1000 and keeps the order", async () => {
    const seen: number[] = [];
    const f: FetchFn = async (_url, init) => {
      const body = JSON.parse(init.body as string) as { checks: { recipient: string }[] };
      seen.push(body.checks.length);
      const items = body.checks.map((c) =>
        c.recipient === "bad"
          ? { result: null, error: { code: 3, message: "recipient: invalid", details: [
              { "@type": "type.googleapis.com/google.rpc.BadRequest", field_violations: [{ field: "recipient", description: "invalid" }] },
            ] } }
          : { result: { recipient: c.recipient, results: [] }, error: null },
      );
      return new Response(JSON.stringify({ items }), { status: 200 });
    };
    const checks = Array.from({ length: 2500 }, (_, i) => ({ recipient: i === 1234 ? "bad" : `r${i}` }));
    const items = await client(f).checkMany(checks, { concurrency: 2 });
    assert.deepEqual(seen.sort(), [1000, 1000, 500].sort());
    assert.equal(items.length, 2500);
    assert.equal(items[0]!.result?.recipient, "r0");
    assert.equal(items[2499]!.result?.recipient, "r2499");
    assert.equal(items[1234]!.result, undefined);
    const err = IzinError.fromStatus(items[1234]!.error!);
    assert.equal(err.code, "INVALID_ARGUMENT");
    assert.equal(err.field, "recipient");
    await assert.rejects(client(f).checkMany(checks, { chunkSize: 1001 }), RangeError);
  });
});
