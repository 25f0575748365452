// API keys and the audit log (migration 9, docs/security.md).
#include <limits>
#include <string>
#include <utility>

#include "ingest/store/postgres/postgres_store_impl.h"
#include "ingest/store/postgres/rows.h"

namespace ingest::store::postgres {
namespace {

constexpr std::string_view kKeyColumns =
    "id, name, tenant, scopes, prefix, secret_sha256, rate_limit, created_by, rotated_from, "
    "created_at, expires_at, revoked_at, grace_until, last_used_at";

ApiKey ReadKey(const pqxx::row& r) {
  ApiKey k;
  k.id = Text(r[0]);
  k.name = Text(r[1]);
  k.tenant = Text(r[2]);
  k.scopes = Text(r[3]);
  k.prefix = Text(r[4]);
  k.secret_sha256 = Text(r[5]);
  k.rate_limit = Text(r[6]);
  k.created_by = Text(r[7]);
  k.rotated_from = Text(r[8]);
  k.created_at = Int(r[9]);
  k.expires_at = Int(r[10]);
  k.revoked_at = Int(r[11]);
  k.grace_until = Int(r[12]);
  k.last_used_at = Int(r[13]);
  return k;
}

Status ValidateKey(const ApiKey& k) {
  if (k.id.empty() || k.tenant.empty() || k.scopes.empty() || k.prefix.empty() ||
      k.secret_sha256.empty()) {
    return InvalidArgument("an API key needs id, tenant, scopes, prefix and secret_sha256",
                           "invalid_key");
  }
  return Status::Ok();
}

void InsertKey(pqxx::work& w, const ApiKey& k) {
  static const std::string sql = Cat({"INSERT INTO api_keys (", kKeyColumns,
                                      ") VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14)"});
  w.exec_params(sql, k.id, k.name, k.tenant, k.scopes, k.prefix, k.secret_sha256, k.rate_limit,
                k.created_by, k.rotated_from, k.created_at, k.expires_at, k.revoked_at,
                k.grace_until, k.last_used_at);
}

// `lock`: FOR UPDATE, for read-modify-write in the same transaction.
std::optional<ApiKey> SelectKey(pqxx::work& w, std::string_view column, std::string_view value,
                                bool lock) {
  const std::string sql = Cat({"SELECT ", kKeyColumns, " FROM api_keys WHERE ", column, " = $1",
                               lock ? " FOR UPDATE" : ""});
  pqxx::result r = w.exec_params(sql, std::string(value));
  if (r.empty()) return std::nullopt;
  return ReadKey(r[0]);
}

}  // namespace

Status PostgresStore::CreateApiKey(const ApiKey& key) {
  INGEST_RETURN_IF_ERROR(ValidateKey(key));
  ApiKey row = key;
  if (row.created_at == 0) row.created_at = Now();
  return Transact("create API key", [&](pqxx::work& w) -> Status {
    InsertKey(w, row);
    return Status::Ok();
  });
}

Result<ApiKey> PostgresStore::GetApiKey(std::string_view id) {
  return Transact("get API key", [&](pqxx::work& w) -> Result<ApiKey> {
    std::optional<ApiKey> key = SelectKey(w, "id", id, /*lock=*/false);
    if (!key) return NotFound("no API key " + std::string(id), "key_not_found");
    return std::move(*key);
  });
}

Result<std::optional<ApiKey>> PostgresStore::FindApiKeyByPrefix(std::string_view prefix) {
  return Transact("find API key", [&](pqxx::work& w) -> Result<std::optional<ApiKey>> {
    return SelectKey(w, "prefix", prefix, /*lock=*/false);
  });
}

Result<std::vector<ApiKey>> PostgresStore::ListApiKeys() {
  static const std::string sql =
      Cat({"SELECT ", kKeyColumns, " FROM api_keys ORDER BY created_at, id"});
  return Transact("list API keys", [&](pqxx::work& w) -> Result<std::vector<ApiKey>> {
    pqxx::result r = w.exec(sql);
    std::vector<ApiKey> out;
    out.reserve(r.size());
    for (const pqxx::row& row : r) out.push_back(ReadKey(row));
    return out;
  });
}

Status PostgresStore::RevokeApiKey(std::string_view id, UnixMillis now) {
  return Transact("revoke API key", [&](pqxx::work& w) -> Status {
    std::optional<ApiKey> key = SelectKey(w, "id", id, /*lock=*/true);
    if (!key) return NotFound("no API key " + std::string(id), "key_not_found");
    if (key->revoked_at != 0) {
      return FailedPrecondition("API key " + std::string(id) + " is already revoked",
                                "key_revoked");
    }
    w.exec_params("UPDATE api_keys SET revoked_at = $1 WHERE id = $2", now, std::string(id));
    return Status::Ok();
  });
}

Result<ApiKey> PostgresStore::RotateApiKey(std::string_view old_id, const ApiKey& replacement,
                                           UnixMillis grace_until, UnixMillis now) {
  return Transact("rotate API key", [&](pqxx::work& w) -> Result<ApiKey> {
    std::optional<ApiKey> old = SelectKey(w, "id", old_id, /*lock=*/true);
    const std::string id(old_id);
    if (!old) return NotFound("no API key " + id, "key_not_found");
    if (old->revoked_at != 0) {
      return FailedPrecondition("API key " + id + " is revoked", "key_revoked");
    }
    if (old->expires_at != 0 && old->expires_at <= now) {
      return FailedPrecondition("API key " + id + " has expired", "key_expired");
    }
    if (old->grace_until != 0) {
      return FailedPrecondition("API key " + id + " was already rotated; rotate its replacement",
                                "key_rotated");
    }
    ApiKey k = replacement;
    k.name = old->name;
    k.tenant = old->tenant;
    k.scopes = old->scopes;
    k.rate_limit = old->rate_limit;
    k.expires_at = old->expires_at;
    k.rotated_from = old->id;
    k.created_at = now;
    k.revoked_at = 0;
    k.grace_until = 0;
    k.last_used_at = 0;
    INGEST_RETURN_IF_ERROR(ValidateKey(k));
    InsertKey(w, k);
    w.exec_params("UPDATE api_keys SET grace_until = $1 WHERE id = $2", grace_until, id);
    return k;
  });
}

Status PostgresStore::TouchApiKey(std::string_view id, UnixMillis now) {
  return Transact("touch API key", [&](pqxx::work& w) -> Status {
    w.exec_params("UPDATE api_keys SET last_used_at = $1 WHERE id = $2 AND last_used_at < $1", now,
                  std::string(id));
    return Status::Ok();
  });
}

Status PostgresStore::AppendAudit(const AuditEntry& e) {
  if (e.actor.empty() || e.action.empty() || e.result.empty()) {
    return InvalidArgument("an audit row needs actor, action and result", "invalid_audit");
  }
  const UnixMillis at = e.at != 0 ? e.at : Now();
  const std::string detail = e.detail_json.empty() ? "{}" : e.detail_json;
  return Transact("append audit", [&](pqxx::work& w) -> Status {
    w.exec_params(
        "INSERT INTO audit_log (at, actor, action, target, detail_json, source, result) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7)",
        at, e.actor, e.action, e.target, detail, e.source, e.result);
    return Status::Ok();
  });
}

Result<std::vector<AuditEntry>> PostgresStore::ListAudit(const AuditFilter& filter) {
  return Transact("list audit", [&](pqxx::work& w) -> Result<std::vector<AuditEntry>> {
    const int64_t limit = filter.limit > 0 ? filter.limit : std::numeric_limits<int64_t>::max();
    pqxx::result r = w.exec_params(
        "SELECT seq, at, actor, action, target, detail_json, source, result FROM audit_log "
        "WHERE at >= $1 AND seq > $2 ORDER BY seq LIMIT $3",
        filter.since, filter.after_seq, limit);
    std::vector<AuditEntry> out;
    out.reserve(r.size());
    for (const pqxx::row& row : r) {
      out.push_back({Int(row[0]), Int(row[1]), Text(row[2]), Text(row[3]), Text(row[4]),
                     Text(row[5]), Text(row[6]), Text(row[7])});
    }
    return out;
  });
}

}  // namespace ingest::store::postgres
