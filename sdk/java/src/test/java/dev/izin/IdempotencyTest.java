package dev.izin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.izin.v1.AdminServiceGrpc;
import dev.izin.v1.ConsentServiceGrpc;
import dev.izin.v1.RecordConsentRequest;
import dev.izin.v1.SubmitCodeRequest;
import dev.izin.v1.VerificationServiceGrpc;
import io.grpc.MethodDescriptor;
import io.grpc.ServiceDescriptor;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class IdempotencyTest {
  /**
   * Without an idempotency key: true where the proto declares NO_SIDE_EFFECTS or IDEMPOTENT. A new
   * method must be added here.
   */
  static final Map<String, Boolean> WANT =
      Map.ofEntries(
          Map.entry("CheckConsent", true),
          Map.entry("BatchCheckConsents", true),
          Map.entry("StreamCheckConsents", true),
          Map.entry("ListConsentEvents", true),
          Map.entry("WatchConsentEvents", true),
          Map.entry("RecordConsent", false),
          Map.entry("RejectConsent", true),
          Map.entry("ImportConsents", false),
          Map.entry("StartVerification", false),
          Map.entry("GetVerification", true),
          Map.entry("SubmitCode", false),
          Map.entry("ResendCode", false),
          Map.entry("CancelVerification", false),
          Map.entry("ListMessages", true),
          Map.entry("CreateBrand", false),
          Map.entry("ListBrands", true),
          Map.entry("CreateSource", false),
          Map.entry("ListSources", true),
          Map.entry("CreateApiKey", false),
          Map.entry("ListApiKeys", true),
          Map.entry("RevokeApiKey", false),
          Map.entry("SetIysConfig", true),
          Map.entry("GetIysStatus", true),
          Map.entry("ListIysUploads", true),
          Map.entry("CreateConsentText", false),
          Map.entry("ListConsentTexts", true),
          Map.entry("GetConsentText", true),
          Map.entry("CreateWebhook", false),
          Map.entry("ListWebhooks", true),
          Map.entry("DeleteWebhook", true),
          Map.entry("RotateWebhookSecret", false),
          Map.entry("ListWebhookDeliveries", true),
          Map.entry("ReplayWebhookDeliveries", false),
          Map.entry("SetSmsConfig", true),
          Map.entry("GetSmsStatus", true),
          Map.entry("SendTestSms", false),
          Map.entry("ListInboundMessages", true));

  @Test
  void retryDecisionsFollowTheDescriptors() {
    Set<String> seen = new HashSet<>();
    for (ServiceDescriptor svc :
        List.of(
            ConsentServiceGrpc.getServiceDescriptor(),
            VerificationServiceGrpc.getServiceDescriptor(),
            AdminServiceGrpc.getServiceDescriptor())) {
      for (MethodDescriptor<?, ?> m : svc.getMethods()) {
        String name = m.getBareMethodName();
        seen.add(name);
        assertTrue(WANT.containsKey(name), name + " has no expected retry decision");
        assertEquals(WANT.get(name), Idempotency.declaredIdempotent(m), name);
      }
    }
    assertEquals(WANT.keySet(), seen);
  }

  @Test
  void anIdempotencyKeyAllowsRetries() {
    assertTrue(
        Idempotency.retriesAllowed(
            ConsentServiceGrpc.getRecordConsentMethod(),
            RecordConsentRequest.newBuilder().setIdempotencyKey("k").build()));
    assertFalse(
        Idempotency.retriesAllowed(
            ConsentServiceGrpc.getRecordConsentMethod(), RecordConsentRequest.getDefaultInstance()));
    assertFalse(
        Idempotency.retriesAllowed(
            VerificationServiceGrpc.getSubmitCodeMethod(), SubmitCodeRequest.getDefaultInstance()));
  }
}
