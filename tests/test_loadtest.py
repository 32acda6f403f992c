"""`make loadtest` without running it: the shoppers' documents validate
against the schema, every operation bench/locustfile.py sends is among them,
and bench/loadtest.py's report renders from a Locust CSV (the suite runs no
Locust: it lives in .venv-load, and the load test in `make loadtest`)."""

import argparse
import pathlib
import re

import pytest
from graphql import build_schema, parse, validate

from bench import loadtest
from tests.contract import OPERATIONS

ROOT = pathlib.Path(__file__).resolve().parent.parent
SAMPLE_CSV = """\
Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,\
Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,\
80%,90%,95%,98%,99%,99.9%,99.99%,100%
POST,CheckoutComplete,12,0,310,330.5,200,900,420,0.2,0.0,310,330,350,360,400,600,800,900,900,\
900,900
POST,ProductList,400,2,120,130.1,40,1200,9000,6.66,0.03,120,140,150,160,200,300,500,700,1200,\
1200,1200
,Aggregated,412,2,130,140.2,40,1200,8000,6.86,0.03,130,150,160,170,210,320,520,710,1200,1200,\
1200
"""


def test_the_shoppers_documents_validate_against_the_schema():
    if not OPERATIONS.is_dir():
        pytest.skip(f"no contract documents at {OPERATIONS}")
    schema = build_schema((ROOT / "graphql_schema.graphql").read_text())
    documents = loadtest.documents()
    assert set(documents) == {n for names in loadtest.DOCUMENTS.values() for n in names}
    for name, text in documents.items():
        errors = validate(schema, parse(text))
        assert not errors, (name, [e.message for e in errors])


def test_the_locustfile_sends_only_those_operations():
    source = (ROOT / "bench" / "locustfile.py").read_text()
    sent = set(re.findall(r'(?:call|mutate)\(\s*"([A-Za-z]+)"', source))
    assert {"ProductList", "CartCreate", "CheckoutComplete", "TokenAuth"} <= sent
    assert sent <= {n for names in loadtest.DOCUMENTS.values() for n in names}
    assert not re.search(r"^\s*(from|import) (django|apps|schema|commerce)\b", source, re.M)


def test_the_report_renders_from_a_locust_csv(tmp_path):
    path = tmp_path / "locust_stats.csv"
    path.write_text(SAMPLE_CSV)
    args = argparse.Namespace(users=20, spawn_rate=5, duration=60, workers=2, hot_stock=5)
    report = loadtest.render(
        loadtest.read_stats(path), outcomes={"checkouts completed": 11, "sold out": 3,
                                            "sold out: CartCreate": 3},
        database={"orders placed": 11, "oversold units": 0},
        queue={"tasks received by the worker": 30, "tasks left in the queue": 0}, args=args,
    )
    assert "| CheckoutComplete | 12 | 0.2 | 310 | 600 | 900 | 0 |" in report
    assert "| ProductList | 400 | 6.7 | 120 | 300 | 700 | 2 |" in report
    assert "| **all** | 412 | 6.9 | 130 | 320 | 710 | 2 |" in report
    assert "| checkouts completed | 11 |" in report
    assert "| sold out (INSUFFICIENT_STOCK) | 3 |" in report
    assert "| sold out at CartCreate | 3 |" in report
    assert "| oversold units | 0 |" in report
    assert "| tasks left in the queue | 0 |" in report
    assert report.index("| ProductList |") < report.index("| **all** |")
