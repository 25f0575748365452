#include "ingest/governor/reconcile.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <ctime>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "ingest/common/clock.h"

namespace ingest::governor {
namespace {

Status Bad(const std::string& why) {
  return InvalidArgument("usage export: " + why, "bad_usage_export");
}

std::string DayOfUnixSeconds(int64_t s) { return FormatIso8601(s * 1000).substr(0, 10); }

bool IsDay(std::string_view d) {
  if (d.size() != 10 || d[4] != '-' || d[7] != '-') return false;
  for (size_t i : {0u, 1u, 2u, 3u, 5u, 6u, 8u, 9u}) {
    if (!std::isdigit(static_cast<unsigned char>(d[i]))) return false;
  }
  return true;
}

// A whole number from a JSON number or numeric string; credits are whole in the ledger, so a
// fractional one is refused rather than rounded.
Result<int64_t> Whole(const nlohmann::json& v, const std::string& what) {
  double d = 0;
  if (v.is_number()) {
    d = v.get<double>();
  } else if (v.is_string()) {
    try {
      size_t used = 0;
      d = std::stod(v.get<std::string>(), &used);
      if (used != v.get<std::string>().size()) return Bad(what + " is not a number");
    } catch (...) {
      return Bad(what + " is not a number");
    }
  } else if (v.is_null()) {
    return int64_t{0};
  } else {
    return Bad(what + " is not a number");
  }
  if (d < 0 || d != std::floor(d) || d > 9e15) return Bad(what + " is not a whole number >= 0");
  return static_cast<int64_t>(d);
}

Status ReadOpenAiBuckets(const nlohmann::json& data, UsageBook* book) {
  for (const auto& bucket : data) {
    if (!bucket.is_object() || !bucket.contains("start_time")) {
      return Bad("an OpenAI usage bucket has no start_time");
    }
    INGEST_ASSIGN_OR_RETURN(int64_t start, Whole(bucket["start_time"], "start_time"));
    const std::string day = DayOfUnixSeconds(start);
    const auto results = bucket.find("results");
    if (results == bucket.end() || !results->is_array()) continue;
    for (const auto& r : *results) {
      UsageKey key{"openai", day, r.value("model", std::string())};
      UsageAmounts& a = (*book)[key];
      INGEST_ASSIGN_OR_RETURN(int64_t tokens,
                              Whole(r.value("input_tokens", nlohmann::json()), "input_tokens"));
      INGEST_ASSIGN_OR_RETURN(
          int64_t requests,
          Whole(r.value("num_model_requests", nlohmann::json()), "num_model_requests"));
      a.tokens += tokens;
      a.requests += requests;
    }
  }
  return Status::Ok();
}

Status ReadLlamaParseDays(const nlohmann::json& data, UsageBook* book) {
  for (const auto& d : data) {
    const std::string day = d.is_object() ? d.value("date", std::string()) : std::string();
    if (!IsDay(day)) return Bad("a LlamaParse usage row has no date YYYY-MM-DD");
    UsageAmounts& a = (*book)[UsageKey{"llamaparse", day, ""}];
    INGEST_ASSIGN_OR_RETURN(int64_t pages, Whole(d.value("pages", nlohmann::json()), "pages"));
    INGEST_ASSIGN_OR_RETURN(int64_t credits,
                            Whole(d.value("credits", nlohmann::json()), "credits"));
    INGEST_ASSIGN_OR_RETURN(int64_t jobs, Whole(d.value("jobs", nlohmann::json()), "jobs"));
    a.pages += pages;
    a.credits += credits;
    a.requests += jobs;
  }
  return Status::Ok();
}

std::vector<std::string> SplitCsvLine(const std::string& line) {
  std::vector<std::string> out;
  std::string cell;
  bool quoted = false;
  for (char c : line) {
    if (c == '"') {
      quoted = !quoted;
    } else if (c == ',' && !quoted) {
      out.push_back(cell);
      cell.clear();
    } else if (c != '\r') {
      cell += c;
    }
  }
  out.push_back(cell);
  for (auto& s : out) {
    while (!s.empty() && s.front() == ' ') s.erase(s.begin());
    while (!s.empty() && s.back() == ' ') s.pop_back();
  }
  return out;
}

Status ReadCsv(std::string_view text, UsageBook* book) {
  std::istringstream in{std::string(text)};
  std::string line;
  if (!std::getline(in, line)) return Bad("empty");
  std::vector<std::string> header = SplitCsvLine(line);
  for (auto& h : header) {
    std::transform(h.begin(), h.end(), h.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  }
  auto col = [&](std::initializer_list<const char*> names) -> int {
    for (const char* n : names) {
      auto it = std::find(header.begin(), header.end(), n);
      if (it != header.end()) return static_cast<int>(it - header.begin());
    }
    return -1;
  };
  const int date = col({"date", "day"});
  const int model = col({"model"});
  const int tokens = col({"input_tokens", "tokens"});
  const int requests = col({"num_model_requests", "requests"});
  const int pages = col({"pages"});
  const int credits = col({"credits"});
  const int jobs = col({"jobs"});
  const bool openai = model >= 0 && tokens >= 0;
  const bool llama = pages >= 0 || credits >= 0;
  if (date < 0 || openai == llama) {
    return Bad(
        "CSV header must be date,model,input_tokens[,num_model_requests] (OpenAI) or "
        "date,pages,credits[,jobs] (LlamaParse)");
  }
  int n = 1;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty() || line == "\r") continue;
    const std::vector<std::string> cells = SplitCsvLine(line);
    auto cell = [&](int i) -> nlohmann::json {
      if (i < 0) return nlohmann::json();
      if (i >= static_cast<int>(cells.size())) return nlohmann::json("x");
      return cells[static_cast<size_t>(i)].empty() ? nlohmann::json()
                                                   : nlohmann::json(cells[static_cast<size_t>(i)]);
    };
    const std::string day = date < static_cast<int>(cells.size())
                                ? cells[static_cast<size_t>(date)].substr(0, 10)
                                : std::string();
    if (!IsDay(day)) return Bad("CSV line " + std::to_string(n) + ": no date YYYY-MM-DD");
    if (openai) {
      UsageAmounts& a = (*book)[UsageKey{"openai", day, cells[static_cast<size_t>(model)]}];
      INGEST_ASSIGN_OR_RETURN(int64_t t, Whole(cell(tokens), "line " + std::to_string(n)));
      INGEST_ASSIGN_OR_RETURN(int64_t r, Whole(cell(requests), "line " + std::to_string(n)));
      a.tokens += t;
      a.requests += r;
    } else {
      UsageAmounts& a = (*book)[UsageKey{"llamaparse", day, ""}];
      INGEST_ASSIGN_OR_RETURN(int64_t p, Whole(cell(pages), "line " + std::to_string(n)));
      INGEST_ASSIGN_OR_RETURN(int64_t c, Whole(cell(credits), "line " + std::to_string(n)));
      INGEST_ASSIGN_OR_RETURN(int64_t j, Whole(cell(jobs), "line " + std::to_string(n)));
      a.pages += p;
      a.credits += c;
      a.requests += j;
    }
  }
  return Status::Ok();
}

}  // namespace

