"""deploy/k8s, checked offline: every overlay renders with kustomize, every object matches its schema
(Kubernetes 1.33's, or the operator's / KEDA's CRD schema), every process of scripts/devrun.py has its
Deployment with probes on the contract's health endpoints, the autoscalers point at what exists, and
no Secret value is in the files. The second half breaks copies of the rendered objects on purpose and
shows each check notices. Needs kubectl (`make kubectl`); never talks to a cluster."""
from __future__ import annotations

import importlib.util
import re

import kubernetes_validate
import pytest

from shared.topology import Names
from tests import k8s_manifests as k8s

API_PORTS = {"registration": 8001, "documents": 8002, "claims": 8003, "complaints": 8004,
             "identity": 8005, "casestatus": 8006, "directory": 8007, "portal": 8080}


@pytest.fixture(scope="module", params=k8s.OVERLAYS)
def overlay(request):
    return request.param, k8s.render(k8s.K8S / "overlays" / request.param)


def by_kind(objects, kind):
    return {obj["metadata"]["name"]: obj for obj in objects if obj["kind"] == kind}


def container(obj):
    (app,) = obj["spec"]["template"]["spec"]["containers"]
    return app


def config_value(objects, configmap_prefix, key):
    (config,) = [obj for obj in objects if obj["kind"] == "ConfigMap"
                 and obj["metadata"]["name"].startswith(configmap_prefix + "-")]
    return config["data"][key]


