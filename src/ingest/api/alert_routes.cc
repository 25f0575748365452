// GET /v1/alerts: the in-process alert monitor's view (firing and pending alerts, webhook
// delivery counts). Instance-wide alerts (queue, providers, dead jobs) are operational facts
// every token may see; a tenant-scoped budget alert is shown only to admins and that tenant.
#include "ingest/api/route_env.h"

namespace ingest::api {
namespace {

bool Visible(const obs::Alert& a, const Principal& p) {
  if (p.admin) return true;
  auto scope = a.labels.find("scope");
  if (scope == a.labels.end() || scope->second != "tenant") return true;
  auto key = a.labels.find("key");
  return key != a.labels.end() && key->second == p.tenant;
}

nlohmann::json AlertJson(const obs::Alert& a) {
  nlohmann::json labels = nlohmann::json::object();
  for (const auto& [k, v] : a.labels) labels[k] = v;
  return {{"name", a.name},
          {"severity", a.severity},
          {"labels", labels},
          {"summary", a.summary},
          {"value", a.value},
          {"runbook", a.runbook},
          {"active_since", Iso(a.active_since)},
          {"firing_since", a.firing_since > 0 ? nlohmann::json(Iso(a.firing_since)) : nullptr}};
}

}  // namespace

nlohmann::json AlertsJson(const RouteEnv& env, const Principal& p) {
  nlohmann::json firing = nlohmann::json::array();
  nlohmann::json pending = nlohmann::json::array();
  if (env.alerts == nullptr) {
    return {{"enabled", false},
            {"evaluated_at", nullptr},
            {"firing", firing},
            {"pending", pending},
            {"webhook", {{"configured", false}, {"sent", 0}, {"failed", 0}}}};
  }
  const AlertSnapshot snap = env.alerts->snapshot();
  for (const auto& a : snap.firing) {
    if (Visible(a, p)) firing.push_back(AlertJson(a));
  }
  for (const auto& a : snap.pending) {
    if (Visible(a, p)) pending.push_back(AlertJson(a));
  }
  return {
      {"enabled", true},
      {"evaluated_at", snap.evaluated_at > 0 ? nlohmann::json(Iso(snap.evaluated_at)) : nullptr},
      {"firing", firing},
      {"pending", pending},
      {"webhook",
       {{"configured", snap.webhook_configured},
        {"sent", snap.notifications_sent},
        {"failed", snap.notifications_failed}}}};
}

}  // namespace ingest::api
