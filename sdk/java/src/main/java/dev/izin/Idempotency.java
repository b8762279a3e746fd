package dev.izin;

import com.google.protobuf.DescriptorProtos.MethodOptions.IdempotencyLevel;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import io.grpc.MethodDescriptor;
import io.grpc.protobuf.ProtoMethodDescriptorSupplier;

/** Which calls may be sent again after a failure, as the proto declares them. */
final class Idempotency {
  private Idempotency() {}

  /**
   * True when the method's {@code idempotency_level} (read from its generated descriptor) is
   * NO_SIDE_EFFECTS or IDEMPOTENT, or when the request carries an {@code idempotency_key}, with
   * which the server replays the first answer.
   */
  static boolean retriesAllowed(MethodDescriptor<?, ?> method, Message request) {
    if (declaredIdempotent(method)) {
      return true;
    }
    FieldDescriptor key = request.getDescriptorForType().findFieldByName("idempotency_key");
    return key != null && !((String) request.getField(key)).isEmpty();
  }

  /** Whether the proto declares {@code method} NO_SIDE_EFFECTS or IDEMPOTENT. */
  static boolean declaredIdempotent(MethodDescriptor<?, ?> method) {
    Object schema = method.getSchemaDescriptor();
    if (!(schema instanceof ProtoMethodDescriptorSupplier)) {
      return false;
    }
    IdempotencyLevel level =
        ((ProtoMethodDescriptorSupplier) schema)
            .getMethodDescriptor()
            .getOptions()
            .getIdempotencyLevel();
    return level == IdempotencyLevel.NO_SIDE_EFFECTS || level == IdempotencyLevel.IDEMPOTENT;
  }
}
