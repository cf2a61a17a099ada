"""A check report for machines: JSON, and JUnit XML that CI systems (GitHub Actions reporters,
GitLab, Jenkins, Azure) show as test results.

The JUnit document follows the common schema: `<testsuites>` holding one `<testsuite>` per script,
one `<testcase>` per rule and target (classname `gradscope.check.RULE`, name the target, `file` and
`line` where known), a `<failure message=… type=RULE>` carrying the measured value, the threshold
and the location, or `<skipped message=…>`; tests/failures/errors/skipped counts on both levels.
"""

from __future__ import annotations

import json
import socket
import xml.etree.ElementTree as ET
from datetime import datetime, timezone

from gradscope.checks.results import FAIL, PASS, SKIP, CheckReport, CheckResult


def to_json(report: CheckReport) -> str:
    """The report as JSON: script, entry, steps, rules, pass/fail/skip counts and every result."""
    return json.dumps({
        "script": report.script, "entry": report.entry, "steps": report.steps, "rules": list(report.rules),
        "passed": report.passed,
        "summary": {"passed": report.count(PASS), "failed": report.count(FAIL), "skipped": report.count(SKIP)},
        "duration": round(report.duration, 6),
        "results": [result.to_json() for result in report.results],
    }, indent=1)


def failure_text(result: CheckResult) -> str:
    """The one-line account of a failing (or skipped) result: measured value, bound and location."""
    text = f"{result.rule} {result.target}: measured {result.shown}, threshold {result.threshold}"
    if result.step is not None:
        text += f", step {result.step}"
    if result.location:
        text += f", at {result.location}"
    return text


def _counts(element: ET.Element, results: list[CheckResult], duration: float) -> None:
    element.set("tests", str(len(results)))
    element.set("failures", str(sum(r.status == FAIL for r in results)))
    element.set("errors", "0")
    element.set("skipped", str(sum(r.status == SKIP for r in results)))
    element.set("time", f"{duration:.3f}")


def to_junit_xml(report: CheckReport) -> str:
    """The report as a JUnit XML document (see the module docstring)."""
    suites = ET.Element("testsuites", name="gradscope check")
    _counts(suites, report.results, report.duration)
    suite = ET.SubElement(suites, "testsuite", name=f"gradscope check {report.script}")
    _counts(suite, report.results, report.duration)
    suite.set("timestamp", datetime.now(timezone.utc).replace(microsecond=0).isoformat())
    suite.set("hostname", socket.gethostname())
    properties = ET.SubElement(suite, "properties")
    for name, value in (("script", report.script), ("entry", report.entry or ""), ("steps", str(report.steps)),
                        ("rules", ",".join(report.rules))):
        ET.SubElement(properties, "property", name=name, value=value)
    for result in report.results:
        case = ET.SubElement(suite, "testcase", classname=f"gradscope.check.{result.rule}", name=result.target,
                             time=f"{result.duration:.3f}")
        if result.file:
            case.set("file", result.file)
        if result.line:
            case.set("line", str(result.line))
        if result.status == FAIL:
            failure = ET.SubElement(case, "failure", message=failure_text(result), type=result.rule)
            failure.text = result.message
        elif result.status == SKIP:
            ET.SubElement(case, "skipped", message=result.message or failure_text(result))
        else:
            ET.SubElement(case, "system-out").text = f"measured {result.shown}, threshold {result.threshold}"
    ET.indent(suites)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
