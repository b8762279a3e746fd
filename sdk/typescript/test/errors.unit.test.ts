import assert from "node:assert/strict";
import { test } from "node:test";
import { fromJson } from "@bufbuild/protobuf";
import { CheckConsentItemSchema, IzinError, codeFromHttpStatus, parseDuration, registry } from "@izinhq/izin";

// A wrong activation code, as the REST gateway answers it.
const wrongCode = {
  code: 3,
  message: "code: the code is wrong",
  details: [
    {
      "@type": "type.googleapis.com/google.rpc.BadRequest",
      field_violations: [{ field: "code", description: "the code is wrong" }],
    },
    {
      "@type": "type.googleapis.com/google.rpc.ErrorInfo",
      reason: "ERROR_REASON_INVALID_CODE",
      domain: "izin.dev",
      metadata: { attempts_left: "2" },
    },
  ],
};

test("decodes a REST error body: code, field, violations, ErrorInfo", () => {
  const e = IzinError.fromHttp(400, JSON.stringify(wrongCode));
  assert.ok(e instanceof IzinError);
  assert.ok(e instanceof Error);
  assert.equal(e.name, "IzinError");
  assert.equal(e.code, "INVALID_ARGUMENT");
  assert.equal(e.grpcCode, 3);
  assert.equal(e.httpStatus, 400);
  assert.equal(e.message, "code: the code is wrong");
  assert.equal(e.field, "code");
  assert.deepEqual(e.violations, [{ field: "code", description: "the code is wrong" }]);
  assert.equal(e.reason, "ERROR_REASON_INVALID_CODE");
  assert.equal(e.domain, "izin.dev");
  assert.deepEqual(e.metadata, { attempts_left: "2" });
  assert.equal(e.retryAfterMs, undefined);
  assert.equal(e.details.length, 2);
});

test("the first field violation is the field", () => {
  const e = IzinError.fromHttp(
    400,
    JSON.stringify({
      code: 3,
      message: "invalid",
      details: [
        {
          "@type": "type.googleapis.com/google.rpc.BadRequest",
          fieldViolations: [
            { field: "recipient", description: "not a phone number", reason: "string.phone" },
            { field: "types[0]", description: "unknown" },
          ],
        },
      ],
    }),
  );
  assert.equal(e.field, "recipient");
  assert.equal(e.violations.length, 2);
  assert.equal(e.violations[0]!.reason, "string.phone");
  assert.equal(e.reason, undefined);
  assert.deepEqual(e.metadata, {});
});

test("RetryInfo.retry_delay becomes retryAfterMs", () => {
  const e = IzinError.fromHttp(
    429,
    JSON.stringify({
      code: 8,
      message: "too many verifications",
      details: [
        { "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason: "ERROR_REASON_RATE_LIMITED", domain: "izin.dev" },
        { "@type": "type.googleapis.com/google.rpc.RetryInfo", retry_delay: "60s" },
      ],
    }),
  );
  assert.equal(e.code, "RESOURCE_EXHAUSTED");
  assert.equal(e.reason, "ERROR_REASON_RATE_LIMITED");
  assert.equal(e.retryAfterMs, 60_000);
});

test("a Retry-After header is used when the body has no RetryInfo", () => {
  const e = IzinError.fromHttp(429, JSON.stringify({ code: 8, message: "slow down" }), new Headers({ "Retry-After": "7" }));
  assert.equal(e.retryAfterMs, 7000);
});

test("UNAUTHENTICATED", () => {
  const e = IzinError.fromHttp(401, JSON.stringify({ code: 16, message: "invalid API key", details: [] }));
  assert.equal(e.code, "UNAUTHENTICATED");
  assert.equal(e.field, undefined);
});

test("a body that is not a status falls back to the HTTP status", () => {
  const e = IzinError.fromHttp(503, "<html>Service Unavailable</html>");
  assert.equal(e.code, "UNAVAILABLE");
  assert.equal(e.httpStatus, 503);
  assert.match(e.message, /HTTP 503/);
  assert.equal(IzinError.fromHttp(502, "").code, "UNAVAILABLE");
  assert.equal(IzinError.fromHttp(404, "not found").code, "NOT_FOUND");
  assert.equal(IzinError.fromHttp(418, "").code, "UNKNOWN");
  assert.equal(IzinError.fromHttp(500, "{}").code, "INTERNAL");
});

test("HTTP status to code", () => {
  assert.equal(codeFromHttpStatus(400), "INVALID_ARGUMENT");
  assert.equal(codeFromHttpStatus(401), "UNAUTHENTICATED");
  assert.equal(codeFromHttpStatus(403), "PERMISSION_DENIED");
  assert.equal(codeFromHttpStatus(429), "RESOURCE_EXHAUSTED");
  assert.equal(codeFromHttpStatus(503), "UNAVAILABLE");
  assert.equal(codeFromHttpStatus(504), "DEADLINE_EXCEEDED");
});

test("durations", () => {
  assert.equal(parseDuration("60s"), 60_000);
  assert.equal(parseDuration("1.5s"), 1500);
  assert.equal(parseDuration("0.000000001s"), 0);
  assert.equal(parseDuration({ seconds: "2", nanos: 500_000_000 }), 2500);
  assert.equal(parseDuration("soon"), undefined);
  assert.equal(parseDuration(undefined), undefined);
});

test("fromStatus decodes a google.rpc.Status message (batch-check item errors)", () => {
  // A BatchCheckConsents item as the gateway sends it; its details are google.protobuf.Any.
  const item = fromJson(
    CheckConsentItemSchema,
    {
      result: null,
      error: {
        code: 3,
        message: "recipient: not a phone number or e-mail address",
        details: [
          {
            "@type": "type.googleapis.com/google.rpc.BadRequest",
            field_violations: [{ field: "recipient", description: "not a phone number" }],
          },
          { "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason: "ERROR_REASON_X", domain: "izin.dev", metadata: { a: "b" } },
          { "@type": "type.googleapis.com/google.rpc.RetryInfo", retry_delay: "3s" },
        ],
      },
    },
    { registry, ignoreUnknownFields: true },
  );
  assert.equal(item.error?.details.length, 3);
  const e = IzinError.fromStatus(item.error!);
  assert.equal(e.code, "INVALID_ARGUMENT");
  assert.equal(e.message, "recipient: not a phone number or e-mail address");
  assert.equal(e.httpStatus, 0);
  assert.equal(e.field, "recipient");
  assert.equal(e.reason, "ERROR_REASON_X");
  assert.deepEqual(e.metadata, { a: "b" });
  assert.equal(e.retryAfterMs, 3000);
});