Status ReadUsageExport(std::string_view text, UsageBook* book) {
  size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return Bad("empty");
  if (text[first] != '{' && text[first] != '[') return ReadCsv(text.substr(first), book);
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Bad("not valid JSON");
  nlohmann::json data = j;
  if (j.is_object()) {
    if (j.contains("data")) {
      data = j["data"];
    } else if (j.contains("usage")) {
      data = j["usage"];
    }
  }
  if (!data.is_array()) return Bad("no \"data\" array");
  if (data.empty()) return Status::Ok();
  if (data[0].is_object() && data[0].contains("start_time")) return ReadOpenAiBuckets(data, book);
  if (data[0].is_object() && data[0].contains("date")) return ReadLlamaParseDays(data, book);
  return Bad("neither OpenAI usage buckets (start_time, results) nor LlamaParse days (date)");
}

UsageBook LedgerUsage(const std::vector<store::LedgerEntry>& rows,
                      const std::vector<std::string>& services,
                      std::map<UsageKey, int64_t>* nanos) {
  UsageBook book;
  const std::set<std::string> wanted(services.begin(), services.end());
  for (const store::LedgerEntry& e : rows) {
    if (e.state != store::LedgerState::kSettled || !wanted.count(e.service)) continue;
    UsageKey key{e.service, FormatIso8601(e.created_at).substr(0, 10),
                 e.service == "llamaparse" ? std::string() : e.model};
    UsageAmounts& a = book[key];
    a.tokens += e.tokens;
    a.requests += e.requests;
    a.pages += e.pages;
    a.credits += e.credits;
    if (nanos != nullptr) (*nanos)[key] += e.cost_nanos;
  }
  return book;
}

int64_t PriceUsage(const UsageKey& key, const UsageAmounts& amounts, const PriceTable& prices) {
  if (key.service == "llamaparse") {
    Result<int64_t> c = ParseCostNanos(prices, amounts.credits);
    return c.ok() ? *c : -1;
  }
  Result<int64_t> c = EmbeddingCostNanos(prices, key.model, amounts.tokens);
  return c.ok() ? *c : -1;
}

std::vector<UsageDifference> CompareUsage(const UsageBook& ledger, const UsageBook& provider,
                                          const std::map<UsageKey, int64_t>& ledger_nanos,
                                          const PriceTable& prices) {
  std::set<UsageKey> keys;
  for (const auto& [k, v] : ledger) keys.insert(k);
  for (const auto& [k, v] : provider) keys.insert(k);
  std::vector<UsageDifference> out;
  for (const UsageKey& k : keys) {
    UsageDifference d;
    d.key = k;
    if (auto it = ledger.find(k); it != ledger.end()) d.ledger = it->second;
    if (auto it = provider.find(k); it != provider.end()) d.provider = it->second;
    // LlamaParse exports may leave jobs out: compare them only when given.
    UsageAmounts ours = d.ledger;
    if (k.service == "llamaparse" && d.provider.requests == 0) ours.requests = 0;
    if (ours == d.provider) continue;
    if (auto it = ledger_nanos.find(k); it != ledger_nanos.end()) d.ledger_nanos = it->second;
    d.provider_nanos = PriceUsage(k, d.provider, prices);
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace ingest::governor
