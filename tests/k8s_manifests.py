"""Offline checks of deploy/k8s: render an overlay with kustomize (kubectl's built-in one), validate
each object against the Kubernetes API's JSON schemas (kubernetes-validate, pinned version) or, for the
operators' and KEDA's resources, against their CRDs' schemas vendored in deploy/k8s/schemas, and the
policies every Probashi pod must meet. Each check returns findings (empty: fine), so the tests can show
both that the manifests pass and that a broken manifest does not. Nothing here talks to a cluster.
"""
from __future__ import annotations

import copy
import functools
import os
import re
import subprocess
from pathlib import Path

import jsonschema
import kubernetes_validate
import kubernetes_validate.utils
import yaml
from referencing import Registry, Resource

ROOT = Path(__file__).resolve().parent.parent
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = ("development", "production")
# The Kubernetes version the manifests are validated against; kubectl (scripts/ensure-kubectl.sh) is 1.33 too.
KUBERNETES_VERSION = "1.33.0"
KUBECTL_VERSION = "v1.33.9"
DEFINITIONS_URI = "https://kubernetes.io/api/_definitions.json"
WORKLOADS = ("Deployment", "Job")


def kubectl() -> Path:
    path = Path(os.environ.get("KUBECTL") or ROOT / ".data" / "tools" / f"kubectl-{KUBECTL_VERSION}")
    if not path.exists():
        raise RuntimeError(f"{path} is missing: run `make kubectl` (scripts/ensure-kubectl.sh)")
    return path


@functools.cache
def render(directory: Path) -> list[dict]:
    """`kubectl kustomize DIR`: the objects an overlay would apply, in order (rendered once per run:
    callers that change them change a copy_of them)."""
    done = subprocess.run([str(kubectl()), "kustomize", str(directory)], capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"kustomize failed for {directory}:\n{done.stderr}")
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


def name_of(obj: dict) -> str:
    return f"{obj['kind']}/{obj['metadata']['name']}"


# --- schemas -------------------------------------------------------------------------------------

SCHEMA_FOLDER = f"kubernetes-json-schema/v{KUBERNETES_VERSION}-local-strict"  # kubernetes-validate's, strict


@functools.cache
def _kubernetes_definitions() -> Registry:
    definitions = kubernetes_validate.utils.schema_contents(f"{SCHEMA_FOLDER}/_definitions.json", KUBERNETES_VERSION)
    return Resource.from_contents(definitions) @ Registry()


@functools.cache
def _kubernetes_validator(api_version: str, kind: str) -> jsonschema.Draft202012Validator | None:
    """What kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True) checks, with each schema
    loaded once (it reads its 700-type definitions file again for every object): the same bundled file,
    named the same way, the same validator. A test checks the two agree."""
    group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)  # apps/v1 -> apps-v1
    try:
        schema = kubernetes_validate.utils.schema_contents(
            f"{SCHEMA_FOLDER}/{kind.lower()}-{group_version}.json", KUBERNETES_VERSION)
    except FileNotFoundError:
        return None
    return jsonschema.Draft202012Validator(schema, registry=Resource.from_contents(schema) @ _kubernetes_definitions())


def kubernetes_type_errors(value, type_name: str) -> list[str]:
    """`value` checked against one of Kubernetes' own types, e.g. io.k8s.api.core.v1.Affinity (strict)."""
    schema = {"$ref": f"{DEFINITIONS_URI}#/$defs/{type_name}"}
    validator = jsonschema.Draft202012Validator(schema, registry=_kubernetes_definitions())
    return [f"{'.'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}" for e in validator.iter_errors(value)]


def crd_to_json_schema(node):
    """A CRD's structural openAPIV3Schema as JSON Schema, as strict as the API server with field
    validation: an object that lists its properties takes no others (unless it says it keeps
    unknown fields), nullable admits null, int-or-string admits either."""
    if isinstance(node, list):
        return [crd_to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: crd_to_json_schema(value) for key, value in node.items()
           if key not in ("default", "format") and not key.startswith("x-")}
    if node.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
        out.setdefault("anyOf", [{"type": "integer"}, {"type": "string"}])
    if node.get("nullable") and "type" in out:
        out["type"] = [out["type"], "null"]
    out.pop("nullable", None)
    if "properties" in node and not node.get("x-kubernetes-preserve-unknown-fields") \
            and "additionalProperties" not in node:
        out["additionalProperties"] = False
    return out


def _kubernetes_typed_paths(node, path=()):
    """Where a vendored CRD schema leaves a subtree to Kubernetes' own schema (x-probashi-schema)."""
    if isinstance(node, dict):
        if "x-probashi-schema" in node:
            yield path, node["x-probashi-schema"]
        for key, value in node.get("properties", {}).items():
            yield from _kubernetes_typed_paths(value, path + (key,))


@functools.cache
def crd_schemas() -> dict[tuple[str, str], dict]:
    """(apiVersion, kind) -> the vendored CRD schema document (deploy/k8s/schemas)."""
    schemas = {}
    for path in sorted((K8S / "schemas").glob("*.yaml")):
        doc = yaml.safe_load(path.read_text())
        schemas[(f"{doc['group']}/{doc['version']}", doc["kind"])] = doc
    return schemas


