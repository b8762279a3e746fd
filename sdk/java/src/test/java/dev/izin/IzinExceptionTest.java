package dev.izin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Any;
import com.google.rpc.BadRequest;
import com.google.rpc.ErrorInfo;
import com.google.rpc.RetryInfo;
import dev.izin.v1.ErrorReason;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import java.time.Duration;
import java.util.Map;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

class IzinExceptionTest {
  static com.google.rpc.Status invalidCode() {
    return com.google.rpc.Status.newBuilder()
        .setCode(Status.Code.INVALID_ARGUMENT.value())
        .setMessage("code: does not match")
        .addDetails(
            Any.pack(
                BadRequest.newBuilder()
                    .addFieldViolations(
                        BadRequest.FieldViolation.newBuilder()
                            .setField("code")
                            .setDescription("does not match"))
                    .addFieldViolations(
                        BadRequest.FieldViolation.newBuilder().setField("id").setDescription("x"))
                    .build()))
        .addDetails(
            Any.pack(
                ErrorInfo.newBuilder()
                    .setReason("ERROR_REASON_INVALID_CODE")
                    .setDomain("izin.dev")
                    .putMetadata("attempts_left", "2")
                    .build()))
        .build();
  }

  @Test
  void decodesBadRequestAndErrorInfo() {
    StatusRuntimeException sre = StatusProto.toStatusRuntimeException(invalidCode());
    IzinException e = IzinException.from(sre);
    assertEquals(Status.Code.INVALID_ARGUMENT, e.getCode());
    assertEquals("code: does not match", e.getDescription());
    assertEquals("INVALID_ARGUMENT: code: does not match", e.getMessage());
    assertEquals("code", e.getField());
    assertEquals(2, e.getViolations().size());
    assertEquals("id", e.getViolations().get(1).getField());
    assertEquals("ERROR_REASON_INVALID_CODE", e.getReason());
    assertEquals(ErrorReason.ERROR_REASON_INVALID_CODE, e.getErrorReason());
    assertEquals("izin.dev", e.getDomain());
    assertEquals(Map.of("attempts_left", "2"), e.getMetadata());
    assertEquals(OptionalInt.of(2), e.getAttemptsLeft());
    assertNull(e.getRetryAfter());
    assertSame(sre, e.getCause());
    assertEquals(invalidCode(), e.getStatusDetails());
    assertTrue(e.getTrailers() != null);
  }

  @Test
  void decodesRetryInfo() {
    com.google.rpc.Status st =
        com.google.rpc.Status.newBuilder()
            .setCode(Status.Code.RESOURCE_EXHAUSTED.value())
            .setMessage("slow down")
            .addDetails(
                Any.pack(
                    RetryInfo.newBuilder()
                        .setRetryDelay(
                            com.google.protobuf.Duration.newBuilder().setSeconds(60).setNanos(5))
                        .build()))
            .addDetails(
                Any.pack(ErrorInfo.newBuilder().setReason("ERROR_REASON_RATE_LIMITED").build()))
            .build();
    IzinException e = IzinException.from(StatusProto.toStatusException(st));
    assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getCode());
    assertEquals(Duration.ofSeconds(60, 5), e.getRetryAfter());
    assertEquals(ErrorReason.ERROR_REASON_RATE_LIMITED, e.getErrorReason());
    assertNull(e.getField());
    assertTrue(e.getViolations().isEmpty());
  }

  @Test
  void statusWithoutDetails() {
    IzinException e =
        IzinException.from(Status.UNAUTHENTICATED.withDescription("bad key").asRuntimeException());
    assertEquals(Status.Code.UNAUTHENTICATED, e.getCode());
    assertEquals("bad key", e.getDescription());
    assertNull(e.getField());
    assertNull(e.getReason());
    assertNull(e.getDomain());
    assertEquals(ErrorReason.ERROR_REASON_UNSPECIFIED, e.getErrorReason());
    assertTrue(e.getMetadata().isEmpty());
    assertEquals(OptionalInt.empty(), e.getAttemptsLeft());
    assertNull(e.getRetryAfter());
    assertEquals(0, e.getStatusDetails().getDetailsCount());
  }

  @Test
  void unknownReasonAndForeignExceptions() {
    com.google.rpc.Status st =
        com.google.rpc.Status.newBuilder()
            .setCode(Status.Code.FAILED_PRECONDITION.value())
            .addDetails(Any.pack(ErrorInfo.newBuilder().setReason("SOMETHING_NEW").build()))
            .build();
    IzinException e = IzinException.fromStatus(st);
    assertEquals(Status.Code.FAILED_PRECONDITION, e.getCode());
    assertEquals("SOMETHING_NEW", e.getReason());
    assertEquals(ErrorReason.UNRECOGNIZED, e.getErrorReason());
    assertEquals("FAILED_PRECONDITION", e.getMessage());
    assertNull(e.getTrailers());

    assertNull(IzinException.fromStatus(null));
    assertNull(IzinException.fromStatus(com.google.rpc.Status.getDefaultInstance()));

    IzinException other = IzinException.from(new IllegalStateException("boom"));
    assertEquals(Status.Code.UNKNOWN, other.getCode());
    assertSame(other, IzinException.from(other));
  }

  @Test
  void itemErrorsOfABatch() {
    IzinException e = IzinException.fromStatus(invalidCode());
    assertEquals(Status.Code.INVALID_ARGUMENT, e.getCode());
    assertEquals("code", e.getField());
    assertEquals("2", e.getMetadata().get("attempts_left"));
  }
}
