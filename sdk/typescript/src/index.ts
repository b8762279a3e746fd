/**
 * @izinhq/izin: a TypeScript client for izin, the consent server for
 * commercial electronic messages in Turkey (ETK/KVKK, İYS).
 *
 * ```ts
 * import { IzinClient } from "@izinhq/izin";
 * const izin = new IzinClient({ baseUrl: "http://localhost:8080", apiKey: process.env.IZIN_KEY! });
 * const res = await izin.check("+90 532 123 45 67", ["SMS"]);
 * ```
 *
 * The request and response types are the protobuf-es messages generated from
 * izin's protos (proto/izin/v1), re-exported here.
 */
export {
  IzinClient,
  MAX_BATCH_CHECKS,
  chunk,
  consentTypes,
  type BatchCheckConsentsInput,
  type CallOptions,
  type CheckConsentInput,
  type ConsentTypeLike,
  type FetchFn,
  type IzinClientOptions,
  type ListConsentEventsInput,
  type ListMessagesInput,
  type RecordConsentInput,
  type RejectConsentInput,
  type StartVerificationInput,
} from "./client.js";
export {
  IzinError,
  codeFromHttpStatus,
  parseDuration,
  type ErrorCode,
  type FieldViolation,
  type IzinErrorInit,
} from "./errors.js";
export { DEFAULT_RETRY, backoffDelay, retriesAllowed, type RetryOptions, type RetryPolicy } from "./retry.js";
export { registry } from "./registry.js";
export { VERSION } from "./version.js";
export type { Status } from "./gen/google/rpc/status_pb.js";
export * from "./gen/izin/v1/types_pb.js";
export * from "./gen/izin/v1/consent_service_pb.js";
export * from "./gen/izin/v1/verification_service_pb.js";
export * from "./gen/izin/v1/admin_service_pb.js";
