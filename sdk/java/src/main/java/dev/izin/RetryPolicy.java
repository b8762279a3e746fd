package dev.izin;

import io.grpc.Status;
import java.time.Duration;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;
import java.util.function.DoubleSupplier;

/**
 * When and how often the client retries a failed call.
 *
 * <p>Only calls that are safe to repeat are retried: checks, reads, rejections, and starts and
 * records that carry an idempotency key (the client sets one when the request has none). {@code
 * SubmitCode}, {@code ResendCode} and {@code CancelVerification} are never retried.
 *
 * <p>A call is retried on {@code UNAVAILABLE} and {@code RESOURCE_EXHAUSTED}, at most {@link
 * #maxAttempts()} times in all, after an exponential backoff with jitter: attempt {@code n} waits
 * {@code min(maxBackoff, initialBackoff * multiplier^(n-1))}, spread by ±{@code jitter}. When the
 * server sends {@code google.rpc.RetryInfo}, the wait is at least its delay; a delay longer than
 * {@link #maxRetryDelay()} is not waited for, and the error is thrown at once (see {@link
 * IzinException#getRetryAfter()}).
 */
public final class RetryPolicy {
  private static final RetryPolicy DEFAULTS = builder().build();
  private static final RetryPolicy NONE = builder().maxAttempts(1).build();

  private final int maxAttempts;
  private final Duration initialBackoff;
  private final Duration maxBackoff;
  private final double multiplier;
  private final double jitter;
  private final Duration maxRetryDelay;
  private final Set<Status.Code> retryableCodes;

  private RetryPolicy(Builder b) {
    this.maxAttempts = b.maxAttempts;
    this.initialBackoff = b.initialBackoff;
    this.maxBackoff = b.maxBackoff;
    this.multiplier = b.multiplier;
    this.jitter = b.jitter;
    this.maxRetryDelay = b.maxRetryDelay;
    this.retryableCodes = Collections.unmodifiableSet(EnumSet.copyOf(b.retryableCodes));
  }

  /**
   * The default policy: 4 attempts, backoff 200 ms doubling up to 5 s, ±20% jitter, RetryInfo
   * delays up to 10 s honoured.
   */
  public static RetryPolicy defaults() {
    return DEFAULTS;
  }

  /** A policy that never retries. */
  public static RetryPolicy none() {
    return NONE;
  }

  /** A builder starting from the defaults. */
  public static Builder builder() {
    return new Builder();
  }

  /** Attempts in all, the first included (1 means no retry). */
  public int maxAttempts() {
    return maxAttempts;
  }

  public Duration initialBackoff() {
    return initialBackoff;
  }

  public Duration maxBackoff() {
    return maxBackoff;
  }

  public double multiplier() {
    return multiplier;
  }

  /** The relative spread of each wait, 0 to 1. */
  public double jitter() {
    return jitter;
  }

  /** The longest server-requested delay (RetryInfo) that is waited for before retrying. */
  public Duration maxRetryDelay() {
    return maxRetryDelay;
  }

  /** The codes that are retried. */
  public Set<Status.Code> retryableCodes() {
    return retryableCodes;
  }

  /** Whether an error with this code may be retried. */
  public boolean isRetryable(Status.Code code) {
    return retryableCodes.contains(code);
  }

  /**
   * The wait before the next attempt after attempt {@code attempt} (1-based) failed, or null when
   * the call must not be retried: attempts used up, a code that is not retryable, or a
   * server-requested delay longer than {@link #maxRetryDelay()}.
   *
   * @param random uniform values in [0, 1) for the jitter
   */
  public Duration nextDelay(int attempt, IzinException error, DoubleSupplier random) {
    if (attempt >= maxAttempts || !isRetryable(error.getCode())) {
      return null;
    }
    double base = initialBackoff.toNanos() * Math.pow(multiplier, attempt - 1);
    base = Math.min(base, maxBackoff.toNanos());
    double spread = 1 + jitter * (2 * random.getAsDouble() - 1);
    Duration delay = Duration.ofNanos((long) (base * spread));
    Duration retryAfter = error.getRetryAfter();
    if (retryAfter != null) {
      if (retryAfter.compareTo(maxRetryDelay) > 0) {
        return null;
      }
      if (retryAfter.compareTo(delay) > 0) {
        delay = retryAfter;
      }
    }
    return delay;
  }

  @Override
  public String toString() {
    return "RetryPolicy{maxAttempts="
        + maxAttempts
        + ", initialBackoff="
        + initialBackoff
        + ", maxBackoff="
        + maxBackoff
        + ", multiplier="
        + multiplier
        + ", jitter="
        + jitter
        + ", maxRetryDelay="
        + maxRetryDelay
        + ", retryableCodes="
        + retryableCodes
        + "}";
  }

  /** Builds a {@link RetryPolicy}. */
  public static final class Builder {
    private int maxAttempts = 4;
    private Duration initialBackoff = Duration.ofMillis(200);
    private Duration maxBackoff = Duration.ofSeconds(5);
    private double multiplier = 2.0;
    private double jitter = 0.2;
    private Duration maxRetryDelay = Duration.ofSeconds(10);
    private Set<Status.Code> retryableCodes =
        EnumSet.of(Status.Code.UNAVAILABLE, Status.Code.RESOURCE_EXHAUSTED);

    private Builder() {}

    public Builder maxAttempts(int maxAttempts) {
      if (maxAttempts < 1) {
        throw new IllegalArgumentException("maxAttempts must be at least 1");
      }
      this.maxAttempts = maxAttempts;
      return this;
    }

    public Builder initialBackoff(Duration initialBackoff) {
      this.initialBackoff = nonNegative(initialBackoff, "initialBackoff");
      return this;
    }

    public Builder maxBackoff(Duration maxBackoff) {
      this.maxBackoff = nonNegative(maxBackoff, "maxBackoff");
      return this;
    }

    public Builder multiplier(double multiplier) {
      if (!(multiplier >= 1)) {
        throw new IllegalArgumentException("multiplier must be at least 1");
      }
      this.multiplier = multiplier;
      return this;
    }

    public Builder jitter(double jitter) {
      if (!(jitter >= 0 && jitter <= 1)) {
        throw new IllegalArgumentException("jitter must be between 0 and 1");
      }
      this.jitter = jitter;
      return this;
    }

    public Builder maxRetryDelay(Duration maxRetryDelay) {
      this.maxRetryDelay = nonNegative(maxRetryDelay, "maxRetryDelay");
      return this;
    }

    /** Replaces the retried codes (default UNAVAILABLE and RESOURCE_EXHAUSTED). */
    public Builder retryableCodes(Set<Status.Code> codes) {
      Objects.requireNonNull(codes, "codes");
      this.retryableCodes =
          codes.isEmpty() ? EnumSet.noneOf(Status.Code.class) : EnumSet.copyOf(codes);
      return this;
    }

    public RetryPolicy build() {
      if (maxBackoff.compareTo(initialBackoff) < 0) {
        throw new IllegalArgumentException("maxBackoff must not be below initialBackoff");
      }
      return new RetryPolicy(this);
    }

    private static Duration nonNegative(Duration d, String name) {
      Objects.requireNonNull(d, name);
      if (d.isNegative()) {
        throw new IllegalArgumentException(name + " must not be negative");
      }
      return d;
    }
  }
}
