import { createRegistry } from "@bufbuild/protobuf";
import { file_google_rpc_error_details } from "./gen/google/rpc/error_details_pb.js";
import { file_google_rpc_status } from "./gen/google/rpc/status_pb.js";
import { file_izin_v1_admin_service } from "./gen/izin/v1/admin_service_pb.js";
import { file_izin_v1_consent_service } from "./gen/izin/v1/consent_service_pb.js";
import { file_izin_v1_types } from "./gen/izin/v1/types_pb.js";
import { file_izin_v1_verification_service } from "./gen/izin/v1/verification_service_pb.js";

/**
 * The types a google.protobuf.Any in an izin response may hold: the
 * google.rpc error details (in the google.rpc.Status of BatchCheckConsents
 * items) and the izin messages.
 */
export const registry = createRegistry(
  file_google_rpc_status,
  file_google_rpc_error_details,
  file_izin_v1_types,
  file_izin_v1_consent_service,
  file_izin_v1_verification_service,
  file_izin_v1_admin_service,
);
