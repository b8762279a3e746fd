package dev.izin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Any;
import com.google.rpc.RetryInfo;
import dev.izin.v1.AdminServiceGrpc;
import dev.izin.v1.BatchCheckConsentsRequest;
import dev.izin.v1.BatchCheckConsentsResponse;
import dev.izin.v1.CheckConsentItem;
import dev.izin.v1.CheckConsentRequest;
import dev.izin.v1.CheckConsentResponse;
import dev.izin.v1.ConsentResult;
import dev.izin.v1.ConsentServiceGrpc;
import dev.izin.v1.ConsentStatus;
import dev.izin.v1.ConsentType;
import dev.izin.v1.ListMessagesRequest;
import dev.izin.v1.ListMessagesResponse;
import dev.izin.v1.Message;
import dev.izin.v1.RejectConsentRequest;
import dev.izin.v1.RejectConsentResponse;
import dev.izin.v1.StartVerificationRequest;
import dev.izin.v1.StartVerificationResponse;
import dev.izin.v1.StreamCheckConsentsRequest;
import dev.izin.v1.StreamCheckConsentsResponse;
import dev.izin.v1.SubmitCodeRequest;
import dev.izin.v1.SubmitCodeResponse;
import dev.izin.v1.Verification;
import dev.izin.v1.VerificationMethod;
import dev.izin.v1.VerificationServiceGrpc;
import dev.izin.v1.VerificationStatus;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The client against fake services over grpc-java's in-process transport. */
class IzinClientTest {
  /** Errors to throw, in order, before a call succeeds. */
  final ConcurrentLinkedQueue<StatusRuntimeException> failures = new ConcurrentLinkedQueue<>();

  final AtomicInteger checkCalls = new AtomicInteger();
  final List<Integer> batchSizes = Collections.synchronizedList(new ArrayList<>());
  final List<String> authHeaders = Collections.synchronizedList(new ArrayList<>());
  final List<String> idempotencyKeys = Collections.synchronizedList(new ArrayList<>());
  final AtomicInteger submitCalls = new AtomicInteger();
  final AtomicInteger rejectCalls = new AtomicInteger();
  final List<Duration> sleeps = Collections.synchronizedList(new ArrayList<>());
  final CountDownLatch streamCancelled = new CountDownLatch(1);
  volatile int failStreamAfter = -1;

  Server server;
  ManagedChannel channel;
  IzinClient client;

  static CheckConsentResponse answer(CheckConsentRequest req) {
    CheckConsentResponse.Builder b = CheckConsentResponse.newBuilder().setRecipient(req.getRecipient());
    for (ConsentType t : req.getTypesList()) {
      b.addResults(ConsentResult.newBuilder().setType(t).setStatus(ConsentStatus.CONSENT_STATUS_NONE));
    }
    return b.build();
  }

  /** Throws the next queued failure, if any. */
  void maybeFail() {
    StatusRuntimeException e = failures.poll();
    if (e != null) {
      throw e;
    }
  }

