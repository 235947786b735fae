"""docs/benchmarks.json as a script reads it: every figure under stable keys, the targets judged,
and `python -m benchmarks check` failing a report that misses one or got worse."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from benchmarks.__main__ import main as bench_main
from benchmarks.histories import ServerWork
from benchmarks.options import Options
from benchmarks.report import render, render_json
from benchmarks.run import Results, Throughput
from benchmarks.shopper import CheckoutRun
from benchmarks.stats import Batch
from benchmarks.verify import Verification

CPU = {"Temporal": 2.0, "API": 0.5, "worker": 2.0, "PostgreSQL": 0.5, "benchmark": 1.0}


def _scaled(cpu: dict[str, float], share: float) -> dict[str, float | None]:
    return {name: seconds * share for name, seconds in cpu.items()}


def _runs(count: int, complete: float, *, total: float = 1.0) -> list[CheckoutRun]:
    return [
        CheckoutRun(
            cart_id=f"cart_{i}",
            session_seconds=0.1,
            pay_seconds=0.05,
            complete_seconds=complete,
            total_seconds=total,
            order_id=f"order_{i}",
        )
        for i in range(count)
    ]


def _results(*, complete: float, orders_per_second_2_2: float) -> Results:
    options = Options(sequential=4, concurrency=10, stripe_latency=0.3)
    verified = Verification(carts=10, orders=10, captured_intents=10, capture_requests=10)
    return Results(
        options=options,
        started_at=datetime(2026, 12, 1, 12, 0, tzinfo=UTC),
        machine={"nproc": "2", "platform": "Linux", "python": "3.11"},
        baseline_c1=[Batch((0.3, 0.3, 0.3, 0.3), 1.2, 1)],
        baseline_cn=[Batch(tuple([1.0] * 10), 1.0, 10)],  # 10 workflows/s
        baseline_cn_cpu=[CPU],
        latency_runs=_runs(4, complete),
        stripe_latency_runs=_runs(4, 0.8),
        stripe_calls={"POST /v1/payment_intents": 4, "POST /v1/payment_intents/{id}/capture": 4},
        scale_phases=[
            # 5 orders/s; while the checkouts ran (2 s) the processes used half of CPU: cores as over 4 s.
            Throughput((1, 1), _runs(10, 0.2), wall=2.0, cpu=CPU, cpu_window=4.0, wall_cpu=_scaled(CPU, 0.5)),
            Throughput(
                (2, 2),
                _runs(10, 0.2),
                wall=(wall := 10 / orders_per_second_2_2),
                cpu=CPU,
                cpu_window=4.0,
                machine_cpu=7.6,
                wall_cpu=_scaled(CPU, wall / 4.0),
                wall_machine_cpu=7.6 * wall / 4.0,
            ),
        ],
        verification_all=verified,
        verification_throughput=verified,
        server_work_order=ServerWork(10, 31.0, 4.0, 0.0, 7.0, 6.0),
        server_work_baseline=ServerWork(10, 35.0, 6.0, 5.0, 0.0, 0.0),
    )


def _with_a_pending_answer(results: Results) -> Results:
    results.scale_phases[0].runs[0].pending_retries = 2
    return results


def _report(**figures: float) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(render_json(_results(**figures), "python -m benchmarks"))
    return loaded


def test_every_figure_and_ratio_of_the_table_is_in_the_json_under_stable_keys() -> None:
    report = _report(complete=0.09, orders_per_second_2_2=8.0)
    assert report["schema"] == 1
    assert report["baseline"]["c1_p50_seconds"] == pytest.approx(0.3)
    assert report["baseline"]["cn_per_second"] == pytest.approx(10.0)
    assert report["checkout"]["complete_p50_seconds"] == pytest.approx(0.09)
    assert report["checkout"]["orders_per_second"] == pytest.approx(5.0)
    assert report["ratios"] == {
        "complete_p50_to_baseline_c1_p50": pytest.approx(0.3),
        "complete_p95_to_baseline_c1_p50": pytest.approx(0.3),
        "session_p50_to_baseline_c1_p50": pytest.approx(1 / 3),
        "orders_per_second_to_baseline_cn_per_second": pytest.approx(0.5),
        "cpu_per_order_to_cpu_per_baseline_workflow": pytest.approx(1.0),
        "end_to_end_p50_to_baseline_cn_p50": pytest.approx(1.0),
    }
    stripe = report["stripe_latency"]
    # 2 round trips of 300 ms + 0.2 x 300 ms
    assert stripe["target_seconds"] == pytest.approx(0.66)
    assert stripe["complete_p50_to_target"] == pytest.approx(0.8 / 0.66)
    assert stripe["stripe_calls_per_checkout"] == {
        "POST /v1/payment_intents": 1.0,
        "POST /v1/payment_intents/{id}/capture": 1.0,
    }
    assert report["server_work"]["per_order"]["activity_tasks"] == 0.0
    assert report["server_work"]["per_baseline_workflow"]["workflow_tasks"] == 6.0
    assert report["scale_out"]["orders_per_second_2_2_to_1_1"] == pytest.approx(1.6)
    assert [phase["api_processes"] for phase in report["scale_out"]["phases"]] == [1, 2]
    assert report["scale_out"]["phases"][0]["cores_busy"]["worker"] == pytest.approx(0.5)
    assert {target["key"]: target["met"] for target in report["targets"]} == {
        "complete_p50": True,
        "orders_per_second": False,
        "cpu_per_order": True,
        "complete_p50_with_stripe_latency": False,
        "scale_out": None,  # 2 cores: not applicable
    }


def test_the_markdown_shows_the_targets_and_what_limits_the_scale_out() -> None:
    results = _with_a_pending_answer(_results(complete=0.09, orders_per_second_2_2=8.0))
    text = render(results, "python -m benchmarks")
    assert "| checkout `complete` p50 ≤ 0.30x the bare workflow's c=1 p50 | 0.30 | ≤ 0.3 | met |" in text
    assert "| 2 API, 2 workers | 8.0/s | 1.60x |" in text
    # 6 CPU seconds over 4 s are ours, the machine was busy 7.6: other tenants filled it.
    assert "our processes kept 1.50 of the 2 cores busy" in text
    assert "the machine as a whole 1.90 (other tenants 0.40): the run is CPU-bound" in text
    assert "Other tenants of the machine used 0.40 cores during (2, 2): the ratio" in text
    assert "`POST /v1/payment_intents` 1.0" in text
    assert (
        "| order (its checkout and its order's workflow; 10 orders) | 31.0 | 4.0 | 0.0 | 7.0 | 6.0 |" in text
    )
    assert "0 sequential, 0 with Stripe latency, 2 concurrent on (1, 1), 0 concurrent on (2, 2)" in text


def test_check_exits_1_on_a_missed_target_and_on_a_regression(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good, worse = tmp_path / "good.json", tmp_path / "worse.json"
    good.write_text(json.dumps(_report(complete=0.09, orders_per_second_2_2=8.0)))
    worse.write_text(json.dumps(_report(complete=0.15, orders_per_second_2_2=8.0)))

    assert bench_main(["check", str(good)]) == 1  # orders/s and the Stripe target are missed
    assert "MISSED  orders_per_second: 0.50 (target ≥ 1)" in capsys.readouterr().out
    assert bench_main(["check", str(good), "--against", str(good)]) == 0
    assert bench_main(["check", str(worse), "--against", str(good)]) == 1
    assert "REGRESSION complete_p50: 0.30 → 0.50" in capsys.readouterr().out
    assert bench_main(["check", str(worse), "--against", str(good), "--tolerance", "1"]) == 0


def test_check_refuses_a_file_that_is_not_a_report(tmp_path: Path) -> None:
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"schema": 99}))
    assert bench_main(["check", str(other)]) == 2
    assert bench_main(["check", str(tmp_path / "missing.json")]) == 2