def devrun():
    """scripts/devrun.py's list of processes (the same ones docker-compose.yml runs)."""
    spec = importlib.util.spec_from_file_location("devrun", k8s.ROOT / "scripts" / "devrun.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def expected_processes() -> dict[str, str]:
    """Deployment name -> the command's module, for every long-running process `make run` starts."""
    run = devrun()
    expected = {}
    for svc, _ in run.SERVICES:
        expected[f"{svc}-api"] = f"services.{svc}.wsgi:app"
        if svc not in run.NO_RELAY:
            expected[f"{svc}-relay"] = f"services.{svc}.relay"
        if (k8s.ROOT / "services" / svc / "consumer.py").exists():
            expected[f"{svc}-consumer"] = f"services.{svc}.consumer"
    for svc, module in run.EXTRA_PROCESSES:
        expected[f"{svc}-timer" if module == "timers" else f"{svc}-{module}"] = f"services.{svc}.{module}"
    for web, _ in run.WEB:
        expected[f"{web}-web"] = f"services.{web}.wsgi:app"
    return expected


# --- the rendered overlays -------------------------------------------------------------------------

def test_every_object_matches_its_schema(overlay):
    name, objects = overlay
    problems = {k8s.name_of(obj): errors for obj in objects if (errors := k8s.schema_errors(obj))}
    assert not problems, f"{name}: {problems}"
    kinds = {obj["kind"] for obj in objects}
    assert {"MongoDBCommunity", "RabbitmqCluster", "ScaledObject"} <= kinds  # the CRD schemas were used


def test_every_workload_meets_the_policy(overlay):
    name, objects = overlay
    findings = [finding for obj in objects for finding in k8s.policy_findings(obj)]
    assert not findings, f"{name}: {findings}"


def test_no_secret_value_is_in_the_manifests(overlay):
    name, objects = overlay
    assert not [obj for obj in objects if obj["kind"] == "Secret"], "Secrets are created by the agency, not here"
    findings = [finding for obj in objects for finding in k8s.secret_findings(obj)]
    assert not findings, f"{name}: {findings}"


def test_the_readme_names_every_secret_to_create(overlay):
    _, objects = overlay
    readme = (k8s.K8S / "README.md").read_text()
    # One password Secret per service's database user, named in the README as <service>-mongo-password.
    named = {re.sub(r"^[a-z]+-mongo-password$", "<service>-mongo-password", secret)
             for secret in k8s.secret_references(objects)}
    missing = sorted(secret for secret in named if f"`{secret}`" not in readme)
    assert not missing, f"deploy/k8s/README.md does not name these Secrets: {missing}"


def test_every_process_has_its_deployment(overlay):
    _, objects = overlay
    deployments = by_kind(objects, "Deployment")
    expected = expected_processes()
    assert sorted(deployments) == sorted(expected)
    for deployment, module in expected.items():
        assert module in container(deployments[deployment])["command"], deployment


def test_probes_use_the_contracts_health_endpoints(overlay):
    _, objects = overlay
    metrics_port = int(config_value(objects, "probashi-common", "METRICS_PORT"))
    for deployment in by_kind(objects, "Deployment").values():
        app = container(deployment)
        ports = {port["name"]: port["containerPort"] for port in app["ports"]}
        live, ready = app["livenessProbe"]["httpGet"], app["readinessProbe"]["httpGet"]
        labels = deployment["metadata"]["labels"]
        if labels["app.kubernetes.io/component"] == "api":
            port = API_PORTS[labels["probashi.io/service"]]
            assert ports == {"http": port} and f"0.0.0.0:{port}" in app["command"]
            assert (live["path"], ready["path"]) == ("/health/live", "/health/ready")
            assert live["port"] == ready["port"] == "http"
        else:
            assert ports == {"metrics": metrics_port}
            assert live == ready == {"path": "/health/live", "port": "metrics"}
        annotations = deployment["spec"]["template"]["metadata"]["annotations"]
        assert annotations["prometheus.io/port"] == str(next(iter(ports.values())))


def test_consumers_scale_on_their_own_queue(overlay):
    _, objects = overlay
    prefix = config_value(objects, "probashi-common", "AMQP_PREFIX")
    deployments = by_kind(objects, "Deployment")
    scaled = by_kind(objects, "ScaledObject")
    consumers = {name for name in deployments if name.endswith("-consumer")}
    assert set(scaled) == consumers
    for name, obj in scaled.items():
        svc = deployments[name]["metadata"]["labels"]["probashi.io/service"]
        assert obj["spec"]["scaleTargetRef"]["name"] == name
        assert "replicas" not in deployments[name]["spec"], "KEDA sets a consumer's replicas"
        (trigger,) = obj["spec"]["triggers"]
        assert trigger["type"] == "rabbitmq"
        assert trigger["metadata"]["queueName"] == Names(prefix, svc).queue
        assert trigger["metadata"]["mode"] == "QueueLength"
        assert trigger["metadata"]["hostFromEnv"] in {env["name"] for env in container(deployments[name])["env"]}


def test_apis_autoscale_and_are_reachable_through_their_service(overlay):
    _, objects = overlay
    deployments = by_kind(objects, "Deployment")
    apis = {name for name, obj in deployments.items() if obj["metadata"]["labels"]["app.kubernetes.io/component"] == "api"}
    hpas = by_kind(objects, "HorizontalPodAutoscaler")
    assert {hpa["spec"]["scaleTargetRef"]["name"] for hpa in hpas.values()} == apis
    assert all("replicas" not in deployments[name]["spec"] for name in apis), "the HPA sets an API's replicas"
    services = by_kind(objects, "Service")
    assert set(services) == apis
    for name, service in services.items():
        labels = deployments[name]["spec"]["template"]["metadata"]["labels"]
        assert service["spec"]["selector"].items() <= labels.items()
    # The portal reaches each API at the address its configuration names.
    for svc, port in API_PORTS.items():
        if svc != "portal":
            url = config_value(objects, "portal-config", f"{svc.upper()}_URL")
            assert url == f"http://{svc}-api:{port}" and services[f"{svc}-api"]["spec"]["ports"][0]["port"] == port


def test_every_deployment_has_a_disruption_budget(overlay):
    _, objects = overlay
    deployments = by_kind(objects, "Deployment")
    budgets = by_kind(objects, "PodDisruptionBudget")
    covered = {name for name, deployment in deployments.items() for budget in budgets.values()
               if budget["spec"]["selector"]["matchLabels"].items()
               <= deployment["spec"]["template"]["metadata"]["labels"].items()}
    assert covered == set(deployments)


def test_network_policies_deny_by_default(overlay):
    _, objects = overlay
    policies = by_kind(objects, "NetworkPolicy")
    deny_ingress = policies["default-deny-ingress"]["spec"]
    assert deny_ingress["podSelector"] == {} and deny_ingress["policyTypes"] == ["Ingress"] and "ingress" not in deny_ingress
    deny_egress = policies["probashi-default-deny-egress"]["spec"]
    assert deny_egress["policyTypes"] == ["Egress"] and "egress" not in deny_egress
    for workload in [obj for obj in objects if obj["kind"] in k8s.WORKLOADS]:
        labels = workload["spec"]["template"]["metadata"]["labels"]
        assert deny_egress["podSelector"]["matchLabels"].items() <= labels.items(), k8s.name_of(workload)


def test_data_services_are_three_member_clusters(overlay):
    _, objects = overlay
    (mongo,) = by_kind(objects, "MongoDBCommunity").values()
    (rabbit,) = by_kind(objects, "RabbitmqCluster").values()
    assert mongo["spec"]["members"] == 3 and mongo["spec"]["type"] == "ReplicaSet"
    assert rabbit["spec"]["replicas"] == 3
    # Each service's MONGO_URI is the connection string the operator writes for that service's own user.
    users = {user["connectionStringSecretName"]: user for user in mongo["spec"]["users"]}
    for workload in [obj for obj in objects if obj["kind"] in k8s.WORKLOADS]:
        (uri,) = [env for env in container(workload)["env"] if env["name"] == "MONGO_URI"]
        user = users[uri["valueFrom"]["secretKeyRef"]["name"]]
        svc = workload["metadata"]["labels"]["probashi.io/service"]
        assert {role["db"] for role in user["roles"]} == {f"probashi_{svc}"}, k8s.name_of(workload)


# --- the checks notice a broken manifest -----------------------------------------------------------

@pytest.fixture(scope="module")
def production():
    return k8s.render(k8s.K8S / "overlays" / "production")


def first(objects, kind, name=None):
    return next(obj for obj in objects if obj["kind"] == kind and (name is None or obj["metadata"]["name"] == name))


def test_a_misspelt_field_fails_the_kubernetes_schema(production):
    objects = k8s.copy_of(production)
    container(first(objects, "Deployment", "claims-api"))["livenesProbe"] = {}
    first(objects, "Service", "claims-api")["spec"]["ports"][0]["port"] = "eighty"
    for broken in (first(objects, "Deployment", "claims-api"), first(objects, "Service", "claims-api")):
        assert k8s.schema_errors(broken)
        # kubernetes-validate's own entry point says the same (the checks load its schemas once, faster).
        with pytest.raises(kubernetes_validate.ValidationError):
            kubernetes_validate.validate(broken, k8s.KUBERNETES_VERSION, strict=True)


def test_one_object_of_each_kind_passes_kubernetes_validate_itself(production):
    one_of_each = {(obj["apiVersion"], obj["kind"]): obj for obj in production}
    for key, obj in one_of_each.items():
        if key not in k8s.crd_schemas():
            kubernetes_validate.validate(obj, k8s.KUBERNETES_VERSION, strict=True)


def test_a_broken_custom_resource_fails_its_crd_schema(production):
    objects = k8s.copy_of(production)
    first(objects, "ScaledObject")["spec"]["minReplicas"] = 1  # KEDA's field is minReplicaCount
    first(objects, "MongoDBCommunity")["spec"]["type"] = "Sharded"  # not in the CRD's enum
    first(objects, "RabbitmqCluster")["spec"]["replicas"] = "three"
    first(objects, "RabbitmqCluster", "probashi-rabbitmq")["spec"]["affinity"]["podAntiAffinity"]["sometimes"] = []
    rabbit_errors = k8s.schema_errors(first(objects, "RabbitmqCluster"))
    assert k8s.schema_errors(first(objects, "ScaledObject"))
    assert k8s.schema_errors(first(objects, "MongoDBCommunity"))
    assert any("replicas" in error for error in rabbit_errors)
    assert any(error.startswith("spec.affinity") for error in rabbit_errors)  # checked against core/v1 Affinity


def test_an_unknown_kind_is_an_error_not_a_pass():
    assert k8s.schema_errors({"apiVersion": "example.org/v1", "kind": "Widget", "metadata": {"name": "w"}})


def test_the_policy_notices_what_is_missing(production):
    objects = k8s.copy_of(production)
    relay = first(objects, "Deployment", "claims-relay")
    del container(relay)["readinessProbe"]
    del container(relay)["resources"]["limits"]
    container(relay)["securityContext"]["readOnlyRootFilesystem"] = False
    del container(relay)["securityContext"]["runAsNonRoot"]
    relay["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] = False
    container(relay)["securityContext"]["capabilities"] = {"add": ["NET_ADMIN"]}
    relay["spec"]["template"]["spec"]["volumes"] = []
    findings = "\n".join(k8s.policy_findings(relay))
    for expected in ("no readinessProbe", "no cpu limit", "no memory limit", "readOnlyRootFilesystem",
                     "runAsNonRoot", "capabilities", "no writable /tmp"):
        assert expected in findings


def test_a_secret_value_is_noticed(production):
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "probashi-amqp"},
              "stringData": {"url": "amqp://probashi:hunter2@rabbit/"}}
    assert k8s.secret_findings(secret)
    assert not k8s.schema_errors(secret)  # a valid object: only the policy refuses it
    objects = k8s.copy_of(production)
    api = first(objects, "Deployment", "registration-api")
    container(api)["env"].append({"name": "MONGO_URI", "value": "mongodb://user:pw@mongo/"})
    assert k8s.secret_findings(api)