def schema_errors(obj: dict) -> list[str]:
    """The object against its kind's schema: Kubernetes' own for built-in kinds (strict: unknown fields
    are errors), the vendored CRD schema for custom resources. A kind known to neither is an error."""
    crd = crd_schemas().get((obj.get("apiVersion"), obj.get("kind")))
    if crd is not None:
        validator = jsonschema.Draft202012Validator(crd_to_json_schema(crd["openAPIV3Schema"]))
        errors = [f"{'.'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}" for e in validator.iter_errors(obj)]
        errors += kubernetes_type_errors(obj.get("metadata", {}), "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")
        for path, type_name in _kubernetes_typed_paths(crd["openAPIV3Schema"]):
            value = functools.reduce(lambda node, key: node.get(key, {}) if isinstance(node, dict) else {}, path, obj)
            if value:
                errors += [f"{'.'.join(path)}: {e}" for e in kubernetes_type_errors(value, type_name)]
        return errors
    validator = _kubernetes_validator(obj.get("apiVersion", ""), obj.get("kind", ""))
    if validator is None:
        return [f"no schema for {obj.get('apiVersion')} {obj.get('kind')} in Kubernetes {KUBERNETES_VERSION} "
                "or deploy/k8s/schemas"]
    return [f"{'.'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}" for e in validator.iter_errors(obj)]


# --- policy --------------------------------------------------------------------------------------

def _effective(container: dict, pod: dict, key: str):
    """A security setting as Kubernetes applies it: the container's, else the pod's."""
    value = (container.get("securityContext") or {}).get(key)
    return value if value is not None else (pod.get("securityContext") or {}).get(key)


def policy_findings(obj: dict) -> list[str]:
    """What a Probashi workload must have: requests and limits, a non-root read-only container that
    cannot gain privileges or capabilities, the default seccomp profile, a writable /tmp; a
    long-running one (a Deployment) also liveness and readiness probes. Jobs are one-off processes with no server to probe."""
    if obj["kind"] not in WORKLOADS:
        return []
    pod = obj["spec"]["template"]["spec"]
    found = []
    for container in pod.get("initContainers", []) + pod["containers"]:
        where = f"{name_of(obj)} container {container['name']}"
        resources = container.get("resources") or {}
        for part in ("requests", "limits"):
            for resource in ("cpu", "memory"):
                if resource not in (resources.get(part) or {}):
                    found.append(f"{where}: no {resource} {part[:-1]}")
        if obj["kind"] == "Deployment" and container in pod["containers"]:
            for probe in ("livenessProbe", "readinessProbe"):
                if not container.get(probe):
                    found.append(f"{where}: no {probe}")
        if _effective(container, pod, "runAsNonRoot") is not True:
            found.append(f"{where}: runAsNonRoot is not true")
        context = container.get("securityContext") or {}
        if context.get("readOnlyRootFilesystem") is not True:
            found.append(f"{where}: readOnlyRootFilesystem is not true")
        if context.get("allowPrivilegeEscalation") is not False:
            found.append(f"{where}: allowPrivilegeEscalation is not false")
        if "ALL" not in ((context.get("capabilities") or {}).get("drop") or []):
            found.append(f"{where}: capabilities are not dropped (drop: [ALL])")
        if (_effective(container, pod, "seccompProfile") or {}).get("type") != "RuntimeDefault":
            found.append(f"{where}: seccompProfile is not RuntimeDefault")
        # The root filesystem is read-only: gunicorn's control socket and spooled uploads need /tmp.
        empty_dirs = {volume["name"] for volume in pod.get("volumes", []) if "emptyDir" in volume}
        if not any(mount["mountPath"] == "/tmp" and mount["name"] in empty_dirs and not mount.get("readOnly")
                   for mount in container.get("volumeMounts", [])):
            found.append(f"{where}: no writable /tmp (an emptyDir)")
    return found


SECRET_SETTINGS = {"MONGO_URI", "AMQP_URL"}  # URLs with credentials in them
SECRET_SUFFIXES = ("_KEY", "_PASSWORD", "_TOKEN", "_SECRET")


def is_secret_setting(name: str) -> bool:
    return name in SECRET_SETTINGS or name.endswith(SECRET_SUFFIXES)


def secret_findings(obj: dict) -> list[str]:
    """No secret value in the manifests: no Secret with data, no secret setting given a literal value
    in a container or a ConfigMap (they come from Secrets the agency or the operators create)."""
    found = []
    if obj["kind"] == "Secret" and (obj.get("data") or obj.get("stringData")):
        found.append(f"{name_of(obj)} holds values ({', '.join(sorted({**obj.get('data', {}), **obj.get('stringData', {})}))})")
    if obj["kind"] == "ConfigMap":
        found += [f"{name_of(obj)}: {key} is a secret" for key in obj.get("data", {}) if is_secret_setting(key)]
    if obj["kind"] in WORKLOADS:
        for container in obj["spec"]["template"]["spec"]["containers"]:
            found += [f"{name_of(obj)}: {env['name']} has a literal value" for env in container.get("env", [])
                      if "value" in env and is_secret_setting(env["name"])]
    return found


def secret_references(objects: list[dict]) -> set[str]:
    """The Secrets the manifests expect someone else to create."""
    names = set()
    for obj in objects:
        if obj["kind"] in WORKLOADS:
            for container in obj["spec"]["template"]["spec"]["containers"]:
                names |= {env["valueFrom"]["secretKeyRef"]["name"] for env in container.get("env", [])
                          if "secretKeyRef" in env.get("valueFrom", {})}
        if obj["kind"] == "MongoDBCommunity":
            names |= {user["passwordSecretRef"]["name"] for user in obj["spec"]["users"]}
        if obj["kind"] == "Ingress":
            names |= {tls["secretName"] for tls in obj["spec"].get("tls", [])}
    made_by_operator = {user["connectionStringSecretName"] for obj in objects if obj["kind"] == "MongoDBCommunity"
                        for user in obj["spec"]["users"]}
    return names - made_by_operator


def copy_of(objects: list[dict]) -> list[dict]:
    return copy.deepcopy(objects)