  class FakeConsent extends ConsentServiceGrpc.ConsentServiceImplBase {
    @Override
    public void checkConsent(CheckConsentRequest req, StreamObserver<CheckConsentResponse> out) {
      checkCalls.incrementAndGet();
      try {
        maybeFail();
      } catch (StatusRuntimeException e) {
        out.onError(e);
        return;
      }
      if (req.getRecipient().equals("slow")) {
        try {
          Thread.sleep(2000);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      out.onNext(answer(req));
      out.onCompleted();
    }

    @Override
    public void batchCheckConsents(
        BatchCheckConsentsRequest req, StreamObserver<BatchCheckConsentsResponse> out) {
      try {
        maybeFail();
      } catch (StatusRuntimeException e) {
        out.onError(e);
        return;
      }
      batchSizes.add(req.getChecksCount());
      BatchCheckConsentsResponse.Builder b = BatchCheckConsentsResponse.newBuilder();
      for (CheckConsentRequest c : req.getChecksList()) {
        if (c.getRecipient().equals("bad")) {
          b.addItems(
              CheckConsentItem.newBuilder()
                  .setError(
                      com.google.rpc.Status.newBuilder()
                          .setCode(Status.Code.INVALID_ARGUMENT.value())
                          .setMessage("recipient: not a phone number")));
        } else {
          b.addItems(CheckConsentItem.newBuilder().setResult(answer(c)));
        }
      }
      out.onNext(b.build());
      out.onCompleted();
    }

    @Override
    public StreamObserver<StreamCheckConsentsRequest> streamCheckConsents(
        StreamObserver<StreamCheckConsentsResponse> out) {
      ServerCallStreamObserver<StreamCheckConsentsResponse> sout =
          (ServerCallStreamObserver<StreamCheckConsentsResponse>) out;
      sout.setOnCancelHandler(streamCancelled::countDown);
      AtomicInteger seen = new AtomicInteger();
      return new StreamObserver<StreamCheckConsentsRequest>() {
        @Override
        public void onNext(StreamCheckConsentsRequest req) {
          if (seen.getAndIncrement() == failStreamAfter) {
            out.onError(Status.UNAVAILABLE.withDescription("going away").asRuntimeException());
            return;
          }
          out.onNext(
              StreamCheckConsentsResponse.newBuilder()
                  .setCorrelationId(req.getCorrelationId())
                  .setResult(answer(req.getCheck()))
                  .build());
        }

        @Override
        public void onError(Throwable t) {}

        @Override
        public void onCompleted() {
          out.onCompleted();
        }
      };
    }

    @Override
    public void rejectConsent(RejectConsentRequest req, StreamObserver<RejectConsentResponse> out) {
      rejectCalls.incrementAndGet();
      try {
        maybeFail();
      } catch (StatusRuntimeException e) {
        out.onError(e);
        return;
      }
      RejectConsentResponse.Builder b = RejectConsentResponse.newBuilder().setRecipient(req.getRecipient());
      for (ConsentType t : req.getTypesList()) {
        b.addResults(ConsentResult.newBuilder().setType(t).setStatus(ConsentStatus.CONSENT_STATUS_REJECTED));
      }
      out.onNext(b.build());
      out.onCompleted();
    }
  }

  class FakeVerification extends VerificationServiceGrpc.VerificationServiceImplBase {
    @Override
    public void startVerification(
        StartVerificationRequest req, StreamObserver<StartVerificationResponse> out) {
      idempotencyKeys.add(req.getIdempotencyKey());
      try {
        maybeFail();
      } catch (StatusRuntimeException e) {
        out.onError(e);
        return;
      }
      out.onNext(
          StartVerificationResponse.newBuilder()
              .setVerification(
                  Verification.newBuilder()
                      .setId("v1")
                      .setRecipient(req.getRecipient())
                      .setMethod(req.getMethod())
                      .addAllTypes(req.getTypesList())
                      .setStatus(VerificationStatus.VERIFICATION_STATUS_PENDING)
                      .setAttemptsLeft(3))
              .build());
      out.onCompleted();
    }

    @Override
    public void submitCode(SubmitCodeRequest req, StreamObserver<SubmitCodeResponse> out) {
      submitCalls.incrementAndGet();
      try {
        maybeFail();
      } catch (StatusRuntimeException e) {
        out.onError(e);
        return;
      }
      out.onNext(
          SubmitCodeResponse.newBuilder()
              .setVerification(
                  Verification.newBuilder()
                      .setId(req.getId())
                      .setStatus(VerificationStatus.VERIFICATION_STATUS_VERIFIED))
              .build());
      out.onCompleted();
    }
  }

  class FakeAdmin extends AdminServiceGrpc.AdminServiceImplBase {
    @Override
    public void listMessages(ListMessagesRequest req, StreamObserver<ListMessagesResponse> out) {
      out.onNext(
          ListMessagesResponse.newBuilder()
              .addMessages(Message.newBuilder().setRecipient(req.getRecipient()).setBody("123456 x"))
              .build());
      out.onCompleted();
    }
  }

  final ServerInterceptor recordAuth =
      new ServerInterceptor() {
        @Override
        public <Q, R> ServerCall.Listener<Q> interceptCall(
            ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
          authHeaders.add(headers.get(BearerAuth.AUTHORIZATION));
          return next.startCall(call, headers);
        }
      };

  @BeforeEach
  void start() throws Exception {
    String name = InProcessServerBuilder.generateName();
    server =
        InProcessServerBuilder.forName(name)
            .addService(ServerInterceptors.intercept(new FakeConsent(), recordAuth))
            .addService(ServerInterceptors.intercept(new FakeVerification(), recordAuth))
            .addService(ServerInterceptors.intercept(new FakeAdmin(), recordAuth))
            .build()
            .start();
    channel = InProcessChannelBuilder.forName(name).build();
    client = newClient(IzinClient.builder());
  }

  IzinClient newClient(IzinClient.Builder b) {
    return b.channel(channel).apiKey("izin_test").sleeper(sleeps::add).random(() -> 0.5).build();
  }

  @AfterEach
  void stop() throws Exception {
    client.close();
    channel.shutdownNow();
    server.shutdownNow();
    channel.awaitTermination(5, TimeUnit.SECONDS);
    server.awaitTermination(5, TimeUnit.SECONDS);
  }

  static StatusRuntimeException unavailable() {
    return Status.UNAVAILABLE.withDescription("try later").asRuntimeException();
  }

  static StatusRuntimeException exhausted(long seconds) {
    return StatusProto.toStatusRuntimeException(
        com.google.rpc.Status.newBuilder()
            .setCode(Status.Code.RESOURCE_EXHAUSTED.value())
            .setMessage("rate limited")
            .addDetails(
                Any.pack(
                    RetryInfo.newBuilder()
                        .setRetryDelay(com.google.protobuf.Duration.newBuilder().setSeconds(seconds))
                        .build()))
            .build());
  }

  @Test
  void checkSendsTheBearerKey() {
    CheckConsentResponse r =
        client.check("+905321234567", ConsentType.CONSENT_TYPE_SMS, ConsentType.CONSENT_TYPE_CALL);
    assertEquals("+905321234567", r.getRecipient());
    assertEquals(2, r.getResultsCount());
    assertEquals(ConsentType.CONSENT_TYPE_CALL, r.getResults(1).getType());
    assertEquals(List.of("Bearer izin_test"), authHeaders);

    IzinClient other = client.withApiKey("izin_other");
    other.check("x");
    other.close(); // does not close the shared channel
    client.check("y");
    assertEquals(List.of("Bearer izin_test", "Bearer izin_other", "Bearer izin_test"), authHeaders);
    assertFalse(channel.isShutdown());
  }

  @Test
  void retriesUnavailableWithBackoff() {
    failures.add(unavailable());
    failures.add(unavailable());
    client.check("+905321234567");
    assertEquals(3, checkCalls.get());
    assertEquals(List.of(Duration.ofMillis(200), Duration.ofMillis(400)), sleeps);
  }

  @Test
  void givesUpAfterMaxAttempts() {
    for (int i = 0; i < 10; i++) {
      failures.add(unavailable());
    }
    IzinException e = assertThrows(IzinException.class, () -> client.check("+905321234567"));
    assertEquals(Status.Code.UNAVAILABLE, e.getCode());
    assertEquals("try later", e.getDescription());
    assertEquals(4, checkCalls.get());
    assertEquals(3, sleeps.size());
  }

  @Test
  void honoursRetryInfo() {
    failures.add(exhausted(3));
    client.check("+905321234567");
    assertEquals(2, checkCalls.get());
    assertEquals(List.of(Duration.ofSeconds(3)), sleeps);
  }

  @Test
  void doesNotWaitForALongRetryInfo() {
    failures.add(exhausted(60));
    IzinException e = assertThrows(IzinException.class, () -> client.check("+905321234567"));
    assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getCode());
    assertEquals(Duration.ofSeconds(60), e.getRetryAfter());
    assertEquals(1, checkCalls.get());
    assertTrue(sleeps.isEmpty());
  }

