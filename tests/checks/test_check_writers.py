"""The machine outputs of a check report: JSON and JUnit XML (parsed back and held to the common
JUnit schema: elements, attributes, and counts that agree at every level)."""

import json
import math
import xml.etree.ElementTree as ET

import pytest
from check_helpers import sample

from gradscope.checks import FAIL, PASS, SKIP, CheckReport, CheckResult, build_config, run_checks, to_json, to_junit_xml

# the elements and attributes of the common JUnit schema (Jenkins junit-10.xsd and its descendants)
SCHEMA = {
    "testsuites": {"name", "tests", "failures", "errors", "skipped", "time", "disabled", "timestamp"},
    "testsuite": {"name", "tests", "failures", "errors", "skipped", "time", "timestamp", "hostname", "id",
                  "package", "disabled", "file"},
    "properties": set(),
    "property": {"name", "value"},
    "testcase": {"name", "classname", "time", "assertions", "status", "file", "line"},
    "failure": {"message", "type"},
    "error": {"message", "type"},
    "skipped": {"message"},
    "system-out": set(),
    "system-err": set(),
}
CHILDREN = {
    "testsuites": {"testsuite"},
    "testsuite": {"properties", "testcase", "system-out", "system-err"},
    "properties": {"property"},
    "testcase": {"failure", "error", "skipped", "system-out", "system-err"},
}
REQUIRED = {"testsuite": {"name", "tests"}, "testcase": {"name"}, "property": {"name", "value"}}


def assert_junit_schema(element: ET.Element) -> None:
    assert element.tag in SCHEMA, element.tag
    assert set(element.attrib) <= SCHEMA[element.tag], (element.tag, element.attrib)
    assert REQUIRED.get(element.tag, set()) <= set(element.attrib), element.tag
    for child in element:
        assert child.tag in CHILDREN.get(element.tag, set()), (element.tag, child.tag)
        assert_junit_schema(child)


def assert_counts(element: ET.Element, cases: list[ET.Element]) -> None:
    assert int(element.get("tests")) == len(cases)
    assert int(element.get("failures")) == sum(case.find("failure") is not None for case in cases)
    assert int(element.get("skipped")) == sum(case.find("skipped") is not None for case in cases)
    assert int(element.get("errors")) == 0
    assert float(element.get("time")) >= 0


@pytest.fixture(scope="module")
def nan_log_report():
    return run_checks(sample("nan_log"), build_config(flag_values={"rules": ["finite", "connected", "dead-units"]}))


def test_junit_document_follows_the_schema(nan_log_report):
    text = to_junit_xml(nan_log_report)
    assert text.startswith('<?xml version="1.0" encoding="utf-8"?>')
    root = ET.fromstring(text)
    assert_junit_schema(root)
    assert root.tag == "testsuites"
    (suite,) = root.findall("testsuite")
    cases = suite.findall("testcase")
    assert_counts(root, cases)
    assert_counts(suite, cases)
    assert len(cases) == len(nan_log_report.results)
    assert {(case.get("classname"), case.get("name")) for case in cases} == \
           {(f"gradscope.check.{r.rule}", r.target) for r in nan_log_report.results}
    properties = {p.get("name"): p.get("value") for p in suite.find("properties")}
    assert properties == {"script": str(sample("nan_log")), "entry": "loss", "steps": "1",
                          "rules": "finite,connected,dead-units"}


def test_junit_failures_carry_the_measured_value_and_location(nan_log_report):
    suite = ET.fromstring(to_junit_xml(nan_log_report)).find("testsuite")
    cases = {(case.get("classname"), case.get("name")): case for case in suite.findall("testcase")}
    case = cases[("gradscope.check.finite", "model.head.proj.weight")]
    failure = case.find("failure")
    assert failure.get("type") == "finite"
    assert failure.get("message") == ("finite model.head.proj.weight: measured 8 nan, threshold non-finite = 0, "
                                      f"at model.head.proj at {sample('nan_log')}:22")
    assert "first made by LogBackward0 (log) in model.head" in failure.text
    assert (case.get("file"), case.get("line")) == (str(sample("nan_log")), "22")
    passed = cases[("gradscope.check.connected", "model.encoder.weight")]
    assert passed.find("failure") is None and passed.find("system-out").text.startswith("measured gradient")
    skipped = cases[("gradscope.check.dead-units", "activations")]
    assert skipped.find("skipped") is not None  # nan_log has no ReLU-family unit to measure
    assert int(suite.get("failures")) == 5


def test_junit_skips_and_escaping():
    report = CheckReport("a<b>&'\".py", None, 1, ("dead-units",), [
        CheckResult("dead-units", "activations", SKIP, None, "—", "<= 0.5", "no ReLU-family activation <here> & there"),
        CheckResult("grad-norm", "w[0] <odd> & \"name\"", FAIL, math.nan, "nan", ">= 1e-08", "w has norm nan & <more>"),
        CheckResult("connected", "w", PASS, 1.0, "gradient", "gradient received"),
    ])
    root = ET.fromstring(to_junit_xml(report))
    assert_junit_schema(root)
    suite = root.find("testsuite")
    assert suite.get("name") == "gradscope check a<b>&'\".py"
    skipped, failed, passed = suite.findall("testcase")
    assert skipped.find("skipped").get("message") == "no ReLU-family activation <here> & there"
    assert failed.get("name") == "w[0] <odd> & \"name\"" and failed.find("failure").text == "w has norm nan & <more>"
    assert failed.find("failure").get("message") == "grad-norm w[0] <odd> & \"name\": measured nan, threshold >= 1e-08"
    assert passed.find("failure") is None and passed.find("skipped") is None
    assert_counts(root, suite.findall("testcase"))


def test_json_report(nan_log_report):
    document = json.loads(to_json(nan_log_report))
    assert document["script"] == str(sample("nan_log")) and document["entry"] == "loss" and document["steps"] == 1
    assert document["passed"] is False
    # dead-units is skipped: nan_log has no ReLU-family unit
    assert document["summary"] == {"passed": nan_log_report.count(PASS), "failed": 5, "skipped": 1}
    assert len(document["results"]) == len(nan_log_report.results)
    (graph,) = [r for r in document["results"] if r["target"] == "intermediate gradients"]
    assert graph["status"] == FAIL and graph["value"] == 8.0 and graph["threshold"] == "non-finite = 0"
    assert graph["location"] == {"scope": "model.head", "file": str(sample("nan_log")), "line": 23}


def test_json_writes_non_finite_values_as_strings():
    report = CheckReport("s.py", "loss", 1, ("grad-norm",), [
        CheckResult("grad-norm", "w", FAIL, math.nan, "nan", "<= 1"),
        CheckResult("grad-norm", "v", FAIL, -math.inf, "-inf", ">= 1"),
    ])
    text = to_json(report)
    assert "NaN" not in text and "Infinity" not in text
    assert [r["value"] for r in json.loads(text)["results"]] == ["nan", "-inf"]
