"""deploy/observability: the Grafana dashboard and the Prometheus alerting rules, checked
against what the app really exposes.

The metric names come from a scrape of the app's own ``/metrics`` (every family it
declares, the scrape-time gauges included), never from a list kept here: a renamed metric
fails these tests until the dashboard and the rules follow. Expressions are parsed by
promql-parser (the Rust ``promql-parser`` crate, the parser of GreptimeDB and others).
Each alert's ``runbook_url`` must point at a heading of docs/operations.md."""
from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import promql_parser
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.deploy.cli import bookwell_commands

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "deploy" / "observability" / "grafana" / "bookwell.json"
RULES = ROOT / "deploy" / "observability" / "prometheus" / "alerts.yaml"
RULE_TESTS = ROOT / "deploy" / "observability" / "prometheus" / "alerts.test.yaml"
OPERATIONS = ROOT / "docs" / "operations.md"
RUNBOOK_PREFIX = "docs/operations.md#"

# Series that Prometheus itself adds to every target, not the app.
PROMETHEUS_SERIES = {"up"}
# What the issue asks alerts for, each with the metric its expression must read.
REQUIRED_ALERTS = {
    "BookwellHighErrorRate": "bookwell_http_requests_total",
    "BookwellHighLatencyP99": "bookwell_http_request_duration_seconds_bucket",
    "BookwellQueueJobTooOld": "bookwell_queue_oldest_job_age_seconds",
    "BookwellOutboxLag": "bookwell_outbox_lag_seconds",
    "BookwellPaymentFailures": "bookwell_payments_total",
    "BookwellPaymentWebhookBacklog": "bookwell_payment_webhook_backlog_age_seconds",
}
# Grafana's own variables, replaced by a value of their kind before parsing.
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "6h"}
SAMPLE_SUFFIXES = {"counter": ("_total", "_created"),
                   "histogram": ("_bucket", "_sum", "_count", "_created"),
                   "summary": ("", "_sum", "_count", "_created"),
                   "gauge": ("",), "info": ("_info",), "stateset": ("",),
                   "gaugehistogram": ("_bucket", "_gsum", "_gcount"), "unknown": ("",)}


# --------------------------------------------------------------------------- the app's names

@pytest.fixture
def exposed_names(client, app, monkeypatch) -> set[str]:
    """Every sample name the app's /metrics can carry, read from a real scrape."""
    # Without TEST_REDIS_URL the app's Redis is fakeredis; the queue gauges read it the same.
    if not app.config["REDIS_URL"]:
        monkeypatch.setitem(app.config, "REDIS_URL", "redis://fake")
    response = client.get("/metrics")
    assert response.status_code == 200, response.data[:300]
    families = list(text_string_to_metric_families(response.get_data(as_text=True)))
    sources = {sample.labels["source"]: sample.value for family in families
               for sample in family.samples if sample.name == "bookwell_metrics_source_up"}
    # A source that failed leaves its gauges out, and this check would then be too strict.
    assert sources == {"database": 1.0, "redis": 1.0}
    names = set()
    for family in families:
        names.update(family.name + suffix for suffix in SAMPLE_SUFFIXES[family.type])
        names.update(sample.name for sample in family.samples)
    return names


# --------------------------------------------------------------------------- the checks

def metric_names(expr: str) -> set[str]:
    """The metric names an expression selects; raises ValueError if it does not parse."""
    names: set[str] = set()

    def visit(node):
        if isinstance(node, promql_parser.VectorSelector):
            if not node.name:
                raise ValueError(f"selector without a metric name: {node}")
            names.add(node.name)

    promql_parser.walk(promql_parser.parse(expr), visit)
    return names


def grafana_to_promql(expr: str) -> str:
    for variable, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(variable, value)
    return expr


