// The SDK conformance scenario (sdk/conformance/scenario.json) against a real
// izin server. Run it through sdk/conformance/with-server.sh, which starts the
// server and sets IZIN_HTTP_URL, IZIN_API_KEY, IZIN_ADMIN_KEY and
// IZIN_SCENARIO; test.sh does.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import {
  ConsentStatus,
  ConsentType,
  IzinClient,
  IzinError,
  MessageKind,
  VerificationStatus,
  type CheckConsentResponse,
  type ConsentTypeLike,
  type Message,
  type SubmitCodeResponse,
  type Verification,
} from "@izinhq/izin";

interface Step {
  name: string;
  op: "check" | "start_sms_verification" | "read_code" | "submit_code" | "reject";
  recipient?: string;
  types?: ConsentTypeLike[];
  code?: "right" | "wrong";
  api_key?: string;
  expect?: {
    normalized_recipient?: string;
    results?: Record<string, string>;
    status?: string;
    attempts_left?: number;
    body_contains?: string[];
    code_pattern?: string;
  };
  expect_error?: { code: string; field?: string; reason?: string; metadata?: Record<string, string> };
}

interface Scenario {
  version: number;
  recipient: string;
  normalized_recipient: string;
  steps: Step[];
}

const env = {
  url: process.env["IZIN_HTTP_URL"],
  apiKey: process.env["IZIN_API_KEY"],
  adminKey: process.env["IZIN_ADMIN_KEY"],
  scenario: process.env["IZIN_SCENARIO"],
};
const missing = Object.entries({
  IZIN_HTTP_URL: env.url,
  IZIN_API_KEY: env.apiKey,
  IZIN_ADMIN_KEY: env.adminKey,
  IZIN_SCENARIO: env.scenario,
})
  .filter(([, v]) => !v)
  .map(([k]) => k);
const skipMessage =
  `conformance: ${missing.join(", ")} not set; run it through the server harness: ` +
  "../conformance/with-server.sh node --test build/test/conformance.test.js (test.sh does)";

if (missing.length > 0 && process.env["CI"] === "true") {
  test("conformance scenario", () => {
    assert.fail(`${skipMessage} (CI=true, so this fails instead of skipping)`);
  });
} else if (missing.length > 0) {
  test("conformance scenario", { skip: skipMessage }, () => {});
} else {
  runScenario(JSON.parse(readFileSync(env.scenario!, "utf8")) as Scenario);
}

function runScenario(scenario: Scenario) {
  const izin = new IzinClient({ baseUrl: env.url!, apiKey: env.apiKey!, timeoutMs: 15_000 });
  const admin = new IzinClient({ baseUrl: env.url!, apiKey: env.adminKey!, timeoutMs: 15_000 });
  const state: { verificationId?: string; code?: string } = {};

  test(`conformance scenario v${scenario.version} over REST (${env.url})`, async (t) => {
    for (const step of scenario.steps) {
      await t.test(step.name, async () => {
        const client = step.api_key ? new IzinClient({ baseUrl: env.url!, apiKey: step.api_key }) : izin;
        const recipient = step.recipient ?? scenario.recipient;
        const run = (): Promise<unknown> => runStep(step, client, recipient);
        if (step.expect_error) {
          await expectError(run(), step.expect_error);
          return;
        }
        const out = await run();
        if (step.expect) checkExpectations(step, out);
      });
    }
  });

  async function runStep(step: Step, client: IzinClient, recipient: string): Promise<unknown> {
    switch (step.op) {
      case "check":
        return client.check(recipient, step.types);
      case "start_sms_verification": {
        const v = await client.startSMSVerification(recipient, step.types ?? []);
        assert.ok(v.id, "the verification has an id");
        assert.ok(v.expireTime, "the verification has an expire_time");
        state.verificationId = v.id;
        return v;
      }
      case "read_code": {
        const res = await admin.listMessages({ recipient: scenario.normalized_recipient });
        const msg = res.messages.find(
          (m) => m.kind === MessageKind.ACTIVATION && (!state.verificationId || m.verificationId === state.verificationId),
        );
        assert.ok(msg, `an activation message for ${scenario.normalized_recipient} among ${res.messages.length}`);
        assert.equal(msg.recipient, scenario.normalized_recipient);
        const m = /^(\d{6})/.exec(msg.body);
        assert.ok(m, `the body starts with the code: ${JSON.stringify(msg.body)}`);
        state.code = m[1];
        return msg;
      }
      case "submit_code": {
        assert.ok(state.verificationId && state.code, "a verification was started and its code read");
        const code = step.code === "wrong" ? wrongCode(state.code) : state.code;
        return client.submitCode(state.verificationId, code);
      }
      case "reject":
        return client.reject(recipient, step.types ?? []);
      default:
        throw new Error(`unknown op ${JSON.stringify((step as Step).op)}`);
    }
  }

  function checkExpectations(step: Step, out: unknown) {
    const e = step.expect!;
    // Every expectation must be asserted: an unknown key fails rather than being ignored.
    const known: Record<Step["op"], string[]> = {
      check: ["normalized_recipient", "results"],
      start_sms_verification: ["status", "attempts_left"],
      submit_code: ["status", "attempts_left"],
      read_code: ["body_contains", "code_pattern"],
      reject: [],
    };
    for (const k of Object.keys(e)) assert.ok(known[step.op]?.includes(k), `unknown expectation ${k} for op ${step.op}`);
    switch (step.op) {
      case "check": {
        const res = out as CheckConsentResponse;
        if (e.normalized_recipient !== undefined) assert.equal(res.recipient, e.normalized_recipient);
        if (e.results) {
          const got: Record<string, string> = {};
          for (const r of res.results) got[ConsentType[r.type]] = ConsentStatus[r.status];
          assert.deepEqual(got, e.results);
        }
        break;
      }
      case "start_sms_verification":
      case "submit_code": {
        const v = step.op === "submit_code" ? (out as SubmitCodeResponse).verification : (out as Verification);
        assert.ok(v, "a verification");
        if (e.status !== undefined) assert.equal(VerificationStatus[v.status], e.status);
        if (e.attempts_left !== undefined) assert.equal(v.attemptsLeft, e.attempts_left);
        break;
      }
      case "read_code": {
        const body = (out as Message).body;
        for (const s of e.body_contains ?? []) assert.ok(body.includes(s), `the body contains ${s}: ${body}`);
        if (e.code_pattern) assert.match(state.code!, new RegExp(e.code_pattern));
        break;
      }
      default:
        assert.fail(`no expectations for op ${step.op}`);
    }
  }
}

async function expectError(p: Promise<unknown>, want: NonNullable<Step["expect_error"]>) {
  for (const k of Object.keys(want)) {
    assert.ok(["code", "field", "reason", "metadata"].includes(k), `unknown error expectation ${k}`);
  }
  let err: unknown;
  try {
    await p;
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof IzinError, `want an IzinError ${want.code}, got ${err === undefined ? "success" : String(err)}`);
  assert.equal(err.code, want.code, err.message);
  if (want.field !== undefined) assert.equal(err.field, want.field);
  if (want.reason !== undefined) assert.equal(err.reason, want.reason);
  for (const [k, v] of Object.entries(want.metadata ?? {})) assert.equal(err.metadata[k], v, `metadata.${k}`);
}

/** A 6-digit code that is not the right one. */
function wrongCode(right: string): string {
  return String((Number(right) + 1) % 1_000_000).padStart(6, "0");
}
