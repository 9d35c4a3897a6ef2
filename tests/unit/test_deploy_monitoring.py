"""The alert rules (deploy/prometheus/alerts.yml) and the Grafana dashboard
(deploy/grafana/probashi.json), checked offline: promtool is not available, so the rule file's
YAML is read and its structure checked as Prometheus would, every expression is parsed as
PromQL (promql-parser) and every metric it selects must be one the code exports."""
from __future__ import annotations

import json
import re
from pathlib import Path

import promql_parser
import pytest
import yaml
from prometheus_client import REGISTRY

from shared import metrics

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus" / "alerts.yml"
DASHBOARD = ROOT / "deploy" / "grafana" / "probashi.json"
# Prometheus's own series, not the code's.
PROMETHEUS_SERIES = {"up", "scrape_duration_seconds", "scrape_samples_scraped"}
SUFFIXES = {"counter": ["_total", "_created"], "histogram": ["_bucket", "_count", "_sum", "_created"],
            "summary": ["", "_count", "_sum", "_created"], "gauge": [""], "info": ["_info"]}
DURATION = re.compile(r"^([0-9]+(ms|s|m|h|d|w|y))+$")
# Grafana's variables, as a query would have them substituted.
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1h", "$service": ".*"}


def exported_names() -> set[str]:
    """Every sample name the code can expose: the families it registers (shared/metrics.py,
    in the default registry) with their type's suffixes, and the gauges read at scrape time."""
    names = set()
    for family in REGISTRY.collect():
        names.update(family.name + suffix for suffix in SUFFIXES[family.type])
    scrape = metrics.ScrapeGauges(metrics.SCRAPE_GAUGES, dict)
    names.update(family.name for family in scrape.describe())
    return names


def code_families() -> set[str]:
    """The names of the families the code defines (probashi_...), without sample suffixes."""
    return {family.name for family in REGISTRY.collect() if family.name.startswith("probashi_")} | set(
        metrics.SCRAPE_GAUGES)


def selected_metrics(expr: str) -> set[str]:
    """The metric names an expression selects (by name, or by a __name__ matcher)."""
    found = set()

    def visit(node):
        if isinstance(node, promql_parser.VectorSelector):
            if node.name:
                found.add(node.name)
            for matcher in node.matchers.matchers:
                if matcher.name == "__name__":
                    found.add(matcher.value)

    promql_parser.walk(promql_parser.parse(expr), visit)
    return found


def rule_file() -> dict:
    return yaml.safe_load(RULES.read_text())


def alerting_rules() -> list[dict]:
    return [rule for group in rule_file()["groups"] for rule in group["rules"]]


def dashboard_queries() -> list[tuple[str, str]]:
    """(panel title, PromQL) of every panel target and of the template variables' label_values()."""
    dashboard = json.loads(DASHBOARD.read_text())
    queries = [(panel["title"], target["expr"]) for panel in dashboard["panels"] for target in panel.get("targets", [])]
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            text = variable["query"]["query"] if isinstance(variable["query"], dict) else variable["query"]
            selector = re.fullmatch(r"label_values\((.+),\s*\w+\)", text)
            assert selector, f"variable {variable['name']}: not a label_values() query: {text}"
            queries.append((f"variable {variable['name']}", selector.group(1)))
    return queries


def substituted(expr: str) -> str:
    for variable, value in sorted(GRAFANA_VARIABLES.items(), key=lambda item: -len(item[0])):
        expr = expr.replace(variable, value)
    assert "$" not in expr, f"an unknown Grafana variable in {expr}"
    return expr


def test_the_exported_names_include_every_sample_suffix():
    names = exported_names()
    assert {"probashi_http_requests_total", "probashi_http_request_duration_seconds_bucket",
            "probashi_http_request_duration_seconds_count", "probashi_http_request_duration_seconds_sum",
            "probashi_outbox_oldest_pending_age_seconds", "probashi_cases_overdue"} <= names
    assert "probashi_http_requests" not in names  # a counter's samples are _total (and _created)