def expression_problems(where: str, expr: str, exposed: set[str]) -> list[str]:
    try:
        names = metric_names(expr)
    except ValueError as error:
        return [f"{where}: does not parse as PromQL ({error}): {expr}"]
    unknown = sorted(names - exposed - PROMETHEUS_SERIES)
    return [f"{where}: {name} is not a metric the app exposes" for name in unknown]


def dashboard_problems(dashboard: dict, exposed: set[str]) -> list[str]:
    problems = []
    variables = {v["name"]: v for v in dashboard.get("templating", {}).get("list", [])}
    if variables.get("datasource", {}).get("type") != "datasource" or \
            variables["datasource"].get("query") != "prometheus":
        problems.append("no Prometheus datasource variable named 'datasource'")
    panels = list(dashboard.get("panels", []))
    panels += [inner for panel in panels for inner in panel.get("panels", [])]
    ids = [panel.get("id") for panel in panels]
    problems += [f"panel id {i} is used more than once" for i in sorted(
        {i for i in ids if ids.count(i) > 1}, key=str)]
    for panel in panels:
        where = f"panel {panel.get('id')} {panel.get('title')!r}"
        if panel.get("type") == "row":
            continue  # a row holds panels, it queries nothing
        if not panel.get("targets"):
            problems.append(f"{where}: no query")
        for source in [panel.get("datasource")] + [t.get("datasource")
                                                   for t in panel.get("targets", [])]:
            if not isinstance(source, dict) or source.get("uid") != "${datasource}":
                problems.append(f"{where}: datasource {source!r} is not ${{datasource}}")
        for target in panel.get("targets", []):
            expr = grafana_to_promql(target.get("expr", ""))
            if "$" in expr:
                problems.append(f"{where}: unknown variable in {target['expr']}")
                continue
            problems += expression_problems(where, expr, exposed)
    return problems


