package dev.izin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.izin.v1.CheckConsentItem;
import dev.izin.v1.CheckConsentRequest;
import dev.izin.v1.CheckConsentResponse;
import dev.izin.v1.ConsentResult;
import dev.izin.v1.ConsentStatus;
import dev.izin.v1.ConsentType;
import dev.izin.v1.Message;
import dev.izin.v1.MessageKind;
import dev.izin.v1.RejectConsentResponse;
import dev.izin.v1.StreamCheckConsentsResponse;
import dev.izin.v1.SubmitCodeResponse;
import dev.izin.v1.Verification;
import dev.izin.v1.VerificationStatus;
import io.grpc.Status;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Runs sdk/conformance/scenario.json against a real izin through the public API. Needs the
 * environment of sdk/conformance/with-server.sh; without it the test is skipped, or fails when
 * CI=true.
 */
class ConformanceTest {
  private static final Set<String> ENV =
      Set.of("IZIN_GRPC_TARGET", "IZIN_ADMIN_KEY", "IZIN_API_KEY", "IZIN_SCENARIO");

  private IzinClient client;
  private IzinClient admin;
  private JsonObject scenario;
  private String verificationId;
  private String code;

  @Test
  void scenario() throws Exception {
    requireEnv();
    scenario =
        JsonParser.parseString(
                new String(
                    Files.readAllBytes(Paths.get(System.getenv("IZIN_SCENARIO"))),
                    StandardCharsets.UTF_8))
            .getAsJsonObject();
    assertEquals(1, scenario.get("version").getAsInt(), "scenario version this test knows");
    JsonArray steps = scenario.getAsJsonArray("steps");
    assertTrue(steps.size() > 0, "the scenario has steps");

    try (IzinClient c =
            IzinClient.builder()
                .target(System.getenv("IZIN_GRPC_TARGET"))
                .usePlaintext()
                .apiKey(System.getenv("IZIN_API_KEY"))
                .build();
        IzinClient a = c.withApiKey(System.getenv("IZIN_ADMIN_KEY"))) {
      client = c;
      admin = a;
      int n = 0;
      for (JsonElement el : steps) {
        JsonObject step = el.getAsJsonObject();
        n++;
        String name = n + ". " + str(step, "name") + " (" + str(step, "op") + ")";
        try {
          run(step);
        } catch (AssertionError e) {
          throw new AssertionError("step " + name + ": " + e.getMessage(), e);
        }
        System.out.println("conformance: ok " + name);
      }
      System.out.println("conformance: " + n + " steps passed");
    }
  }

  /** Beyond the scenario: batch and stream checks against the same server, in order. */
  @Test
  void batchAndStreamChecks() throws Exception {
    requireEnv();
    try (IzinClient c =
        IzinClient.builder()
            .target(System.getenv("IZIN_GRPC_TARGET"))
            .usePlaintext()
            .apiKey(System.getenv("IZIN_API_KEY"))
            .streamWindow(64)
            .build()) {
      List<CheckConsentRequest> checks = new ArrayList<>();
      for (int i = 0; i < 1500; i++) {
        String r = i == 1001 ? "12ab" : String.format("+90555%07d", i);
        checks.add(
            CheckConsentRequest.newBuilder()
                .setRecipient(r)
                .addTypes(ConsentType.CONSENT_TYPE_SMS)
                .build());
      }
      List<CheckConsentItem> items = c.batchCheck(checks);
      assertEquals(checks.size(), items.size());
      for (int i = 0; i < items.size(); i++) {
        CheckConsentItem item = items.get(i);
        if (i == 1001) {
          IzinException e = IzinException.fromStatus(item.getError());
          assertNotNull(e, "item 1001 failed");
          assertEquals(Status.Code.INVALID_ARGUMENT, e.getCode());
        } else {
          assertEquals(String.format("+90555%07d", i), item.getResult().getRecipient());
          assertEquals(
              ConsentStatus.CONSENT_STATUS_NONE, item.getResult().getResults(0).getStatus());
        }
      }

      int n = 0;
      try (CheckStream answers = c.streamCheck(checks.iterator())) {
        while (answers.hasNext()) {
          StreamCheckConsentsResponse r = answers.next();
          assertEquals(Integer.toString(n), r.getCorrelationId());
          if (n == 1001) {
            assertEquals(Status.Code.INVALID_ARGUMENT.value(), r.getError().getCode());
          } else {
            assertEquals(String.format("+90555%07d", n), r.getResult().getRecipient());
          }
          n++;
        }
      }
      assertEquals(checks.size(), n);
      System.out.println("conformance: batch and stream checks of " + n + " recipients ok");
    }
  }

