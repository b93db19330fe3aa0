#include "sora/errors.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>

namespace sora {
namespace {

using google::protobuf::io::CodedInputStream;
using google::protobuf::internal::WireFormatLite;

// The length-delimited fields of one serialised message as (field number, bytes). The status
// details are three tiny google.rpc messages; reading their wire format directly spares the
// client a copy of googleapis' protos for the sake of three strings.
std::vector<std::pair<int, std::string>> LengthDelimitedFields(const std::string& bytes) {
  std::vector<std::pair<int, std::string>> out;
  CodedInputStream in(reinterpret_cast<const std::uint8_t*>(bytes.data()), static_cast<int>(bytes.size()));
  while (std::uint32_t tag = in.ReadTag()) {
    if (WireFormatLite::GetTagWireType(tag) == WireFormatLite::WIRETYPE_LENGTH_DELIMITED) {
      std::uint32_t length = 0;
      std::string value;
      if (!in.ReadVarint32(&length) || !in.ReadString(&value, static_cast<int>(length))) break;
      out.emplace_back(WireFormatLite::GetTagFieldNumber(tag), std::move(value));
    } else if (!WireFormatLite::SkipField(&in, tag)) {
      break;
    }
  }
  return out;
}

struct Details {
  std::string reason;
  std::map<std::string, std::string> metadata;
  std::vector<FieldViolation> violations;
};

// google.rpc.Status{details: [Any{type_url, value}]} with ErrorInfo{reason=1, metadata=3} and
// BadRequest{field_violations=1: {field=1, description=2}}.
Details ParseDetails(const std::string& status_bytes) {
  Details d;
  for (const auto& [number, any] : LengthDelimitedFields(status_bytes)) {
    if (number != 3) continue;
    std::string type_url, value;
    for (const auto& [n, v] : LengthDelimitedFields(any)) {
      if (n == 1) type_url = v;
      if (n == 2) value = v;
    }
    if (type_url.size() >= 9 && type_url.compare(type_url.size() - 9, 9, "ErrorInfo") == 0) {
      for (const auto& [n, v] : LengthDelimitedFields(value)) {
        if (n == 1) d.reason = v;
        if (n == 3) {
          std::string key, val;
          for (const auto& [en, ev] : LengthDelimitedFields(v)) {
            if (en == 1) key = ev;
            if (en == 2) val = ev;
          }
          d.metadata[key] = val;
        }
      }
    } else if (type_url.size() >= 10 && type_url.compare(type_url.size() - 10, 10, "BadRequest") == 0) {
      for (const auto& [n, v] : LengthDelimitedFields(value)) {
        if (n != 1) continue;
        FieldViolation fv;
        for (const auto& [fn, fvv] : LengthDelimitedFields(v)) {
          if (fn == 1) fv.field = fvv;
          if (fn == 2) fv.description = fvv;
        }
        d.violations.push_back(std::move(fv));
      }
    }
  }
  return d;
}

}  // namespace

Error::Error(grpc::StatusCode code, const std::string& message, std::string reason,
             std::map<std::string, std::string> metadata)
    : std::runtime_error(message), code_(code), reason_(std::move(reason)), metadata_(std::move(metadata)) {}

InvalidArgumentError::InvalidArgumentError(const std::string& message, std::vector<FieldViolation> violations,
                                           std::string reason, std::map<std::string, std::string> metadata)
    : Error(grpc::StatusCode::INVALID_ARGUMENT, message, std::move(reason), std::move(metadata)),
      violations_(std::move(violations)) {}

void ThrowIfError(const grpc::Status& status) {
  if (status.ok()) return;
  Details d = ParseDetails(status.error_details());
  const std::string message = status.error_message().empty() ? "gRPC status " + std::to_string(status.error_code())
                                                             : status.error_message();
  switch (status.error_code()) {
    case grpc::StatusCode::INVALID_ARGUMENT:
      throw InvalidArgumentError(message, std::move(d.violations), std::move(d.reason), std::move(d.metadata));
    case grpc::StatusCode::NOT_FOUND:
      throw NotFoundError(message, std::move(d.reason), std::move(d.metadata));
    case grpc::StatusCode::ALREADY_EXISTS:
      throw AlreadyExistsError(message, std::move(d.reason), std::move(d.metadata));
    case grpc::StatusCode::FAILED_PRECONDITION:
      throw FailedPreconditionError(message, std::move(d.reason), std::move(d.metadata));
    case grpc::StatusCode::OUT_OF_RANGE:
      throw OutOfRangeError(message, std::move(d.reason), std::move(d.metadata));
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      throw ResourceExhaustedError(message, std::move(d.reason), std::move(d.metadata));
    case grpc::StatusCode::PERMISSION_DENIED:
      throw PermissionDeniedError(message, std::move(d.reason), std::move(d.metadata));
    case grpc::StatusCode::UNAUTHENTICATED:
      throw UnauthenticatedError(message, std::move(d.reason), std::move(d.metadata));
    case grpc::StatusCode::UNAVAILABLE:
      throw UnavailableError(message, std::move(d.reason), std::move(d.metadata));
    case grpc::StatusCode::DATA_LOSS:
      throw DataLossError(message, std::move(d.reason), std::move(d.metadata));
    case grpc::StatusCode::INTERNAL:
      throw InternalError(message, std::move(d.reason), std::move(d.metadata));
    default:
      throw Error(status.error_code(), message, std::move(d.reason), std::move(d.metadata));
  }
}

bool IsResumable(grpc::StatusCode code) noexcept {
  return code == grpc::StatusCode::UNAVAILABLE || code == grpc::StatusCode::RESOURCE_EXHAUSTED;
}

}  // namespace sora
