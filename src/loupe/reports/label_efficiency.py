"""The label-efficiency report as one self-contained HTML page with an inline SVG chart.

>>> from loupe.reports.label_efficiency import svg_chart
>>> svg_chart([("strategy", [(10, 0.5), (20, 0.7)], "#1f6feb")]).startswith("<svg")
True
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from loupe.services.model_loop.efficiency import EfficiencyReport, RandomControl

__all__ = ["render_html", "svg_chart"]

Series = tuple[str, Sequence[tuple[float, float]], str]

WIDTH, HEIGHT, PAD = 640, 320, 48


def _text(
    x: float, y: float, body: str, *, size: int = 11, anchor: str = "middle", extra: str = ""
) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}"{extra}>'
        f"{escape(body)}</text>"
    )


def svg_chart(
    series: Sequence[Series],
    *,
    x_label: str = "labelled items",
    y_label: str = "accuracy",
    whiskers: Sequence[tuple[float, float, float, str]] = (),
) -> str:
    """Lines of ``(x, y)`` points (y in [0, 1]) with axes, ticks and a legend;
    ``whiskers``: ``(x, low, high, colour)`` vertical bars (a spread around a point)."""
    xs = [x for _, points, _ in series for x, _ in points] or [0.0, 1.0]
    x_max = max(max(xs), 1.0)
    plot_w, plot_h = WIDTH - 2 * PAD, HEIGHT - 2 * PAD

    def sx(x: float) -> float:
        return PAD + plot_w * x / x_max

    def sy(y: float) -> float:
        return HEIGHT - PAD - plot_h * y

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" '
        f'aria-label="{escape(y_label)} vs {escape(x_label)}">',
        f'<rect x="{PAD}" y="{PAD}" width="{plot_w}" height="{plot_h}" '
        'fill="#fafafa" stroke="#ccc"/>',
    ]
    for tick in range(0, 11, 2):
        y = sy(tick / 10)
        parts.append(
            f'<line x1="{PAD}" y1="{y:.1f}" x2="{WIDTH - PAD}" y2="{y:.1f}" stroke="#eee"/>'
        )
        parts.append(_text(PAD - 6, y + 4, f"{tick / 10:.1f}", anchor="end"))
    for i in range(6):
        x_value = x_max * i / 5
        parts.append(_text(sx(x_value), HEIGHT - PAD + 16, f"{x_value:.0f}"))
    parts.append(_text(WIDTH / 2, HEIGHT - 8, x_label, size=12))
    rotate = f' transform="rotate(-90 14 {HEIGHT / 2})"'
    parts.append(_text(14, HEIGHT / 2, y_label, size=12, extra=rotate))
    for _, points, colour in series:
        coords = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in points)
        if coords:
            parts.append(
                f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="2"/>'
            )
            for x, y in points:
                parts.append(f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="3" fill="{colour}"/>')
    for x, low, high, colour in whiskers:
        parts.append(
            f'<line x1="{sx(x):.1f}" y1="{sy(max(low, 0.0)):.1f}" x2="{sx(x):.1f}" '
            f'y2="{sy(min(high, 1.0)):.1f}" stroke="{colour}" stroke-width="1.5"/>'
        )
    for index, (name, _, colour) in enumerate(series):
        # Bottom right: learning curves rise from the left, so that corner stays clear.
        ly = HEIGHT - PAD - 8 - 16 * (len(series) - 1 - index)
        right = WIDTH - PAD - 10
        parts.append(f'<rect x="{right - 12}" y="{ly - 9}" width="12" height="3" fill="{colour}"/>')
        parts.append(
            f'<text x="{right - 18}" y="{ly - 4}" font-size="12" text-anchor="end">'
            f"{escape(name)}</text>"
        )
    parts.append("</svg>")
    return "\n".join(parts)


def _money(minor: int, currency: str | None) -> str:
    if currency is None and not minor:  # nothing on the ledger: no "0.00 None"
        return "–"
    return f"{minor / 100:,.2f} {currency or ''}".strip()


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def _spread(mean: float | None, sd: float | None) -> str:
    if mean is None:
        return "–"
    return _pct(mean) if sd is None else f"{_pct(mean)} ± {100 * sd:.1f}"


def _control_note(control: RandomControl) -> str:
    if control.kind == "simulated":
        return (
            "<strong>Random control: equal budgets, SIMULATED.</strong> At every budget of "
            "the strategy's curve the same trainer is fitted on the same hand-labelled seed "
            "plus items drawn uniformly at random from the items the strategy chose from "
            f"at that point, in {control.draws} seeded draws (mean ± standard deviation "
            "across draws; whiskers on the chart). A drawn item people labelled keeps their "
            "consensus; any other gets a SIMULATED label (the column below counts them, "
            "per draw). Scored on today's gold set."
        )
    last = control.points[-1] if control.points else None
    stop = (
        f" It stops at {last.n_items} items where the strategy has {last.budget}:" if last else ""
    )
    return (
        "<strong>Random control: audit items only.</strong> The same trainer fitted, with "
        "each version, only on the items the uniform random audit drew (plus the "
        "hand-labelled seed): the only items people labelled that were chosen at random."
        f"{stop} it is not an equal-budget comparison beyond its own points. To compare "
        "at equal budgets on real labels, grow the audit sample "
        "(<code>loupe loop configure --audit-share</code>)."
    )


def render_html(
    report: EfficiencyReport, *, title: str | None = None, notes: Sequence[str] = ()
) -> str:
    """The whole page: summary, chart, per-version table, model-versus-people agreement."""
    points = report.points
    control = report.control
    strategy = [(float(p.n_items), p.accuracy) for p in points]
    control_line = [
        (float(c.n_items), c.accuracy) for c in control.points if c.accuracy is not None
    ]
    whiskers = [
        (float(c.n_items), c.accuracy - c.sd, c.accuracy + c.sd, "#d1242f")
        for c in control.points
        if c.accuracy is not None and c.sd is not None
    ]
    mix = ", ".join(f"{name} {weight:g}" for name, weight in sorted(report.settings.mix.items()))
    chart = svg_chart(
        [
            (f"selection strategy ({mix})", strategy, "#1f6feb"),
            (control.name, control_line, "#d1242f"),
        ],
        whiskers=whiskers,
    )
    simulated = control.kind == "simulated"
    by_version = {c.version: c for c in control.points}
    rows = []
    for p in points:
        c = by_version.get(p.version)
        cells: list[object] = [
            f"v{p.version}{' ★' if p.promoted else ''}",
            p.n_items,
            p.n_labels,
            _money(p.cost_minor, report.currency),
            _pct(p.accuracy),
            _pct(p.macro_f1),
            _pct(p.oos_recall),
            c.n_items if c else "–",
            _spread(c.accuracy, c.sd) if c else "–",
        ]
        if simulated:
            cells.append(f"{c.simulated:.1f}" if c else "–")
        rows.append("<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>")
    control_head = (
        "<th>control items</th><th>control accuracy (mean ± sd)</th>"
        "<th>SIMULATED labels per draw</th>"
        if simulated
        else "<th>control items (audit + seed)</th><th>control accuracy</th>"
    )
    agreement = report.agreement
    strategies = "".join(
        f"<li>{escape(s.strategy)}: {s.n} items, "
        f"model agreed with people on {_pct(s.agreement)}</li>"
        for s in agreement.by_strategy
    )
    audit = (
        f"{_pct(agreement.audit_accuracy)} ± {_pct(agreement.audit_standard_error)} "
        f"(from {agreement.audit_n} random audit items)"
        if agreement.audit_accuracy is not None
        else "no audit items labelled yet"
    )
    served = ", ".join(
        f"{escape(version)}: {n}" for version, n in sorted((report.served_by or {}).items())
    )
    serving = (
        f"Serving now: champion v{report.champion}"
        if report.champion is not None
        else "No champion serves yet"
    ) + (
        f"; challenger v{report.shadowing} in shadow (scored on items people label before "
        "it may be promoted)"
        if report.shadowing is not None
        else ""
    )
    serving += f". Predictions received per model version: {served or 'none'}."
    extra = "".join(f"<p>{escape(note)}</p>" for note in notes)
    heading = escape(title or f"Label efficiency — {report.project_name}")
    n_labels = points[-1].n_labels if points else 0
    bought = (
        f"{n_labels} human labels; nothing paid for them on the ledger (no rate card)"
        if report.currency is None and not report.total_cost_minor
        else f"{n_labels} human labels bought for\n"
        f"{_money(report.total_cost_minor, report.currency)}"
    )
    table = "\n".join(rows)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{heading}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 900px; margin: 2em auto; color: #222; }}
table {{ border-collapse: collapse; width: 100%; font-size: 14px; }}
th, td {{ border-bottom: 1px solid #ddd; padding: 4px 8px; text-align: right; }}
th:first-child, td:first-child {{ text-align: left; }}
.note {{ color: #555; font-size: 13px; }}
</style></head><body>
<h1>{heading}</h1>
{extra}
<p>{len(points)} model version(s); {bought}. Strategy mix: {escape(mix)};
random audit share {report.settings.audit_share:g}; at most
{report.settings.label_share:g} of each batch goes to people.</p>
<h2>Gold-set accuracy vs labelled items</h2>
{chart}
<p class="note" id="control-kind" data-kind="{control.kind}">Accuracy on the project's held-out
gold set. {_control_note(control)}</p>
<h2>Versions</h2>
<table><tr><th>version</th><th>labelled items</th><th>human labels</th><th>cost</th>
<th>accuracy</th><th>macro F1</th><th>OOS recall</th>{control_head}</tr>
{table}
</table>
<p class="note">★ promoted (champion/challenger on the gold set).</p>
<h2>Model versus people</h2>
<p>{agreement.n_predictions} predictions: {agreement.n_to_people} sent to people,
{agreement.n_model_resolved} resolved by the model. Unbiased estimate of the model's accuracy on all
traffic: {audit}.</p>
<p id="serving">{serving}</p>
<ul>{strategies}</ul>
</body></html>
"""