  private static void requireEnv() {
    for (String name : ENV) {
      String v = System.getenv(name);
      if (v == null || v.isEmpty()) {
        String msg =
            name
                + " is not set: run the conformance test through sdk/conformance/with-server.sh"
                + " (sdk/java/test.sh does)";
        if ("true".equals(System.getenv("CI"))) {
          fail(msg);
        }
        Assumptions.abort(msg);
      }
    }
  }

  private void run(JsonObject step) {
    Set<String> known =
        Set.of("name", "op", "types", "recipient", "api_key", "code", "expect", "expect_error");
    for (String k : step.keySet()) {
      assertTrue(known.contains(k), "unknown step field " + k);
    }
    IzinClient c = step.has("api_key") ? client.withApiKey(str(step, "api_key")) : client;
    String recipient = step.has("recipient") ? str(step, "recipient") : str(scenario, "recipient");
    ConsentType[] types = types(step);
    JsonObject expect = step.has("expect") ? step.getAsJsonObject("expect") : new JsonObject();
    String op = str(step, "op");
    Supplier<Object> action;
    switch (op) {
      case "check":
        action = () -> c.check(recipient, types);
        break;
      case "start_sms_verification":
        action = () -> c.startSmsVerification(recipient, types);
        break;
      case "read_code":
        action = () -> readCode(recipient, expect);
        break;
      case "submit_code":
        action = () -> c.submitCode(verificationId, submittedCode(str(step, "code")));
        break;
      case "reject":
        action = () -> c.reject(recipient, types);
        break;
      default:
        throw new AssertionError("unknown op " + op);
    }
    if (step.has("expect_error")) {
      assertError(action, step.getAsJsonObject("expect_error"));
      return;
    }
    Object result = action.get();
    if (result instanceof CheckConsentResponse) {
      CheckConsentResponse r = (CheckConsentResponse) result;
      expectOnly(expect, "normalized_recipient", "results");
      if (expect.has("normalized_recipient")) {
        assertEquals(str(expect, "normalized_recipient"), r.getRecipient(), "normalized recipient");
      }
      assertResults(expect, r.getResultsList());
    } else if (result instanceof Verification) {
      Verification v = (Verification) result;
      expectOnly(expect, "status", "attempts_left");
      assertNotNull(v.getId(), "verification id");
      verificationId = v.getId();
      assertVerification(expect, v);
    } else if (result instanceof SubmitCodeResponse) {
      expectOnly(expect, "status", "attempts_left");
      assertVerification(expect, ((SubmitCodeResponse) result).getVerification());
    } else if (result instanceof RejectConsentResponse) {
      expectOnly(expect, "results");
      assertResults(expect, ((RejectConsentResponse) result).getResultsList());
    }
  }

  /** read_code: the newest ACTIVATION SMS to the recipient, read with the admin key. */
  private Object readCode(String recipient, JsonObject expect) {
    expectOnly(expect, "body_contains", "code_pattern");
    List<Message> messages = admin.listMessages(recipient);
    Message activation =
        messages.stream()
            .filter(m -> m.getKind() == MessageKind.MESSAGE_KIND_ACTIVATION)
            .findFirst()
            .orElseThrow(() -> new AssertionError("no ACTIVATION message in " + messages));
    String body = activation.getBody();
    if (expect.has("body_contains")) {
      for (JsonElement s : expect.getAsJsonArray("body_contains")) {
        assertTrue(body.contains(s.getAsString()), "body contains " + s + ": " + body);
      }
    }
    Matcher m = Pattern.compile("^[0-9]{6}").matcher(body);
    assertTrue(m.find(), "the body starts with a 6-digit code: " + body);
    code = m.group();
    if (expect.has("code_pattern")) {
      assertTrue(code.matches(str(expect, "code_pattern")), "code " + code);
    }
    return code;
  }