  @Test
  void doesNotRetryOtherErrors() {
    failures.add(Status.INVALID_ARGUMENT.asRuntimeException());
    assertThrows(IzinException.class, () -> client.check("12ab"));
    assertEquals(1, checkCalls.get());
  }

  @Test
  void retryPolicyNone() {
    IzinClient c = newClient(IzinClient.builder().retryPolicy(RetryPolicy.none()));
    failures.add(unavailable());
    assertThrows(IzinException.class, () -> c.check("+905321234567"));
    assertEquals(1, checkCalls.get());
  }

  @Test
  void submitCodeIsNeverRetried() {
    failures.add(unavailable());
    IzinException e = assertThrows(IzinException.class, () -> client.submitCode("v1", "123456"));
    assertEquals(Status.Code.UNAVAILABLE, e.getCode());
    assertEquals(1, submitCalls.get());
    assertTrue(sleeps.isEmpty());
    assertEquals(
        VerificationStatus.VERIFICATION_STATUS_VERIFIED,
        client.submitCode("v1", "123456").getVerification().getStatus());
  }

  @Test
  void startVerificationRetriesWithOneIdempotencyKey() {
    failures.add(unavailable());
    Verification v = client.startSmsVerification("+905321234567", ConsentType.CONSENT_TYPE_SMS);
    assertEquals(VerificationStatus.VERIFICATION_STATUS_PENDING, v.getStatus());
    assertEquals(VerificationMethod.VERIFICATION_METHOD_SMS_CODE, v.getMethod());
    assertEquals(List.of(ConsentType.CONSENT_TYPE_SMS), v.getTypesList());
    assertEquals(2, idempotencyKeys.size());
    assertFalse(idempotencyKeys.get(0).isEmpty());
    assertEquals(idempotencyKeys.get(0), idempotencyKeys.get(1));

    Verification lp =
        client.startLandingPageVerification("+905321234567", ConsentType.CONSENT_TYPE_CALL);
    assertEquals(VerificationMethod.VERIFICATION_METHOD_LANDING_PAGE, lp.getMethod());
    assertTrue(!idempotencyKeys.get(2).equals(idempotencyKeys.get(0)), "a new call, a new key");

    client.startVerification(
        StartVerificationRequest.newBuilder()
            .setRecipient("+905321234567")
            .setMethod(VerificationMethod.VERIFICATION_METHOD_SMS_CODE)
            .addTypes(ConsentType.CONSENT_TYPE_SMS)
            .setIdempotencyKey("mine")
            .build());
    assertEquals("mine", idempotencyKeys.get(3));
  }

