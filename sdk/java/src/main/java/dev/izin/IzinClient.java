package dev.izin;

import dev.izin.v1.AdminServiceGrpc;
import dev.izin.v1.BatchCheckConsentsRequest;
import dev.izin.v1.BatchCheckConsentsResponse;
import dev.izin.v1.CancelVerificationRequest;
import dev.izin.v1.CheckConsentItem;
import dev.izin.v1.CheckConsentRequest;
import dev.izin.v1.CheckConsentResponse;
import dev.izin.v1.ConsentServiceGrpc;
import dev.izin.v1.ConsentType;
import dev.izin.v1.GetVerificationRequest;
import dev.izin.v1.ListConsentEventsRequest;
import dev.izin.v1.ListConsentEventsResponse;
import dev.izin.v1.ListMessagesRequest;
import dev.izin.v1.ListMessagesResponse;
import dev.izin.v1.Message;
import dev.izin.v1.RecordConsentRequest;
import dev.izin.v1.RecordConsentResponse;
import dev.izin.v1.RejectConsentRequest;
import dev.izin.v1.RejectConsentResponse;
import dev.izin.v1.ResendCodeRequest;
import dev.izin.v1.StartVerificationRequest;
import dev.izin.v1.StartVerificationResponse;
import dev.izin.v1.StreamCheckConsentsRequest;
import dev.izin.v1.SubmitCodeRequest;
import dev.izin.v1.SubmitCodeResponse;
import dev.izin.v1.Verification;
import dev.izin.v1.VerificationMethod;
import dev.izin.v1.VerificationServiceGrpc;
import io.grpc.Channel;
import io.grpc.ChannelCredentials;
import io.grpc.ClientInterceptors;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelRegistry;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.stub.AbstractStub;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.DoubleSupplier;
import java.util.function.Supplier;

/**
 * A client for the izin consent server over gRPC.
 *
 * <pre>{@code
 * try (IzinClient izin = IzinClient.builder().target("izin.example.com:443").apiKey(key).build()) {
 *   CheckConsentResponse r = izin.check("+90 532 123 45 67", ConsentType.CONSENT_TYPE_SMS);
 * }
 * }</pre>
 *
 * <p>Every call sends {@code authorization: Bearer <api key>}, has a per-attempt deadline, and
 * throws {@link IzinException} on failure. Calls that are safe to repeat are retried according to
 * the {@link RetryPolicy}. The transport is the caller's choice: put {@code
 * io.grpc:grpc-netty-shaded} (servers) or {@code io.grpc:grpc-okhttp} (Android) on the classpath,
 * or pass a channel of your own with {@link Builder#channel(Channel)}.
 *
 * <p>A client is thread-safe; share one per server and close it when done.
 */
public final class IzinClient implements AutoCloseable {
  /** The most checks one {@code BatchCheckConsents} call takes; {@link #batchCheck} splits. */
  public static final int BATCH_LIMIT = 1000;

  /** Sleeps between retries; replaced in tests. */
  interface Sleeper {
    void sleep(Duration d) throws InterruptedException;
  }

  private final ManagedChannel ownedChannel;
  private final Channel baseChannel;
  private final Channel channel;
  private final Duration deadline;
  private final RetryPolicy retryPolicy;
  private final int streamWindow;
  private final Sleeper sleeper;
  private final DoubleSupplier random;
  private final ConsentServiceGrpc.ConsentServiceBlockingStub consentBlocking;
  private final ConsentServiceGrpc.ConsentServiceStub consentAsync;
  private final VerificationServiceGrpc.VerificationServiceBlockingStub verificationBlocking;
  private final VerificationServiceGrpc.VerificationServiceStub verificationAsync;
  private final AdminServiceGrpc.AdminServiceBlockingStub adminBlocking;
  private final AdminServiceGrpc.AdminServiceStub adminAsync;

  private IzinClient(
      ManagedChannel ownedChannel,
      Channel baseChannel,
      String apiKey,
      Duration deadline,
      RetryPolicy retryPolicy,
      int streamWindow,
      Sleeper sleeper,
      DoubleSupplier random) {
    this.ownedChannel = ownedChannel;
    this.baseChannel = baseChannel;
    this.channel = ClientInterceptors.intercept(baseChannel, new BearerAuth(apiKey));
    this.deadline = deadline;
    this.retryPolicy = retryPolicy;
    this.streamWindow = streamWindow;
    this.sleeper = sleeper;
    this.random = random;
    this.consentBlocking = ConsentServiceGrpc.newBlockingStub(channel);
    this.consentAsync = ConsentServiceGrpc.newStub(channel);
    this.verificationBlocking = VerificationServiceGrpc.newBlockingStub(channel);
    this.verificationAsync = VerificationServiceGrpc.newStub(channel);
    this.adminBlocking = AdminServiceGrpc.newBlockingStub(channel);
    this.adminAsync = AdminServiceGrpc.newStub(channel);
  }