  private String submittedCode(String which) {
    assertNotNull(code, "read_code ran before submit_code");
    switch (which) {
      case "right":
        return code;
      case "wrong":
        String wrong = String.format("%06d", (Integer.parseInt(code) + 1) % 1_000_000);
        assertNotEquals(code, wrong);
        return wrong;
      default:
        return which;
    }
  }

  private void assertError(Supplier<Object> action, JsonObject want) {
    expectOnly(want, "code", "field", "reason", "metadata");
    IzinException e;
    try {
      Object r = action.get();
      throw new AssertionError("expected " + str(want, "code") + ", got " + r);
    } catch (IzinException x) {
      e = x;
    }
    assertEquals(Status.Code.valueOf(str(want, "code")), e.getCode(), "code of " + e);
    if (want.has("field")) {
      assertEquals(str(want, "field"), e.getField(), "field of " + e);
    }
    if (want.has("reason")) {
      assertEquals(str(want, "reason"), e.getReason(), "reason of " + e);
    }
    if (want.has("metadata")) {
      for (Map.Entry<String, JsonElement> kv : want.getAsJsonObject("metadata").entrySet()) {
        assertEquals(
            kv.getValue().getAsString(), e.getMetadata().get(kv.getKey()), "metadata " + kv.getKey());
      }
    }
  }

  private static void assertResults(JsonObject expect, List<ConsentResult> results) {
    if (!expect.has("results")) {
      return;
    }
    Map<String, String> got = new LinkedHashMap<>();
    for (ConsentResult r : results) {
      got.put(
          r.getType().name().replaceFirst("^CONSENT_TYPE_", ""),
          r.getStatus().name().replaceFirst("^CONSENT_STATUS_", ""));
    }
    Map<String, String> want = new LinkedHashMap<>();
    for (Map.Entry<String, JsonElement> kv : expect.getAsJsonObject("results").entrySet()) {
      want.put(kv.getKey(), kv.getValue().getAsString());
      // The names must be ones the SDK knows.
      ConsentType.valueOf("CONSENT_TYPE_" + kv.getKey());
      ConsentStatus.valueOf("CONSENT_STATUS_" + kv.getValue().getAsString());
    }
    assertEquals(want, got, "results");
  }

  private static void assertVerification(JsonObject expect, Verification v) {
    if (expect.has("status")) {
      assertEquals(
          VerificationStatus.valueOf("VERIFICATION_STATUS_" + str(expect, "status")),
          v.getStatus(),
          "verification status");
    }
    if (expect.has("attempts_left")) {
      assertEquals(expect.get("attempts_left").getAsInt(), v.getAttemptsLeft(), "attempts left");
    }
  }

  private static void expectOnly(JsonObject expect, String... keys) {
    Set<String> allowed = Set.of(keys);
    for (String k : expect.keySet()) {
      assertTrue(allowed.contains(k), "unknown expectation " + k);
    }
  }

  private static ConsentType[] types(JsonObject step) {
    if (!step.has("types")) {
      return new ConsentType[0];
    }
    JsonArray a = step.getAsJsonArray("types");
    ConsentType[] out = new ConsentType[a.size()];
    for (int i = 0; i < a.size(); i++) {
      out[i] = ConsentType.valueOf("CONSENT_TYPE_" + a.get(i).getAsString());
    }
    return out;
  }

  private static String str(JsonObject o, String key) {
    JsonElement e = o.get(key);
    assertNotNull(e, "missing " + key);
    return e.getAsString();
  }
}