def test_the_rule_file_has_prometheus_rule_file_structure():
    document = rule_file()
    assert set(document) == {"groups"}
    group_names = [group["name"] for group in document["groups"]]
    assert len(group_names) == len(set(group_names)), "group names must be unique"
    for group in document["groups"]:
        assert set(group) <= {"name", "interval", "rules", "limit"}, group["name"]
        assert group["rules"], f"group {group['name']} has no rules"
        for rule in group["rules"]:
            assert set(rule) <= {"alert", "record", "expr", "for", "keep_firing_for", "labels", "annotations"}, rule
            assert ("alert" in rule) != ("record" in rule), rule
            assert isinstance(rule["expr"], str) and rule["expr"].strip(), rule
            if "for" in rule:
                assert DURATION.match(rule["for"]), f"{rule.get('alert')}: for: {rule['for']!r} is not a duration"
            if "alert" in rule:
                assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", rule["alert"]), rule["alert"]
                assert rule["labels"]["severity"] in {"warning", "critical"}, rule["alert"]
                assert rule["annotations"]["summary"], rule["alert"]
                assert all(isinstance(v, str) for v in {**rule["labels"], **rule["annotations"]}.values())
    alerts = [rule["alert"] for rule in alerting_rules()]
    assert len(alerts) == len(set(alerts)), "alert names must be unique"


def test_the_alerts_the_issue_asks_for_are_there():
    alerts = {rule["alert"]: rule["expr"] for rule in alerting_rules()}
    assert "probashi_outbox_oldest_pending_age_seconds" in alerts["OutboxLagging"]
    assert "probashi_dead_letters" in alerts["DeadLettersPresent"]
    assert "probashi_cases_overdue" in alerts["OverdueCasesGrowing"]
    assert "probashi_consumer_connected" in alerts["ConsumerDisconnected"]
    assert "probashi_consumer_connected" in alerts["ConsumerMissing"]


@pytest.mark.parametrize("rule", alerting_rules(), ids=lambda rule: rule.get("alert") or rule.get("record"))
def test_every_rule_is_promql_over_metrics_the_code_exports(rule):
    used = selected_metrics(rule["expr"])  # raises on a syntax error
    assert used, "an alert on no metric"
    assert used - exported_names() - PROMETHEUS_SERIES == set()


def test_consumer_missing_expects_exactly_the_services_that_have_a_consumer():
    expr = next(rule["expr"] for rule in alerting_rules() if rule["alert"] == "ConsumerMissing")
    expected = set(re.findall(r'label_replace\(vector\(1\), "service", "(\w+)"', expr))
    consumers = {path.parent.name for path in (ROOT / "services").glob("*/consumer.py")}
    assert expected == consumers


def test_every_dashboard_query_is_promql_over_metrics_the_code_exports():
    queries = dashboard_queries()
    assert queries
    for title, expr in queries:
        used = selected_metrics(substituted(expr))
        assert used, title
        assert used - exported_names() - PROMETHEUS_SERIES == set(), title


def test_the_dashboard_shows_every_metric_the_code_defines():
    shown = set()
    for _, expr in dashboard_queries():
        shown |= selected_metrics(substituted(expr))
    missing = {family for family in code_families()
               if not any(name == family or name.startswith(family + "_") for name in shown)}
    assert missing == set()


def test_the_dashboard_is_importable_grafana_json():
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] and dashboard["title"] and isinstance(dashboard["schemaVersion"], int)
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    for panel in dashboard["panels"]:
        assert {"h", "w", "x", "y"} <= set(panel["gridPos"]), panel["title"]
        assert all(target["refId"] for target in panel.get("targets", [])), panel["title"]


def test_a_wrong_metric_name_or_bad_promql_would_be_caught():
    assert selected_metrics("rate(probashi_no_such_metric_total[5m])") - exported_names() == {
        "probashi_no_such_metric_total"}
    assert selected_metrics('{__name__="probashi_dead_letters"}') == {"probashi_dead_letters"}
    with pytest.raises(Exception):
        promql_parser.parse("sum by (service) (rate(probashi_http_requests_total[5m])")
