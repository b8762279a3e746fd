package dev.izin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Any;
import com.google.rpc.RetryInfo;
import io.grpc.Status;
import io.grpc.protobuf.StatusProto;
import java.time.Duration;
import java.util.Set;
import java.util.function.DoubleSupplier;
import org.junit.jupiter.api.Test;

class RetryPolicyTest {
  static final DoubleSupplier MID = () -> 0.5; // no jitter
  static final DoubleSupplier LOW = () -> 0.0; // -jitter
  static final DoubleSupplier HIGH = () -> 0.999999; // ~+jitter

  static IzinException error(Status.Code code) {
    return IzinException.from(Status.fromCode(code).asRuntimeException());
  }

  static IzinException exhausted(Duration retryAfter) {
    com.google.rpc.Status st =
        com.google.rpc.Status.newBuilder()
            .setCode(Status.Code.RESOURCE_EXHAUSTED.value())
            .addDetails(
                Any.pack(
                    RetryInfo.newBuilder()
                        .setRetryDelay(
                            com.google.protobuf.Duration.newBuilder()
                                .setSeconds(retryAfter.getSeconds())
                                .setNanos(retryAfter.getNano()))
                        .build()))
            .build();
    return IzinException.from(StatusProto.toStatusRuntimeException(st));
  }

  @Test
  void exponentialBackoffCappedAtMax() {
    RetryPolicy p =
        RetryPolicy.builder()
            .maxAttempts(10)
            .initialBackoff(Duration.ofMillis(100))
            .maxBackoff(Duration.ofMillis(1000))
            .multiplier(2)
            .build();
    IzinException e = error(Status.Code.UNAVAILABLE);
    assertEquals(Duration.ofMillis(100), p.nextDelay(1, e, MID));
    assertEquals(Duration.ofMillis(200), p.nextDelay(2, e, MID));
    assertEquals(Duration.ofMillis(400), p.nextDelay(3, e, MID));
    assertEquals(Duration.ofMillis(800), p.nextDelay(4, e, MID));
    assertEquals(Duration.ofMillis(1000), p.nextDelay(5, e, MID));
    assertEquals(Duration.ofMillis(1000), p.nextDelay(9, e, MID));
    assertNull(p.nextDelay(10, e, MID), "attempts used up");
  }

  @Test
  void jitterSpreadsTheWait() {
    RetryPolicy p = RetryPolicy.builder().initialBackoff(Duration.ofMillis(1000)).jitter(0.2).build();
    IzinException e = error(Status.Code.UNAVAILABLE);
    assertEquals(Duration.ofMillis(800), p.nextDelay(1, e, LOW));
    Duration high = p.nextDelay(1, e, HIGH);
    assertTrue(high.toMillis() >= 1199 && high.toMillis() <= 1200, high.toString());
  }

  @Test
  void onlyRetryableCodes() {
    RetryPolicy p = RetryPolicy.defaults();
    assertTrue(p.nextDelay(1, error(Status.Code.UNAVAILABLE), MID) != null);
    assertTrue(p.nextDelay(1, error(Status.Code.RESOURCE_EXHAUSTED), MID) != null);
    for (Status.Code c :
        new Status.Code[] {
          Status.Code.INVALID_ARGUMENT,
          Status.Code.UNAUTHENTICATED,
          Status.Code.DEADLINE_EXCEEDED,
          Status.Code.INTERNAL,
          Status.Code.FAILED_PRECONDITION
        }) {
      assertNull(p.nextDelay(1, error(c), MID), c.name());
    }
    RetryPolicy custom =
        RetryPolicy.builder().retryableCodes(Set.of(Status.Code.DEADLINE_EXCEEDED)).build();
    assertTrue(custom.nextDelay(1, error(Status.Code.DEADLINE_EXCEEDED), MID) != null);
    assertNull(custom.nextDelay(1, error(Status.Code.UNAVAILABLE), MID));
  }

  @Test
  void retryInfoIsAFloor() {
    RetryPolicy p = RetryPolicy.builder().initialBackoff(Duration.ofMillis(100)).build();
    assertEquals(Duration.ofSeconds(3), p.nextDelay(1, exhausted(Duration.ofSeconds(3)), MID));
    // A shorter server delay does not shorten the backoff.
    assertEquals(Duration.ofMillis(100), p.nextDelay(1, exhausted(Duration.ofMillis(10)), MID));
  }

  @Test
  void longRetryInfoIsNotWaitedFor() {
    RetryPolicy p = RetryPolicy.builder().maxRetryDelay(Duration.ofSeconds(10)).build();
    assertNull(p.nextDelay(1, exhausted(Duration.ofSeconds(60)), MID));
    assertEquals(Duration.ofSeconds(10), p.nextDelay(1, exhausted(Duration.ofSeconds(10)), MID));
  }

  @Test
  void noneNeverRetries() {
    assertEquals(1, RetryPolicy.none().maxAttempts());
    assertNull(RetryPolicy.none().nextDelay(1, error(Status.Code.UNAVAILABLE), MID));
  }

  @Test
  void defaultsAndValidation() {
    RetryPolicy d = RetryPolicy.defaults();
    assertEquals(4, d.maxAttempts());
    assertEquals(Duration.ofMillis(200), d.initialBackoff());
    assertEquals(Duration.ofSeconds(5), d.maxBackoff());
    assertEquals(Set.of(Status.Code.UNAVAILABLE, Status.Code.RESOURCE_EXHAUSTED), d.retryableCodes());
    assertThrows(IllegalArgumentException.class, () -> RetryPolicy.builder().maxAttempts(0));
    assertThrows(IllegalArgumentException.class, () -> RetryPolicy.builder().jitter(1.5));
    assertThrows(IllegalArgumentException.class, () -> RetryPolicy.builder().multiplier(0.5));
    assertThrows(
        IllegalArgumentException.class,
        () ->
            RetryPolicy.builder()
                .initialBackoff(Duration.ofSeconds(2))
                .maxBackoff(Duration.ofSeconds(1))
                .build());
  }
}