  /** A builder; {@link Builder#target} (or {@link Builder#channel}) and the API key are needed. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * A client that uses another API key over the same connection. Closing it does not close the
   * connection; close this client for that.
   */
  public IzinClient withApiKey(String apiKey) {
    return new IzinClient(
        null,
        baseChannel,
        requireKey(apiKey),
        deadline,
        retryPolicy,
        streamWindow,
        sleeper,
        random);
  }

  // ---- ConsentService ------------------------------------------------------------------------

  /**
   * Checks whether {@code recipient} (a phone number in any common spelling, or an e-mail
   * address) may be sent commercial messages of the given types; no types means all three. The
   * answer has one result per type, in the order asked, and the recipient in normal form.
   */
  public CheckConsentResponse check(String recipient, ConsentType... types) {
    Objects.requireNonNull(recipient, "recipient");
    return check(
        CheckConsentRequest.newBuilder()
            .setRecipient(recipient)
            .addAllTypes(Arrays.asList(types))
            .build());
  }

  /** Checks one recipient with every option of the request (recipient type, brand). Retried. */
  public CheckConsentResponse check(CheckConsentRequest request) {
    Objects.requireNonNull(request, "request");
    return call(
        ConsentServiceGrpc.getCheckConsentMethod(),
        request,
        () -> deadline(consentBlocking).checkConsent(request));
  }

  /**
   * Checks many recipients: one {@code BatchCheckConsents} call per {@value #BATCH_LIMIT} checks
   * (each retried on its own), the items returned in the order of {@code checks}. A malformed
   * recipient fails only its own item: see {@link CheckConsentItem#getError()} and {@link
   * IzinException#fromStatus}.
   */
  public List<CheckConsentItem> batchCheck(List<CheckConsentRequest> checks) {
    Objects.requireNonNull(checks, "checks");
    List<CheckConsentItem> items = new ArrayList<>(checks.size());
    for (int start = 0; start < checks.size(); start += BATCH_LIMIT) {
      List<CheckConsentRequest> chunk =
          checks.subList(start, Math.min(checks.size(), start + BATCH_LIMIT));
      BatchCheckConsentsRequest request =
          BatchCheckConsentsRequest.newBuilder().addAllChecks(chunk).build();
      BatchCheckConsentsResponse response =
          call(
              ConsentServiceGrpc.getBatchCheckConsentsMethod(),
              request,
              () -> deadline(consentBlocking).batchCheckConsents(request));
      if (response.getItemsCount() != chunk.size()) {
        throw new IzinException(
            Status.Code.INTERNAL,
            "BatchCheckConsents answered "
                + response.getItemsCount()
                + " items for "
                + chunk.size()
                + " checks",
            null,
            null,
            null);
      }
      items.addAll(response.getItemsList());
    }
    return Collections.unmodifiableList(items);
  }

  /**
   * Checks a list of any size over one {@code StreamCheckConsents} stream. Checks are taken from
   * {@code checks} only as answers are consumed (at most {@link Builder#streamWindow} ahead), so
   * memory stays bounded. Each answer's {@code correlation_id} is the 0-based index of its check.
   * Not retried and without a deadline; close the result to stop early.
   */
  public CheckStream streamCheck(Iterator<CheckConsentRequest> checks) {
    Objects.requireNonNull(checks, "checks");
    Iterator<StreamCheckConsentsRequest> requests =
        new Iterator<StreamCheckConsentsRequest>() {
          private long index;

          @Override
          public boolean hasNext() {
            return checks.hasNext();
          }

          @Override
          public StreamCheckConsentsRequest next() {
            return StreamCheckConsentsRequest.newBuilder()
                .setCheck(checks.next())
                .setCorrelationId(Long.toString(index++))
                .build();
          }
        };
    return streamCheckConsents(requests);
  }

  /** Like {@link #streamCheck}, with correlation ids of the caller's choosing. */
  public CheckStream streamCheckConsents(Iterator<StreamCheckConsentsRequest> requests) {
    Objects.requireNonNull(requests, "requests");
    return new CheckStream(consentAsync, requests, streamWindow);
  }