def github_anchors(markdown: str) -> set[str]:
    """The anchors GitHub gives the headings of a Markdown file (code blocks skipped)."""
    anchors, seen, fenced = set(), {}, False
    for line in markdown.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
            continue
        heading = re.match(r"#{1,6} +(.+?) *#* *$", line)
        if fenced or not heading:
            continue
        slug = re.sub(r"[^\w\- ]", "", heading.group(1).strip().lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        anchors.add(slug if count == 0 else f"{slug}-{count}")
    return anchors


def rules_problems(rules: dict, exposed: set[str], anchors: set[str]) -> list[str]:
    problems = []
    groups = rules.get("groups") if isinstance(rules, dict) else None
    if not isinstance(groups, list) or not groups:
        return ["no 'groups' list"]
    names = [g.get("name") for g in groups]
    problems += [f"group {n!r} appears twice" for n in set(names) if names.count(n) > 1]
    for group in groups:
        if not group.get("name") or not isinstance(group.get("rules"), list):
            problems.append(f"group {group.get('name')!r}: needs a name and a rules list")
            continue
        for rule in group["rules"]:
            alert = rule.get("alert")
            where = f"alert {alert or rule.get('record')!r}"
            if not alert:
                problems.append(f"{where}: only alerting rules belong here")
                continue
            expected = {"alert", "expr", "for", "labels", "annotations"}
            if set(rule) != expected:
                problems.append(f"{where}: has {sorted(rule)}, wants {sorted(expected)}")
                continue
            if not re.fullmatch(r"(\d+[smhdwy])+", str(rule["for"])):
                problems.append(f"{where}: 'for' {rule['for']!r} is not a duration")
            if rule["labels"].get("severity") not in {"critical", "warning", "info"}:
                problems.append(f"{where}: severity {rule['labels'].get('severity')!r}")
            notes = rule["annotations"]
            for key in ("summary", "description", "runbook_url"):
                if not str(notes.get(key) or "").strip():
                    problems.append(f"{where}: no annotations.{key}")
            url = str(notes.get("runbook_url") or "")
            if url != RUNBOOK_PREFIX + alert.lower():
                problems.append(f"{where}: runbook_url {url!r} is not "
                                f"{RUNBOOK_PREFIX}{alert.lower()}")
            if url.startswith(RUNBOOK_PREFIX) and url[len(RUNBOOK_PREFIX):] not in anchors:
                problems.append(f"{where}: docs/operations.md has no heading for {url}")
            problems += expression_problems(where, str(rule["expr"]), exposed)
    return problems


def alerts(rules: dict) -> dict[str, dict]:
    return {rule["alert"]: rule for group in rules["groups"] for rule in group["rules"]
            if "alert" in rule}


# --------------------------------------------------------------------------- the files

@pytest.fixture(scope="module")
def dashboard() -> dict:
    return json.loads(DASHBOARD.read_text())


@pytest.fixture(scope="module")
def rules() -> dict:
    return yaml.safe_load(RULES.read_text())


@pytest.fixture(scope="module")
def anchors() -> set[str]:
    return github_anchors(OPERATIONS.read_text())


def test_the_scrape_has_the_state_gauges_and_suffixed_names(exposed_names):
    assert {"bookwell_queue_oldest_job_age_seconds", "bookwell_outbox_lag_seconds",
            "bookwell_payment_webhook_backlog", "bookwell_db_pool_checked_out",
            "bookwell_bookings_total", "bookwell_http_request_duration_seconds_bucket",
            "bookwell_http_request_duration_seconds_count"} <= exposed_names
    assert "bookwell_bookings" not in exposed_names  # a counter's family name is no series


def test_the_dashboard_reads_only_exposed_metrics(dashboard, exposed_names):
    assert dashboard_problems(dashboard, exposed_names) == []


def test_the_dashboard_is_importable_grafana_json(dashboard):
    assert dashboard["schemaVersion"] >= 36 and dashboard["uid"] and dashboard["title"]
    assert dashboard.get("id") is None  # an import makes its own
    panels = dashboard["panels"]
    assert all(p.get("gridPos", {}).keys() >= {"h", "w", "x", "y"} for p in panels)
    builtin = {"timeseries", "stat", "row", "gauge", "table", "bargauge", "text"}
    assert {p["type"] for p in panels} <= builtin  # no plugin to install
    exprs = " ".join(t["expr"] for p in panels for t in p.get("targets", []))
    for wanted in ("bookwell_bookings_total", "bookwell_payments_total",
                   "bookwell_refunds_total", "bookwell_receipts_total",
                   "bookwell_messages_total", "bookwell_conversions_total",
                   "bookwell_queue_jobs", "bookwell_queue_oldest_job_age_seconds",
                   "bookwell_outbox_lag_seconds", "bookwell_payment_webhook_backlog",
                   "bookwell_db_pool_checked_out", "bookwell_db_pool_size"):
        assert wanted in exprs, wanted
    for quantile in ("0.5", "0.95", "0.99"):
        assert re.search(rf"histogram_quantile\({quantile}, sum by \(le, method, route\) "
                         r"\(rate\(bookwell_http_request_duration_seconds_bucket", exprs)


def test_the_rules_are_well_formed_and_read_only_exposed_metrics(rules, exposed_names,
                                                                  anchors):
    assert rules_problems(rules, exposed_names, anchors) == []


def test_every_alert_the_issue_asks_for_is_there(rules):
    present = alerts(rules)
    for name, metric in REQUIRED_ALERTS.items():
        assert name in present, name
        assert metric in metric_names(present[name]["expr"]), name


def test_every_runbook_section_names_commands_that_exist(anchors):
    assert {name.lower() for name in REQUIRED_ALERTS} <= anchors
    text = OPERATIONS.read_text()
    runbook = text[text.index("## Alerts and runbook"):]
    runbook = runbook[:runbook.find("\n## ", 1)] if "\n## " in runbook[1:] else runbook
    used = set(re.findall(r"flask bookwell ([a-z][a-z-]+)", runbook))
    assert used, "the runbook names no flask bookwell command"
    assert used <= set(bookwell_commands()), used - set(bookwell_commands())


def test_the_rules_wrap_into_a_prometheus_rule_as_the_docs_say(rules):
    # docs/operations.md indents the file by two spaces under `spec:`.
    header = ("apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\n"
              "metadata:\n  name: bookwell\nspec:\n")
    body = "".join("  " + line if line.strip() else line
                   for line in RULES.read_text().splitlines(keepends=True))
    wrapped = yaml.safe_load(header + body)
    assert wrapped["spec"] == rules


def test_the_promtool_unit_tests_cover_every_alert_with_exposed_series(rules,
                                                                        exposed_names):
    # promtool runs them (docs/operations.md); here: they stay in step with the rules.
    unit_tests = yaml.safe_load(RULE_TESTS.read_text())
    assert unit_tests["rule_files"] == [RULES.name]
    cases = unit_tests["tests"]
    firing = {check["alertname"] for case in cases for check in case["alert_rule_test"]
              if check["exp_alerts"]}
    assert firing == set(alerts(rules))
    problems = []
    for case in cases:
        for series in case["input_series"]:
            problems += expression_problems("alerts.test.yaml", series["series"],
                                            exposed_names)
        for check in case["alert_rule_test"]:
            for expected in check["exp_alerts"]:
                url = expected["exp_annotations"]["runbook_url"]
                assert url == alerts(rules)[check["alertname"]]["annotations"]["runbook_url"]
    assert problems == []


# --------------------------------------------------------------------------- the checks fail

def test_a_dashboard_with_an_unknown_metric_is_caught(dashboard, exposed_names):
    broken = copy.deepcopy(dashboard)
    panel = next(p for p in broken["panels"] if p["type"] != "row")
    panel["targets"][0]["expr"] = "sum(rate(bookwell_bookings_placed_total[$__rate_interval]))"
    panel["targets"].append(dict(panel["targets"][0], refId="Z", expr="sum(rate(x[5m]"))
    panel["datasource"] = {"type": "prometheus", "uid": "prometheus"}
    problems = dashboard_problems(broken, exposed_names)
    assert any("bookwell_bookings_placed_total is not a metric" in p for p in problems)
    assert any("does not parse" in p for p in problems)
    assert any("is not ${datasource}" in p for p in problems)
    broken["panels"][2]["id"] = broken["panels"][1]["id"]
    assert any("used more than once" in p for p in dashboard_problems(broken, exposed_names))


def test_rules_with_an_unknown_metric_or_a_missing_runbook_are_caught(rules, exposed_names,
                                                                      anchors):
    broken = copy.deepcopy(rules)
    first = broken["groups"][0]["rules"][0]
    first["expr"] = first["expr"].replace("bookwell_http_requests_total",
                                          "bookwell_http_requests")
    second = broken["groups"][0]["rules"][1]
    second["annotations"]["runbook_url"] = "docs/operations.md#bookwellhighlatencyp99"
    second["alert"] = "BookwellSlowAnswers"
    del broken["groups"][1]["rules"][0]["for"]
    problems = rules_problems(broken, exposed_names, anchors)
    assert any("bookwell_http_requests is not a metric" in p for p in problems), problems
    assert any("BookwellSlowAnswers" in p and "runbook_url" in p for p in problems)
    assert any("BookwellQueueJobTooOld" in p and "wants" in p for p in problems)
    assert "BookwellSlowAnswers" not in anchors
    assert rules_problems({"groups": []}, exposed_names, anchors) == ["no 'groups' list"]


def test_the_anchor_rules_follow_github():
    anchors = github_anchors("# Alerts and runbook\n## `BookwellOutboxLag`\n"
                             "```sh\n# not a heading\n```\n### Dashboard & alerts\n"
                             "### Dashboard & alerts\n")
    assert anchors == {"alerts-and-runbook", "bookwelloutboxlag", "dashboard--alerts",
                       "dashboard--alerts-1"}
