"""``GET /projects/{id}/dashboard``: the manager's view of a project.

Progress, throughput and agreement (``loupe.services.projects.progress``); the escalation queue
(``loupe.services.labelling.escalation_queue``); the learning curve — the model's accuracy
against the labels bought, the selection strategy against the random control
(``loupe.services.model_loop.efficiency``); and, for those who manage payments, the cost per
accurate label day by day (``loupe.services.payments.label_costs``). Every chart is drawn on
the server as SVG and repeated as a table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from loupe.db.models import utcnow
from loupe.services.labelling import escalation_queue
from loupe.services.payments import label_costs
from loupe.services.payments.label_costs import CostPerAccurateLabel
from loupe.services.projects import progress
from loupe.web.deps import Reader
from loupe.web.params import Id
from loupe.web.ui.charts import LineChart, bar_chart, column_chart, line_chart, nice_ceiling
from loupe.web.ui.project_nav import project_links
from loupe.web.ui.render import page

if TYPE_CHECKING:
    from loupe.services.model_loop.efficiency import CurvePoint

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

CHART_WIDTH, CHART_HEIGHT = 640, 240


@dataclass(frozen=True, slots=True)
class QueueRow:
    item_id: int
    stage: str
    reason: str
    age: str
    href: str
    action: str


def age(since: datetime, now: datetime) -> str:
    """A short age: ``45 min``, ``3 h``, ``2 d``.

    >>> from datetime import timedelta
    >>> now = utcnow()
    >>> age(now - timedelta(minutes=5), now), age(now - timedelta(hours=30), now)
    ('5 min', '1 d')
    """
    minutes = max(int((now - since).total_seconds() // 60), 0)
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 24 * 60:
        return f"{minutes // 60} h"
    return f"{minutes // (24 * 60)} d"


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f} %"


def learning_curve(points: list[CurvePoint]) -> LineChart:
    """Accuracy against labelled items: the strategy's model and the random control's."""
    x_max = nice_ceiling(float(max((max(p.n_items, p.control_items) for p in points), default=1)))
    strategy = [(float(p.n_items), p.accuracy, f"v{p.version}: {_pct(p.accuracy)}") for p in points]
    control = [
        (float(p.control_items), p.control_accuracy, f"v{p.version}: {_pct(p.control_accuracy)}")
        for p in points
        if p.control_accuracy is not None
    ]
    return line_chart(
        [("selection strategy", strategy), ("random control", control)],
        width=CHART_WIDTH,
        height=CHART_HEIGHT,
        x_range=(0.0, x_max),
        y_max=1.0,
        x_ticks=[(x_max * i / 5, f"{x_max * i / 5:g}") for i in range(6)],
        y_format=lambda v: f"{100 * v:.0f} %",
    )


def cost_chart(costs: CostPerAccurateLabel) -> LineChart:
    """Cost per accurate label (major units) per day; days without one leave a gap."""
    days = costs.days
    series = [
        (
            float(i),
            None if d.per_accurate_minor is None else d.per_accurate_minor / 100,
            f"{d.day.isoformat()}: "
            + ("–" if d.per_accurate_minor is None else f"{d.per_accurate_minor / 100:.2f}"),
        )
        for i, d in enumerate(days)
    ]
    step = max(len(days) // 7, 1)
    return line_chart(
        [("cost per accurate label", series)],
        width=CHART_WIDTH,
        height=CHART_HEIGHT,
        x_range=(0.0, float(max(len(days) - 1, 1))),
        x_ticks=[
            (float(i), d.day.strftime("%d %b"))
            for i, d in enumerate(days)
            if (len(days) - 1 - i) % step == 0
        ],
        y_format=lambda v: f"{v:.2f}",
    )


@router.get("/projects/{project_id}/dashboard", response_class=HTMLResponse)
def dashboard(project_id: Id, request: Request, ctx: Reader) -> HTMLResponse:
    current = ctx.browser_session
    actor = current.actor
    now = utcnow()
    stats = progress.project_progress(ctx.session, actor, project_id, now=now)
    throughput = column_chart(
        [(day.day.strftime("%d %b"), day.labels) for day in stats.per_day], width=640, height=180
    )
    contributors = bar_chart([(c.username, c.labels) for c in stats.contributors], width=640)
    queue = escalation_queue.escalation_queue(ctx.session, actor, project_id)
    rows = [
        QueueRow(
            item_id=e.item_id,
            stage=e.stage,
            reason=e.reason,
            age=age(e.created_at, now),
            href=f"/projects/{project_id}/expert?stage=adjudicator&item={e.item_id}"
            if e.stage == "adjudicator"
            else f"/projects/{project_id}/expert?stage=expert",
            action="Decide" if e.stage == "adjudicator" else "Expert queue",
        )
        for e in queue.oldest
    ]
    # Imported with the first dashboard, not at start (~8 ms): tests/web/test_cold_start.py.
    from loupe.services.model_loop import efficiency

    curve = efficiency.label_efficiency(ctx.session, actor, project_id)
    costs = None
    if stats.cost is not None:  # the same right as the cost to date: payments.manage
        costs = label_costs.cost_per_accurate_label(ctx.session, actor, project_id, now=now)
    return page(
        request,
        "dashboard.html",
        current,
        title=f"{stats.name} · dashboard",
        project={"id": project_id, "name": stats.name},
        project_nav=project_links(ctx.session, actor, project_id, current="dashboard"),
        stats=stats,
        throughput=throughput,
        contributors=contributors,
        queue=queue,
        queue_rows=rows,
        curve=curve,
        curve_chart=learning_curve(curve.points) if curve.points else None,
        costs=costs,
        cost_chart=cost_chart(costs) if costs is not None and costs.accurate else None,
    )