  /**
   * Records a consent (ONAY) obtained by the source. Retried: a request without an idempotency key
   * gets a random one, so a retry cannot record twice.
   */
  public RecordConsentResponse recordConsent(RecordConsentRequest request) {
    Objects.requireNonNull(request, "request");
    RecordConsentRequest keyed =
        request.getIdempotencyKey().isEmpty()
            ? request.toBuilder().setIdempotencyKey(UUID.randomUUID().toString()).build()
            : request;
    return call(
        ConsentServiceGrpc.getRecordConsentMethod(),
        keyed,
        () -> deadline(consentBlocking).recordConsent(keyed));
  }

  /**
   * Records a rejection (RET) of the given types (none means every type that fits the recipient);
   * the very next check sees it. Retried (rejecting twice changes nothing).
   */
  public RejectConsentResponse reject(String recipient, ConsentType... types) {
    Objects.requireNonNull(recipient, "recipient");
    return reject(
        RejectConsentRequest.newBuilder()
            .setRecipient(recipient)
            .addAllTypes(Arrays.asList(types))
            .build());
  }

  /** Records a rejection with every option of the request. Retried. */
  public RejectConsentResponse reject(RejectConsentRequest request) {
    Objects.requireNonNull(request, "request");
    return call(
        ConsentServiceGrpc.getRejectConsentMethod(),
        request,
        () -> deadline(consentBlocking).rejectConsent(request));
  }

  /** Lists consent events, newest first, with their evidence. Retried. */
  public ListConsentEventsResponse listConsentEvents(ListConsentEventsRequest request) {
    Objects.requireNonNull(request, "request");
    return call(
        ConsentServiceGrpc.getListConsentEventsMethod(),
        request,
        () -> deadline(consentBlocking).listConsentEvents(request));
  }

  // ---- VerificationService -------------------------------------------------------------------

  /**
   * Sends {@code recipient} (a mobile number) an SMS with an activation code for the given types;
   * the customer gives the code to you and you pass it to {@link #submitCode}.
   */
  public Verification startSmsVerification(String recipient, ConsentType... types) {
    return startVerification(recipient, VerificationMethod.VERIFICATION_METHOD_SMS_CODE, types);
  }

  /**
   * Sends {@code recipient} an SMS with a link to the consent page ({@link
   * Verification#getLandingUrl()}); the customer approves there.
   */
  public Verification startLandingPageVerification(String recipient, ConsentType... types) {
    return startVerification(
        recipient, VerificationMethod.VERIFICATION_METHOD_LANDING_PAGE, types);
  }

  private Verification startVerification(
      String recipient, VerificationMethod method, ConsentType... types) {
    Objects.requireNonNull(recipient, "recipient");
    return startVerification(
            StartVerificationRequest.newBuilder()
                .setRecipient(recipient)
                .setMethod(method)
                .addAllTypes(Arrays.asList(types))
                .build())
        .getVerification();
  }

  /**
   * Starts a verification with every option of the request (brand, customer details, operator).
   * Retried: a request without an idempotency key gets a random one, so a retry sends no second
   * SMS.
   */
  public StartVerificationResponse startVerification(StartVerificationRequest request) {
    Objects.requireNonNull(request, "request");
    StartVerificationRequest keyed =
        request.getIdempotencyKey().isEmpty()
            ? request.toBuilder().setIdempotencyKey(UUID.randomUUID().toString()).build()
            : request;
    return call(
        VerificationServiceGrpc.getStartVerificationMethod(),
        keyed,
        () -> deadline(verificationBlocking).startVerification(keyed));
  }

  /**
   * Submits the code the customer gave. On success the verification is {@code VERIFIED} and the
   * consent is recorded. A wrong code throws {@code INVALID_ARGUMENT} with reason {@code
   * ERROR_REASON_INVALID_CODE} and {@link IzinException#getAttemptsLeft()}. Never retried: a
   * repeated wrong code would use up an attempt.
   */
  public SubmitCodeResponse submitCode(String verificationId, String code) {
    Objects.requireNonNull(verificationId, "verificationId");
    Objects.requireNonNull(code, "code");
    SubmitCodeRequest request =
        SubmitCodeRequest.newBuilder().setId(verificationId).setCode(code).build();
    return call(
        VerificationServiceGrpc.getSubmitCodeMethod(),
        request,
        () -> deadline(verificationBlocking).submitCode(request));
  }

  /** Reads a verification. Retried. */
  public Verification getVerification(String verificationId) {
    Objects.requireNonNull(verificationId, "verificationId");
    GetVerificationRequest request = GetVerificationRequest.newBuilder().setId(verificationId).build();
    return call(
        VerificationServiceGrpc.getGetVerificationMethod(),
        request,
        () -> deadline(verificationBlocking).getVerification(request))
        .getVerification();
  }

