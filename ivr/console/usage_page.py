"""The usage page: calls, scenarios reached, texts and put-throughs, live from the milestones.

Per day for the last 30 days, per month before that: a chart for the eye and a table with every
number. Nothing on it is personal, so nothing is masked.
"""

from __future__ import annotations

from flask import render_template

from ivr.console.blueprint import blueprint, current
from ivr.console.chart import bars
from ivr.homes.notice import today
from ivr.store import usage_report

DAYS = 30
SERIES = ("calls", "texts sent", "texts delivered")


@blueprint.get("/usage")
def usage() -> str:
    found = usage_report.report(current().store, today=today(), days=DAYS)
    daily = bars([(f"{p.start:%-d %b}", (p.calls, p.texts_sent, p.texts_delivered)) for p in found.days], SERIES,
                 label_every=5)  # fmt: skip
    monthly = bars([(f"{p.start:%b %Y}", (p.calls, p.texts_sent, p.texts_delivered)) for p in found.months],
                   SERIES) if found.months else None  # fmt: skip
    return render_template("console/usage.html", report=found, daily=daily, monthly=monthly, days=DAYS,
                           series=SERIES)  # fmt: skip
