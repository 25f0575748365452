// API keys and the audit log (migration 9, docs/security.md).
#include <string>
#include <utility>

#include "ingest/store/sqlite/sqlite_store_impl.h"

namespace ingest::store::sqlite {
namespace {

constexpr std::string_view kKeyColumns =
    "id, name, tenant, scopes, prefix, secret_sha256, rate_limit, created_by, rotated_from, "
    "created_at, expires_at, revoked_at, grace_until, last_used_at";

ApiKey ReadKey(const Stmt& q) {
  ApiKey k;
  k.id = q.Text(0);
  k.name = q.Text(1);
  k.tenant = q.Text(2);
  k.scopes = q.Text(3);
  k.prefix = q.Text(4);
  k.secret_sha256 = q.Text(5);
  k.rate_limit = q.Text(6);
  k.created_by = q.Text(7);
  k.rotated_from = q.Text(8);
  k.created_at = q.Int(9);
  k.expires_at = q.Int(10);
  k.revoked_at = q.Int(11);
  k.grace_until = q.Int(12);
  k.last_used_at = q.Int(13);
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

Status InsertKey(Connection& conn, const ApiKey& k) {
  static const std::string sql = std::string("INSERT INTO api_keys (")
                                     .append(kKeyColumns)
                                     .append(") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
  INGEST_ASSIGN_OR_RETURN(Stmt u, conn.Prepare(sql));
  u.Bind(1, k.id).Bind(2, k.name).Bind(3, k.tenant).Bind(4, k.scopes).Bind(5, k.prefix);
  u.Bind(6, k.secret_sha256).Bind(7, k.rate_limit).Bind(8, k.created_by).Bind(9, k.rotated_from);
  u.Bind(10, k.created_at).Bind(11, k.expires_at).Bind(12, k.revoked_at).Bind(13, k.grace_until);
  u.Bind(14, k.last_used_at);
  return u.Exec();
}

Result<std::optional<ApiKey>> SelectKey(Connection& conn, std::string_view column,
                                        std::string_view value) {
  const std::string sql = std::string("SELECT ")
                              .append(kKeyColumns)
                              .append(" FROM api_keys WHERE ")
                              .append(column)
                              .append(" = ?");
  INGEST_ASSIGN_OR_RETURN(Stmt q, conn.Prepare(sql));
  q.Bind(1, value);
  INGEST_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::optional<ApiKey>();
  return std::optional<ApiKey>(ReadKey(q));
}

}  // namespace

Status SqliteStore::CreateApiKey(const ApiKey& key) {
  INGEST_RETURN_IF_ERROR(ValidateKey(key));
  ApiKey row = key;
  if (row.created_at == 0) row.created_at = Now();
  INGEST_ASSIGN_OR_RETURN(WriteScope w, BeginWrite());
  INGEST_RETURN_IF_ERROR(InsertKey(*w.conn, row));
  return w.txn->Commit();
}

Result<ApiKey> SqliteStore::GetApiKey(std::string_view id) {
  INGEST_ASSIGN_OR_RETURN(ConnectionPool::Handle conn, pool_.Acquire());
  INGEST_ASSIGN_OR_RETURN(std::optional<ApiKey> key, SelectKey(*conn, "id", id));
  if (!key) return NotFound("no API key " + std::string(id), "key_not_found");
  return std::move(*key);
}

Result<std::optional<ApiKey>> SqliteStore::FindApiKeyByPrefix(std::string_view prefix) {
  INGEST_ASSIGN_OR_RETURN(ConnectionPool::Handle conn, pool_.Acquire());
  return SelectKey(*conn, "prefix", prefix);
}

Result<std::vector<ApiKey>> SqliteStore::ListApiKeys() {
  static const std::string sql =
      std::string("SELECT ").append(kKeyColumns).append(" FROM api_keys ORDER BY created_at, id");
  INGEST_ASSIGN_OR_RETURN(ConnectionPool::Handle conn, pool_.Acquire());
  INGEST_ASSIGN_OR_RETURN(Stmt q, conn->Prepare(sql));
  std::vector<ApiKey> out;
  for (;;) {
    INGEST_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out.push_back(ReadKey(q));
  }
  return out;
}

Status SqliteStore::RevokeApiKey(std::string_view id, UnixMillis now) {
  INGEST_ASSIGN_OR_RETURN(WriteScope w, BeginWrite());
  INGEST_ASSIGN_OR_RETURN(std::optional<ApiKey> key, SelectKey(*w.conn, "id", id));
  if (!key) return NotFound("no API key " + std::string(id), "key_not_found");
  if (key->revoked_at != 0) {
    return FailedPrecondition("API key " + std::string(id) + " is already revoked", "key_revoked");
  }
  INGEST_ASSIGN_OR_RETURN(Stmt u, w->Prepare("UPDATE api_keys SET revoked_at = ? WHERE id = ?"));
  INGEST_RETURN_IF_ERROR(u.Bind(1, now).Bind(2, id).Exec());
  return w.txn->Commit();
}

Result<ApiKey> SqliteStore::RotateApiKey(std::string_view old_id, const ApiKey& replacement,
                                         UnixMillis grace_until, UnixMillis now) {
  INGEST_ASSIGN_OR_RETURN(WriteScope w, BeginWrite());
  INGEST_ASSIGN_OR_RETURN(std::optional<ApiKey> old, SelectKey(*w.conn, "id", old_id));
  if (!old) return NotFound("no API key " + std::string(old_id), "key_not_found");
  const std::string id(old_id);
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
  INGEST_RETURN_IF_ERROR(InsertKey(*w.conn, k));
  INGEST_ASSIGN_OR_RETURN(Stmt u, w->Prepare("UPDATE api_keys SET grace_until = ? WHERE id = ?"));
  INGEST_RETURN_IF_ERROR(u.Bind(1, grace_until).Bind(2, old_id).Exec());
  INGEST_RETURN_IF_ERROR(w.txn->Commit());
  return k;
}

Status SqliteStore::TouchApiKey(std::string_view id, UnixMillis now) {
  INGEST_ASSIGN_OR_RETURN(WriteScope w, BeginWrite());
  INGEST_ASSIGN_OR_RETURN(
      Stmt u, w->Prepare("UPDATE api_keys SET last_used_at = ? WHERE id = ? AND last_used_at < ?"));
  INGEST_RETURN_IF_ERROR(u.Bind(1, now).Bind(2, id).Bind(3, now).Exec());
  return w.txn->Commit();
}

Status SqliteStore::AppendAudit(const AuditEntry& e) {
  if (e.actor.empty() || e.action.empty() || e.result.empty()) {
    return InvalidArgument("an audit row needs actor, action and result", "invalid_audit");
  }
  INGEST_ASSIGN_OR_RETURN(WriteScope w, BeginWrite());
  INGEST_ASSIGN_OR_RETURN(
      Stmt u, w->Prepare("INSERT INTO audit_log (at, actor, action, target, detail_json, source, "
                         "result) VALUES (?, ?, ?, ?, ?, ?, ?)"));
  u.Bind(1, e.at != 0 ? e.at : Now()).Bind(2, e.actor).Bind(3, e.action).Bind(4, e.target);
  u.Bind(5, e.detail_json.empty() ? "{}" : e.detail_json).Bind(6, e.source).Bind(7, e.result);
  INGEST_RETURN_IF_ERROR(u.Exec());
  return w.txn->Commit();
}

Result<std::vector<AuditEntry>> SqliteStore::ListAudit(const AuditFilter& filter) {
  INGEST_ASSIGN_OR_RETURN(ConnectionPool::Handle conn, pool_.Acquire());
  INGEST_ASSIGN_OR_RETURN(
      Stmt q, conn->Prepare("SELECT seq, at, actor, action, target, detail_json, source, result "
                            "FROM audit_log WHERE at >= ? AND seq > ? ORDER BY seq LIMIT ?"));
  q.Bind(1, filter.since).Bind(2, filter.after_seq);
  q.Bind(3, static_cast<int64_t>(filter.limit > 0 ? filter.limit : -1));
  std::vector<AuditEntry> out;
  for (;;) {
    INGEST_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out.push_back(
        {q.Int(0), q.Int(1), q.Text(2), q.Text(3), q.Text(4), q.Text(5), q.Text(6), q.Text(7)});
  }
  return out;
}

}  // namespace ingest::store::sqlite