  /** Sends a new code (the old one stops working), within the resend limits. Not retried. */
  public Verification resendCode(String verificationId) {
    Objects.requireNonNull(verificationId, "verificationId");
    ResendCodeRequest request = ResendCodeRequest.newBuilder().setId(verificationId).build();
    return call(
        VerificationServiceGrpc.getResendCodeMethod(),
        request,
        () -> deadline(verificationBlocking).resendCode(request)).getVerification();
  }

  /** Cancels a pending verification. Not retried. */
  public Verification cancelVerification(String verificationId) {
    Objects.requireNonNull(verificationId, "verificationId");
    CancelVerificationRequest request =
        CancelVerificationRequest.newBuilder().setId(verificationId).build();
    return call(
        VerificationServiceGrpc.getCancelVerificationMethod(),
        request,
        () -> deadline(verificationBlocking).cancelVerification(request))
        .getVerification();
  }

  // ---- AdminService --------------------------------------------------------------------------

  /**
   * The SMS messages sent to {@code recipient} (any spelling), newest first: the first page at the
   * server's default page size. Needs an ADMIN key. Retried.
   */
  public List<Message> listMessages(String recipient) {
    Objects.requireNonNull(recipient, "recipient");
    return listMessages(ListMessagesRequest.newBuilder().setRecipient(recipient).build())
        .getMessagesList();
  }

  /** Lists SMS messages with paging. Needs an ADMIN key. Retried. */
  public ListMessagesResponse listMessages(ListMessagesRequest request) {
    Objects.requireNonNull(request, "request");
    return call(
        AdminServiceGrpc.getListMessagesMethod(),
        request,
        () -> deadline(adminBlocking).listMessages(request));
  }

  // ---- Raw access ----------------------------------------------------------------------------

  /** The authenticated channel, for stubs of your own. */
  public Channel channel() {
    return channel;
  }

  /** The blocking ConsentService stub (authenticated; no deadline, no retries). */
  public ConsentServiceGrpc.ConsentServiceBlockingStub consentBlockingStub() {
    return consentBlocking;
  }

  /** The asynchronous ConsentService stub (authenticated; no deadline, no retries). */
  public ConsentServiceGrpc.ConsentServiceStub consentStub() {
    return consentAsync;
  }

  /** The blocking VerificationService stub (authenticated; no deadline, no retries). */
  public VerificationServiceGrpc.VerificationServiceBlockingStub verificationBlockingStub() {
    return verificationBlocking;
  }

  /** The asynchronous VerificationService stub (authenticated; no deadline, no retries). */
  public VerificationServiceGrpc.VerificationServiceStub verificationStub() {
    return verificationAsync;
  }

  /** The blocking AdminService stub (authenticated; no deadline, no retries). */
  public AdminServiceGrpc.AdminServiceBlockingStub adminBlockingStub() {
    return adminBlocking;
  }

  /** The asynchronous AdminService stub (authenticated; no deadline, no retries). */
  public AdminServiceGrpc.AdminServiceStub adminStub() {
    return adminAsync;
  }

  /** The retry policy in use. */
  public RetryPolicy retryPolicy() {
    return retryPolicy;
  }

