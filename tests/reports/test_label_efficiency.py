"""The label-efficiency page names its control's kind and prints no "0.00 None"."""

from __future__ import annotations

from datetime import UTC, datetime

from loupe.reports.label_efficiency import render_html
from loupe.services.model_loop.efficiency import (
    ControlPoint,
    CurvePoint,
    EfficiencyReport,
    RandomControl,
)
from loupe.services.model_loop.loop_settings import LoopSettings
from loupe.services.model_loop.predictions import ModelAgreement

AGREEMENT = ModelAgreement(0, 0, 0, 0, None, [], None, None, 0)
WHEN = datetime(2026, 12, 1, tzinfo=UTC)


def _point(version: int, n_items: int, control_items: int, cost: int) -> CurvePoint:
    return CurvePoint(
        version=version, n_items=n_items, n_labels=3 * n_items, accuracy=0.5 + version / 10,
        macro_f1=0.5, oos_recall=None, control_items=control_items, control_accuracy=0.4,
        cost_minor=cost, promoted=True, created_at=WHEN,
    )  # fmt: skip


def _report(control: RandomControl, *, currency: str | None, cost: int) -> EfficiencyReport:
    return EfficiencyReport(
        project_id=1, project_name="intents", settings=LoopSettings(mix={"margin": 1.0}),
        currency=currency, points=[_point(1, 20, 20, cost), _point(2, 80, 26, cost)],
        agreement=AGREEMENT, control=control,
    )  # fmt: skip


AUDIT = RandomControl(
    kind="audit",
    points=[ControlPoint(1, 20, 20, 0.4, None, 1, 0.0), ControlPoint(2, 80, 26, 0.4, None, 1, 0.0)],
    draws=1,
    random_state=None,
)
SIMULATED = RandomControl(
    kind="simulated",
    points=[
        ControlPoint(1, 20, 20, 0.6, 0.0, 5, 0.0),
        ControlPoint(2, 80, 80, 0.55, 0.04, 5, 41.5),
    ],
    draws=5,
    random_state=7,
)


def test_the_audit_control_is_labelled_audit_only_with_where_it_stops() -> None:
    html = render_html(_report(AUDIT, currency="EUR", cost=120))
    assert 'data-kind="audit"' in html and "random control (audit items only)" in html
    assert "It stops at 26 items where the strategy has 80" in html
    assert "not an equal-budget comparison" in html and "--audit-share" in html
    assert "SIMULATED" not in html
    assert "240 human labels bought for\n1.20 EUR" in html


def test_the_simulated_control_is_labelled_with_its_spread_and_simulated_labels() -> None:
    html = render_html(_report(SIMULATED, currency="EUR", cost=120))
    assert 'data-kind="simulated"' in html and "equal budgets, SIMULATED" in html
    assert "random control, equal budgets (SIMULATED; mean of 5 draws)" in html  # legend
    assert "<td>80</td><td>55.0% ± 4.0</td><td>41.5</td>" in html  # same budget, mean ± sd
    assert "SIMULATED labels per draw" in html
    assert html.count('stroke-width="1.5"') == 2  # a whisker per point


def test_an_unpaid_project_says_so_instead_of_zero_none() -> None:
    """Regression (#15): an unpaid project printed "0.00 None"."""
    html = render_html(_report(AUDIT, currency=None, cost=0))
    assert "None" not in html and "0.00" not in html
    assert "240 human labels; nothing paid for them on the ledger (no rate card)" in html


def test_the_page_says_which_model_serves_and_which_is_shadowed() -> None:
    from dataclasses import replace

    report = replace(
        _report(AUDIT, currency="EUR", cost=120),
        champion=1,
        shadowing=2,
        served_by={"v1": 40, "<b>x</b>": 1},
    )
    html = render_html(report)
    assert "Serving now: champion v1; challenger v2 in shadow" in html
    assert "v1: 40" in html and "&lt;b&gt;x&lt;/b&gt;: 1" in html and "<b>x" not in html
    assert "No champion serves yet" in render_html(_report(AUDIT, currency="EUR", cost=1))