  @Test
  void rejectIsRetried() {
    failures.add(unavailable());
    RejectConsentResponse r = client.reject("+905321234567", ConsentType.CONSENT_TYPE_SMS);
    assertEquals(ConsentStatus.CONSENT_STATUS_REJECTED, r.getResults(0).getStatus());
    assertEquals(2, rejectCalls.get());
  }

  @Test
  void decodesServerErrors() {
    failures.add(StatusProto.toStatusRuntimeException(IzinExceptionTest.invalidCode()));
    IzinException e = assertThrows(IzinException.class, () -> client.submitCode("v1", "000000"));
    assertEquals(Status.Code.INVALID_ARGUMENT, e.getCode());
    assertEquals("code", e.getField());
    assertEquals("ERROR_REASON_INVALID_CODE", e.getReason());
    assertEquals("2", e.getMetadata().get("attempts_left"));
  }

  @Test
  void deadlineExceededIsNotRetried() {
    IzinClient c = newClient(IzinClient.builder().deadline(Duration.ofMillis(100)));
    IzinException e = assertThrows(IzinException.class, () -> c.check("slow"));
    assertEquals(Status.Code.DEADLINE_EXCEEDED, e.getCode());
    assertEquals(1, checkCalls.get());
  }

  @Test
  void batchCheckSplitsIntoChunksOf1000InOrder() {
    List<CheckConsentRequest> checks =
        IntStream.range(0, 2500)
            .mapToObj(i -> CheckConsentRequest.newBuilder().setRecipient(i == 1234 ? "bad" : "r" + i).build())
            .collect(Collectors.toList());
    failures.add(unavailable()); // the first chunk is retried on its own
    List<CheckConsentItem> items = client.batchCheck(checks);
    assertEquals(List.of(1000, 1000, 500), batchSizes);
    assertEquals(2500, items.size());
    for (int i = 0; i < 2500; i++) {
      if (i == 1234) {
        IzinException e = IzinException.fromStatus(items.get(i).getError());
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getCode());
        assertFalse(items.get(i).hasResult());
      } else {
        assertEquals("r" + i, items.get(i).getResult().getRecipient());
        assertNull(IzinException.fromStatus(items.get(i).getError()));
      }
    }
    assertEquals(1, sleeps.size());
  }

  @Test
  void batchCheckOfNothingCallsNothing() {
    assertTrue(client.batchCheck(List.of()).isEmpty());
    assertTrue(batchSizes.isEmpty());
    client.batchCheck(Collections.nCopies(1000, CheckConsentRequest.newBuilder().setRecipient("a").build()));
    assertEquals(List.of(1000), batchSizes);
  }

  /** An endless-capable source that counts what was taken from it. */
  static final class CountingSource implements Iterator<CheckConsentRequest> {
    final int size;
    final AtomicLong taken = new AtomicLong();

    CountingSource(int size) {
      this.size = size;
    }

    @Override
    public boolean hasNext() {
      return taken.get() < size;
    }

    @Override
    public CheckConsentRequest next() {
      long i = taken.getAndIncrement();
      if (i >= size) {
        throw new NoSuchElementException();
      }
      return CheckConsentRequest.newBuilder()
          .setRecipient("r" + i)
          .addTypes(ConsentType.CONSENT_TYPE_SMS)
          .build();
    }
  }

