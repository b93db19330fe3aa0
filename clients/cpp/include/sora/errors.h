// Errors of the Sora C++ client: a gRPC status becomes the same error class the Python SDK raises.
//
//   Error                        any failed call; code(), reason(), metadata()
//    ├── InvalidArgumentError    bad input; violations() names the fields
//    ├── NotFoundError           unknown session, anchor, map
//    ├── AlreadyExistsError
//    ├── FailedPreconditionError e.g. a sensor stream whose first message is not its config
//    ├── OutOfRangeError         a resume position older than the retained history
//    ├── ResourceExhaustedError  a subscriber too far behind; resume from its last position
//    ├── PermissionDeniedError
//    ├── UnauthenticatedError
//    ├── UnavailableError        the server is draining or unreachable; resume elsewhere
//    ├── DataLossError           a torn map file, or a malformed mesh chunk on this side
//    └── InternalError
#pragma once

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <grpcpp/support/status.h>

namespace sora {

/// One bad field of a request: `field` is the proto path ("camera_frame.depth.data").
struct FieldViolation {
  std::string field;
  std::string description;
};

class Error : public std::runtime_error {
 public:
  Error(grpc::StatusCode code, const std::string& message, std::string reason = {},
        std::map<std::string, std::string> metadata = {});

  grpc::StatusCode code() const noexcept { return code_; }
  /// Stable UPPER_SNAKE identifier from google.rpc.ErrorInfo ("SESSION_NOT_FOUND"); may be empty.
  const std::string& reason() const noexcept { return reason_; }
  /// Facts a client can act on (e.g. "resume_epoch").
  const std::map<std::string, std::string>& metadata() const noexcept { return metadata_; }

 private:
  grpc::StatusCode code_;
  std::string reason_;
  std::map<std::string, std::string> metadata_;
};

/// An error class per status code, so callers can catch exactly what they handle.
template <grpc::StatusCode Code>
class CodedError : public Error {
 public:
  CodedError(const std::string& message, std::string reason = {},
             std::map<std::string, std::string> metadata = {})
      : Error(Code, message, std::move(reason), std::move(metadata)) {}
};

class InvalidArgumentError : public Error {
 public:
  InvalidArgumentError(const std::string& message, std::vector<FieldViolation> violations,
                       std::string reason = {}, std::map<std::string, std::string> metadata = {});
  const std::vector<FieldViolation>& violations() const noexcept { return violations_; }

 private:
  std::vector<FieldViolation> violations_;
};

using NotFoundError = CodedError<grpc::StatusCode::NOT_FOUND>;
using AlreadyExistsError = CodedError<grpc::StatusCode::ALREADY_EXISTS>;
using FailedPreconditionError = CodedError<grpc::StatusCode::FAILED_PRECONDITION>;
using OutOfRangeError = CodedError<grpc::StatusCode::OUT_OF_RANGE>;
using ResourceExhaustedError = CodedError<grpc::StatusCode::RESOURCE_EXHAUSTED>;
using PermissionDeniedError = CodedError<grpc::StatusCode::PERMISSION_DENIED>;
using UnauthenticatedError = CodedError<grpc::StatusCode::UNAUTHENTICATED>;
using UnavailableError = CodedError<grpc::StatusCode::UNAVAILABLE>;
using DataLossError = CodedError<grpc::StatusCode::DATA_LOSS>;
using InternalError = CodedError<grpc::StatusCode::INTERNAL>;

/// Throws the matching error class when `status` is not OK (reason, metadata and field
/// violations are read from the status details the server attaches).
void ThrowIfError(const grpc::Status& status);

/// Whether a stream that ended with `code` should be resumed from its last position
/// (UNAVAILABLE: server restart or drain; RESOURCE_EXHAUSTED: the subscriber fell behind).
bool IsResumable(grpc::StatusCode code) noexcept;

}  // namespace sora