  /**
   * Shuts down the connection this client opened (waiting up to 5 seconds for calls to end). A
   * channel passed to {@link Builder#channel} is left open: it is the caller's to close.
   */
  @Override
  public void close() {
    if (ownedChannel == null) {
      return;
    }
    ownedChannel.shutdown();
    try {
      if (!ownedChannel.awaitTermination(5, TimeUnit.SECONDS)) {
        ownedChannel.shutdownNow();
      }
    } catch (InterruptedException e) {
      ownedChannel.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }

  // ---- Internals -----------------------------------------------------------------------------

  private <S extends AbstractStub<S>> S deadline(S stub) {
    return stub.withDeadlineAfter(deadline.toNanos(), TimeUnit.NANOSECONDS);
  }

  /**
   * Runs {@code rpc}, retrying per the policy when {@link Idempotency#retriesAllowed} says that
   * {@code method} with {@code request} is safe to repeat.
   */
  private <T> T call(
      MethodDescriptor<?, ?> method, com.google.protobuf.Message request, Supplier<T> rpc) {
    boolean idempotent = Idempotency.retriesAllowed(method, request);
    for (int attempt = 1; ; attempt++) {
      try {
        return rpc.get();
      } catch (StatusRuntimeException e) {
        IzinException error = IzinException.from(e);
        Duration delay = idempotent ? retryPolicy.nextDelay(attempt, error, random) : null;
        if (delay == null) {
          throw error;
        }
        try {
          sleeper.sleep(delay);
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          error.addSuppressed(ie);
          throw error;
        }
      }
    }
  }

  private static String requireKey(String apiKey) {
    Objects.requireNonNull(apiKey, "apiKey");
    if (apiKey.isEmpty()) {
      throw new IllegalArgumentException("apiKey must not be empty");
    }
    return apiKey;
  }

  /** Builds an {@link IzinClient}. */
  public static final class Builder {
    private String target;
    private String apiKey;
    private boolean plaintext;
    private Channel channel;
    private Duration deadline = Duration.ofSeconds(10);
    private RetryPolicy retryPolicy = RetryPolicy.defaults();
    private int streamWindow = 1000;
    private Sleeper sleeper = d -> TimeUnit.NANOSECONDS.sleep(d.toNanos());
    private DoubleSupplier random = () -> ThreadLocalRandom.current().nextDouble();

    private Builder() {}

    /** The server, as a gRPC target: {@code "host:port"} or e.g. {@code "dns:///host:443"}. */
    public Builder target(String target) {
      this.target = Objects.requireNonNull(target, "target");
      return this;
    }

    /** The API key, sent as {@code authorization: Bearer <key>}. Required. */
    public Builder apiKey(String apiKey) {
      this.apiKey = requireKey(apiKey);
      return this;
    }

    /** Connect without TLS (local development and tests only). */
    public Builder usePlaintext() {
      this.plaintext = true;
      return this;
    }

    /** Connect with TLS, checking the server's certificate against the system's roots. Default. */
    public Builder useTransportSecurity() {
      this.plaintext = false;
      return this;
    }

    /**
     * Use this channel (e.g. a {@code ManagedChannel} with your own TLS, proxy or transport
     * settings) instead of opening one for {@link #target}. The client adds the API key to its
     * calls but does not close the channel.
     */
    public Builder channel(Channel channel) {
      this.channel = Objects.requireNonNull(channel, "channel");
      return this;
    }

    /** The deadline of each attempt of a unary call (default 10 seconds). */
    public Builder deadline(Duration deadline) {
      Objects.requireNonNull(deadline, "deadline");
      if (deadline.isZero() || deadline.isNegative()) {
        throw new IllegalArgumentException("deadline must be positive");
      }
      this.deadline = deadline;
      return this;
    }

    /** How calls are retried (default {@link RetryPolicy#defaults()}). */
    public Builder retryPolicy(RetryPolicy retryPolicy) {
      this.retryPolicy = Objects.requireNonNull(retryPolicy, "retryPolicy");
      return this;
    }

    /** The most checks a {@link CheckStream} sends ahead of the answers consumed (default 1000). */
    public Builder streamWindow(int streamWindow) {
      if (streamWindow < 1) {
        throw new IllegalArgumentException("streamWindow must be at least 1");
      }
      this.streamWindow = streamWindow;
      return this;
    }

    Builder sleeper(Sleeper sleeper) {
      this.sleeper = Objects.requireNonNull(sleeper);
      return this;
    }

    Builder random(DoubleSupplier random) {
      this.random = Objects.requireNonNull(random);
      return this;
    }

    /**
     * Builds the client.
     *
     * @throws IllegalStateException when no API key or target is set, or no gRPC transport is on
     *     the classpath
     */
    public IzinClient build() {
      if (apiKey == null) {
        throw new IllegalStateException("an API key is required: apiKey(...)");
      }
      ManagedChannel owned = null;
      Channel base = channel;
      if (base == null) {
        if (target == null) {
          throw new IllegalStateException("a target or a channel is required");
        }
        ChannelCredentials creds =
            plaintext ? InsecureChannelCredentials.create() : TlsChannelCredentials.create();
        try {
          owned =
              Grpc.newChannelBuilder(target, creds)
                  .userAgent("izin-java/" + Version.VERSION)
                  .build();
        } catch (ManagedChannelRegistry.ProviderNotFoundException e) {
          throw new IllegalStateException(
              "no gRPC transport on the classpath: add io.grpc:grpc-netty-shaded (servers) or"
                  + " io.grpc:grpc-okhttp (Android)",
              e);
        }
        base = owned;
      }
      return new IzinClient(
          owned, base, apiKey, deadline, retryPolicy, streamWindow, sleeper, random);
    }
  }
}