  @Test
  void streamCheckAnswersInOrderWithBoundedLookAhead() {
    int window = 16;
    IzinClient c = newClient(IzinClient.builder().streamWindow(window));
    CountingSource source = new CountingSource(20_000);
    long consumed = 0;
    try (CheckStream answers = c.streamCheck(source)) {
      while (answers.hasNext()) {
        StreamCheckConsentsResponse r = answers.next();
        assertEquals(Long.toString(consumed), r.getCorrelationId());
        assertEquals("r" + consumed, r.getResult().getRecipient());
        consumed++;
        long ahead = source.taken.get() - consumed;
        assertTrue(ahead <= window, "taken " + source.taken.get() + ", consumed " + consumed);
      }
    }
    assertEquals(20_000, consumed);
    assertThrows(NoSuchElementException.class, () -> {
      CheckStream empty = c.streamCheck(Collections.emptyIterator());
      assertFalse(empty.hasNext());
      empty.next();
    });
  }

  @Test
  void streamCheckAsAStream() {
    try (CheckStream answers = client.streamCheck(new CountingSource(50))) {
      assertEquals(50, answers.stream().filter(r -> r.hasResult()).count());
    }
  }

  @Test
  void closingAStreamCancelsIt() throws Exception {
    CountingSource source = new CountingSource(1_000_000);
    CheckStream answers = client.streamCheck(source);
    assertTrue(answers.hasNext());
    answers.next();
    answers.close();
    assertFalse(answers.hasNext());
    assertTrue(streamCancelled.await(5, TimeUnit.SECONDS), "the server saw the cancellation");
    assertTrue(source.taken.get() < 10_000);
  }

  @Test
  void aStreamFailureIsThrownToTheReader() {
    failStreamAfter = 5;
    CheckStream answers = client.streamCheck(new CountingSource(100));
    int read = 0;
    IzinException e = null;
    try {
      while (answers.hasNext()) {
        answers.next();
        read++;
      }
    } catch (IzinException x) {
      e = x;
    }
    assertTrue(e != null, "the stream failure was thrown");
    assertEquals(Status.Code.UNAVAILABLE, e.getCode());
    assertEquals(5, read);
    assertFalse(answers.hasNext());
  }

  @Test
  void aFailingSourceIsThrownToTheReader() {
    RuntimeException boom = new IllegalStateException("cannot read the list");
    Iterator<CheckConsentRequest> source =
        new Iterator<CheckConsentRequest>() {
          int i;

          @Override
          public boolean hasNext() {
            return true;
          }

          @Override
          public CheckConsentRequest next() {
            if (i++ == 3) {
              throw boom;
            }
            return CheckConsentRequest.newBuilder().setRecipient("r").build();
          }
        };
    CheckStream answers = client.streamCheck(source);
    RuntimeException thrown =
        assertThrows(
            RuntimeException.class,
            () -> {
              while (answers.hasNext()) {
                answers.next();
              }
            });
    assertSame(boom, thrown);
  }

  @Test
  void listMessages() {
    List<Message> ms = client.listMessages("+905321234567");
    assertEquals(1, ms.size());
    assertEquals("+905321234567", ms.get(0).getRecipient());
  }

  @Test
  void rawStubsAreAuthenticated() {
    client.consentBlockingStub().checkConsent(CheckConsentRequest.newBuilder().setRecipient("x").build());
    assertEquals(List.of("Bearer izin_test"), authHeaders);
  }

  @Test
  void builderValidation() {
    assertThrows(IllegalStateException.class, () -> IzinClient.builder().target("localhost:1").build());
    assertThrows(IllegalStateException.class, () -> IzinClient.builder().apiKey("k").build());
    assertThrows(IllegalArgumentException.class, () -> IzinClient.builder().apiKey(""));
    assertThrows(IllegalArgumentException.class, () -> IzinClient.builder().deadline(Duration.ZERO));
    assertThrows(IllegalArgumentException.class, () -> IzinClient.builder().streamWindow(0));
  }

  @Test
  void ownsTheChannelItOpens() {
    // Netty is on the test classpath; nothing listens, and no call is made.
    IzinClient c = IzinClient.builder().target("127.0.0.1:1").usePlaintext().apiKey("k").build();
    ManagedChannel ch = (ManagedChannel) unwrap(c);
    c.close();
    assertTrue(ch.isShutdown());
  }

  private static Object unwrap(IzinClient c) {
    try {
      java.lang.reflect.Field f = IzinClient.class.getDeclaredField("ownedChannel");
      f.setAccessible(true);
      return f.get(c);
    } catch (ReflectiveOperationException e) {
      throw new AssertionError(e);
    }
  }
}
