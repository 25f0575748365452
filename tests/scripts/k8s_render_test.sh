#!/usr/bin/env bash
# deploy/k8s: `kubectl kustomize` renders both overlays, and the rendered objects are what
# docs/deployment.md promises: serve with /readyz readiness, /healthz liveness, a preStop wait and
# a grace period longer than it plus the drain; a worker Deployment; the migration Job; the
# ConfigMap holding the repository's profile file verbatim; API keys as files from a Secret
# volume (never env values); non-root, read-only root filesystems, no privilege escalation;
# pinned image tags (no `latest`); requests and limits; PDBs; NetworkPolicies; Prometheus
# scrape annotations.
source "$(dirname "$0")/../lib/common.sh"
if ! command -v kubectl > /dev/null; then
  if [ "${CI:-}" = "true" ]; then echo "FAIL - kubectl missing (CI images carry kubectl with kustomize)"; exit 1; fi
  echo "skip - kubectl not installed (it is not in Debian 12; see docs/deployment.md)"; exit 0
fi
PY=python3
$PY -c 'import yaml' 2> /dev/null || PY=/usr/bin/python3
for overlay in staging production; do
  if kubectl kustomize "$SRC/deploy/k8s/overlays/$overlay" > "$WORK/$overlay.yaml" 2> "$WORK/$overlay.err"; then
    pass "kubectl kustomize overlays/$overlay renders"
  else
    fail "kubectl kustomize overlays/$overlay: $(cat "$WORK/$overlay.err")"; continue
  fi
  $PY - "$WORK/$overlay.yaml" "$overlay" "$SRC/config/$overlay.toml" <<'PY' || fail "rendered $overlay objects"
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
overlay, profile_file = sys.argv[2], sys.argv[3]
by = {}
for d in docs:
    by.setdefault(d["kind"], {})[d["metadata"]["name"]] = d
ok = True
def check(what, cond):
    global ok
    print(("ok   - " if cond else "FAIL - ") + f"{overlay}: {what}")
    ok = ok and bool(cond)

ns = {d["metadata"].get("namespace") for d in docs}
check(f"every object in one namespace {ns}", len(ns) == 1 and None not in ns)
serve = by["Deployment"]["ingestd-serve"]
worker = by["Deployment"]["ingestd-worker"]
job = by["Job"]["ingestd-migrate"]
pods = {"serve": serve["spec"]["template"], "worker": worker["spec"]["template"],
        "migrate": job["spec"]["template"]}
c = serve["spec"]["template"]["spec"]["containers"][0]
check("serve readiness probe GET /readyz", c["readinessProbe"]["httpGet"]["path"] == "/readyz")
check("serve liveness probe GET /healthz", c["livenessProbe"]["httpGet"]["path"] == "/healthz")
pre = c["lifecycle"]["preStop"]
wait = pre["sleep"]["seconds"] if "sleep" in pre else 0
grace = serve["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
# serve's own drain (in-flight requests, running stages) is bounded like the systemd unit's
# TimeoutStopSec=90s.
check(f"preStop waits ({wait}s) and the grace period ({grace}s) exceeds preStop + 90 s drain",
      wait > 0 and grace > wait + 90 - 1)
check("serve never drops below its replica count on a rollout",
      serve["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0)
check("migration Job runs `migrate up`", job["spec"]["template"]["spec"]["containers"][0]["args"] == ["migrate", "up"])
check("worker Deployment runs `worker`", worker["spec"]["template"]["spec"]["containers"][0]["args"] == ["worker"])
ann = serve["spec"]["template"]["metadata"]["annotations"]
check("Prometheus scrape annotations on serve pods",
      ann.get("prometheus.io/scrape") == "true" and ann.get("prometheus.io/path") == "/metrics")
for name, t in pods.items():
    spec = t["spec"]
    psc = spec.get("securityContext", {})
    for ct in spec["containers"]:
        sc = ct.get("securityContext", {})
        check(f"{name}: non-root (pod runAsNonRoot, uid {psc.get('runAsUser')})",
              psc.get("runAsNonRoot") is True and psc.get("runAsUser", 0) != 0)
        check(f"{name}: no privilege escalation, read-only root fs, capabilities dropped",
              sc.get("allowPrivilegeEscalation") is False and sc.get("readOnlyRootFilesystem") is True
              and "ALL" in sc.get("capabilities", {}).get("drop", []))
        img = ct["image"]
        tag = img.rsplit(":", 1)[1] if ":" in img.rsplit("/", 1)[-1] else ""
        check(f"{name}: image {img} has a pinned tag (not latest)", tag not in ("", "latest"))
        res = ct.get("resources", {})
        check(f"{name}: memory request and limit", "memory" in res.get("requests", {}) and "memory" in res.get("limits", {}))
        env = {e["name"]: e for e in ct.get("env", [])}
        for var in ("OPENAI_API_KEY", "LLAMA_CLOUD_API_KEY", "INGESTD_ADMIN_TOKEN"):
            check(f"{name}: {var} is not an environment value", var not in env)
        mounts = {m["mountPath"]: m for m in ct.get("volumeMounts", [])}
        vols = {v["name"]: v for v in spec.get("volumes", [])}
        for var in ("OPENAI_API_KEY_FILE", "LLAMA_CLOUD_API_KEY_FILE"):
            path = env.get(var, {}).get("value", "")
            mount = next((m for p, m in mounts.items() if path.startswith(p + "/")), None)
            vol = vols.get(mount["name"]) if mount else None
            check(f"{name}: {var}={path} is a file from a Secret volume",
                  vol is not None and "secret" in vol and mount.get("readOnly") is True
                  and (vol["secret"].get("defaultMode", 0o644) & 0o007) == 0)
cm = next(d for n, d in by["ConfigMap"].items() if n.startswith("ingestd-config"))
check(f"ConfigMap ingestd.toml is {profile_file} verbatim", cm["data"]["ingestd.toml"] == open(profile_file).read())
env_cm = next(d for n, d in by["ConfigMap"].items() if n.startswith("ingestd-env"))
check(f"profile {overlay} selected", env_cm["data"].get("INGESTD_PROFILE") == overlay)
check("PodDisruptionBudgets for serve and worker", {"ingestd-serve", "ingestd-worker"} <= set(by.get("PodDisruptionBudget", {})))
pols = by.get("NetworkPolicy", {})
check("NetworkPolicies: serve ingress on 8080 only, headless pods none, egress limited",
      pols["ingestd-serve-ingress"]["spec"]["ingress"][0]["ports"][0]["port"] == 8080
      and pols["ingestd-headless-ingress"]["spec"]["ingress"] == []
      and "Egress" in pols["ingestd-egress"]["spec"]["policyTypes"])
check("Service routes to serve pods", by["Service"]["ingestd"]["spec"]["selector"]["app.kubernetes.io/component"] == "serve")
sys.exit(0 if ok else 1)
PY
done
finish
