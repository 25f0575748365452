#include "ingest/api/http_status.h"

namespace ingest::api {

int HttpStatusFor(const Status& status) {
  switch (status.code()) {
    case StatusCode::kOk:
      return 200;
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kUnauthenticated:
      return 401;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kAlreadyExists:
    case StatusCode::kFailedPrecondition:
      return 409;
    case StatusCode::kResourceExhausted: {
      const std::string reason = status.reason();
      return reason == "file_too_large" || reason == "upload_too_large" ? 413 : 429;
    }
    case StatusCode::kCancelled:
    case StatusCode::kUnavailable:
      return 503;
    case StatusCode::kDeadlineExceeded:
      return 504;
    case StatusCode::kDataLoss:
    case StatusCode::kInternal:
      return 500;
  }
  return 500;
}

nlohmann::json ErrorBody(const Status& status) {
  return {{"error", {{"code", status.reason()}, {"message", status.message()}}}};
}

std::string_view ReasonForHttpStatus(int http_status) {
  switch (http_status) {
    case 400:
      return "bad_request";
    case 401:
      return "unauthenticated";
    case 404:
      return "not_found";
    case 405:
      return "method_not_allowed";
    case 413:
      return "payload_too_large";
    case 414:
      return "uri_too_long";
    case 416:
      return "range_not_satisfiable";
    default:
      return http_status >= 500 ? "internal" : "http_error";
  }
}

}  // namespace ingest::api
