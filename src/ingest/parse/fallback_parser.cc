#include "ingest/parse/fallback_parser.h"

#include <nlohmann/json.hpp>

#include "ingest/obs/log.h"

namespace ingest::parse {
namespace {

constexpr const char* kNoteKey = "parse_note";
constexpr size_t kMaxMessageInNote = 200;

// Why the remote service could not be used, in the words of the note.
std::string_view Condition(const Status& error) {
  const std::string reason = error.reason();
  if (reason == "insufficient_quota") return "out of credits";
  if (reason == "circuit_open") return "circuit open";
  if (reason == "provider_stopped") return "stopped";
  if (reason == "budget_exceeded" || reason == "over_budget") return "over budget";
  return "unavailable";
}

}  // namespace

FallbackRule FallbackRuleFor(const Status& error) {
  const std::string reason = error.reason();
  // Unreachable (connection refused, DNS, TLS) stops the provider (a configuration error): fall
  // back now rather than wait for a person.
  if (reason == "insufficient_quota" || reason == "circuit_open" || reason == "provider_stopped" ||
      reason == "budget_exceeded" || reason == "over_budget" || reason == "connection_failed" ||
      reason == "tls_error") {
    return FallbackRule::kNow;
  }
  switch (error.code()) {
    case StatusCode::kUnavailable:
    case StatusCode::kDeadlineExceeded:
      return FallbackRule::kAfterRetries;
    case StatusCode::kCancelled:
      return reason == "remote_job_cancelled" ? FallbackRule::kAfterRetries : FallbackRule::kNever;
    default:
      return FallbackRule::kNever;
  }
}

std::string FallbackNote(std::string_view detail_json) {
  nlohmann::json j = nlohmann::json::parse(detail_json, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return "";
  const auto it = j.find(kNoteKey);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

FallbackParser::FallbackParser(std::unique_ptr<const RemoteParser> primary,
                               std::unique_ptr<const Parser> local, ParseFallbackOptions options)
    : primary_(std::move(primary)), local_(std::move(local)), options_(options) {}

Result<ParsedDocument> FallbackParser::Parse(const ParseInput& input) const {
  Result<ParsedDocument> parsed = primary_->Parse(input);
  if (parsed.ok()) return parsed;
  INGEST_ASSIGN_OR_RETURN(auto fallback, Fallback(input, parsed.status(), options_.after_attempts));
  if (!fallback) return parsed.status();
  return std::move(*fallback);
}

Result<std::optional<ParsedDocument>> FallbackParser::Fallback(const ParseInput& input,
                                                               const Status& error,
                                                               int attempt) const {
  using Out = std::optional<ParsedDocument>;
  const FallbackRule rule = FallbackRuleFor(error);
  if (rule == FallbackRule::kNever) return Out();
  if (rule == FallbackRule::kAfterRetries && attempt < options_.after_attempts) return Out();
  Result<ParsedDocument> local = local_->Parse(input);
  if (!local.ok()) {
    // E.g. an image only the remote service can read: the remote error stands (retried, then
    // dead with the remote cause), rather than failing the document for good.
    obs::LogWarn("parse fallback: the local parser cannot parse it either",
                 {{"file", input.filename}, {"local_error", local.status().ToString()}});
    return Out();
  }
  ParsedDocument doc = std::move(*local);
  std::string message = error.message();
  if (message.size() > kMaxMessageInNote) message = message.substr(0, kMaxMessageInNote) + "...";
  std::string note = "fell back to local parser: " + std::string(primary_->Name()) + " " +
                     std::string(Condition(error)) + " (" +
                     std::string(StatusCodeName(error.code())) + "[" + error.reason() + "]" +
                     (rule == FallbackRule::kAfterRetries ? ", attempt " + std::to_string(attempt)
                                                          : std::string()) +
                     ": " + message + ")";
  nlohmann::json detail = nlohmann::json::parse(doc.detail_json, nullptr, false);
  if (!detail.is_object()) detail = nlohmann::json::object();
  detail[kNoteKey] = note;
  detail["fallback_from"] = std::string(primary_->Name());
  doc.detail_json = detail.dump();
  obs::LogWarn("parse fallback", {{"file", input.filename},
                                  {"remote", primary_->Name()},
                                  {"code", error.reason()},
                                  {"attempt", attempt}});
  return Out(std::move(doc));
}

}  // namespace ingest::parse
