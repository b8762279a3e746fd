package dev.izin;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.BadRequest;
import com.google.rpc.ErrorInfo;
import com.google.rpc.RetryInfo;
import dev.izin.v1.ErrorReason;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

/**
 * An error returned by izin, with the {@code google.rpc} details decoded.
 *
 * <p>{@link #getCode()} is the gRPC status code. For validation errors {@link #getField()} names
 * the violated request field ({@code google.rpc.BadRequest}); for errors a client is expected to
 * handle {@link #getReason()} is an {@code ERROR_REASON_*} name ({@code google.rpc.ErrorInfo},
 * domain {@code izin.dev}) with {@link #getMetadata()} such as {@code attempts_left}; on {@code
 * RESOURCE_EXHAUSTED} {@link #getRetryAfter()} says when to try again ({@code
 * google.rpc.RetryInfo}).
 */
public class IzinException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final Status.Code code;
  private final String description;
  private final transient com.google.rpc.Status details;
  private final transient Metadata trailers;
  private final transient List<BadRequest.FieldViolation> violations;
  private final transient ErrorInfo errorInfo;
  private final Duration retryAfter;

  /**
   * Creates an exception from a status and its details.
   *
   * @param code the gRPC status code
   * @param description the status message, may be null
   * @param details the {@code google.rpc.Status} with its details, may be null
   * @param trailers the response trailers, may be null
   * @param cause the underlying exception, may be null
   */
  public IzinException(
      Status.Code code,
      String description,
      com.google.rpc.Status details,
      Metadata trailers,
      Throwable cause) {
    super(message(code, description), cause);
    this.code = code;
    this.description = description == null ? "" : description;
    this.details = details;
    this.trailers = trailers;
    List<BadRequest.FieldViolation> vs = new ArrayList<>();
    ErrorInfo info = null;
    Duration retry = null;
    if (details != null) {
      for (Any any : details.getDetailsList()) {
        try {
          if (any.is(BadRequest.class)) {
            vs.addAll(any.unpack(BadRequest.class).getFieldViolationsList());
          } else if (any.is(ErrorInfo.class)) {
            if (info == null) {
              info = any.unpack(ErrorInfo.class);
            }
          } else if (any.is(RetryInfo.class)) {
            com.google.protobuf.Duration d = any.unpack(RetryInfo.class).getRetryDelay();
            retry = Duration.ofSeconds(d.getSeconds(), d.getNanos());
          }
        } catch (InvalidProtocolBufferException e) {
          // A malformed detail is skipped; the code and message still hold.
        }
      }
    }
    this.violations = Collections.unmodifiableList(vs);
    this.errorInfo = info;
    this.retryAfter = retry;
  }

  private static String message(Status.Code code, String description) {
    return description == null || description.isEmpty() ? code.name() : code + ": " + description;
  }

  /**
   * Converts any exception thrown by a gRPC call into an {@link IzinException}: a {@link
   * StatusRuntimeException} or {@link StatusException} keeps its code, message, trailers and
   * details; an {@link IzinException} is returned as is; anything else becomes {@code UNKNOWN}.
   */
  public static IzinException from(Throwable t) {
    if (t instanceof IzinException) {
      return (IzinException) t;
    }
    Status status = Status.fromThrowable(t);
    Metadata trailers = Status.trailersFromThrowable(t);
    com.google.rpc.Status details = StatusProto.fromThrowable(t);
    return new IzinException(status.getCode(), status.getDescription(), details, trailers, t);
  }

  /**
   * Converts the {@code google.rpc.Status} of one failed item (of a batch or stream check) into an
   * {@link IzinException}, or returns null when {@code status} is null or OK.
   */
  public static IzinException fromStatus(com.google.rpc.Status status) {
    if (status == null || status.getCode() == 0) {
      return null;
    }
    return new IzinException(
        Status.fromCodeValue(status.getCode()).getCode(), status.getMessage(), status, null, null);
  }

  /** The gRPC status code, e.g. {@code INVALID_ARGUMENT}. */
  public Status.Code getCode() {
    return code;
  }

  /** The status message from the server ("" when none). */
  public String getDescription() {
    return description;
  }

  /**
   * The first violated request field ({@code google.rpc.BadRequest.field_violations[0].field}),
   * e.g. {@code "recipient"}; null when the error names no field.
   */
  public String getField() {
    return violations.isEmpty() ? null : violations.get(0).getField();
  }

  /** All field violations of a {@code google.rpc.BadRequest} detail (empty when none). */
  public List<BadRequest.FieldViolation> getViolations() {
    return violations;
  }

  /**
   * The {@code google.rpc.ErrorInfo} reason, e.g. {@code "ERROR_REASON_INVALID_CODE"}; null when
   * the error carries none.
   */
  public String getReason() {
    return errorInfo == null ? null : errorInfo.getReason();
  }

  /**
   * The reason as an enum: {@link ErrorReason#ERROR_REASON_UNSPECIFIED} when there is none, {@link
   * ErrorReason#UNRECOGNIZED} when this SDK does not know it.
   */
  public ErrorReason getErrorReason() {
    String reason = getReason();
    if (reason == null || reason.isEmpty()) {
      return ErrorReason.ERROR_REASON_UNSPECIFIED;
    }
    try {
      return ErrorReason.valueOf(reason);
    } catch (IllegalArgumentException e) {
      return ErrorReason.UNRECOGNIZED;
    }
  }

  /** The {@code google.rpc.ErrorInfo} domain ({@code "izin.dev"}); null when none. */
  public String getDomain() {
    return errorInfo == null ? null : errorInfo.getDomain();
  }

  /** The {@code google.rpc.ErrorInfo} metadata, e.g. {@code attempts_left}; empty when none. */
  public Map<String, String> getMetadata() {
    return errorInfo == null ? Collections.emptyMap() : errorInfo.getMetadataMap();
  }

  /** {@code attempts_left} from the metadata of an invalid-code error, if present. */
  public OptionalInt getAttemptsLeft() {
    String v = getMetadata().get("attempts_left");
    if (v == null) {
      return OptionalInt.empty();
    }
    try {
      return OptionalInt.of(Integer.parseInt(v));
    } catch (NumberFormatException e) {
      return OptionalInt.empty();
    }
  }

  /** How long to wait before trying again ({@code google.rpc.RetryInfo}); null when not given. */
  public Duration getRetryAfter() {
    return retryAfter;
  }

  /**
   * The {@code google.rpc.Status} with all its details, as the server sent it (made of the code and
   * message when it sent no details); null only for errors that did not come from a call.
   */
  public com.google.rpc.Status getStatusDetails() {
    return details;
  }

  /** The gRPC response trailers; null for item errors and errors raised before a call. */
  public Metadata getTrailers() {
    return trailers;
  }
}
