"""Pilot metrics for channel managers and admins: the dashboard and its CSV exports.

A view costs three aggregate queries plus one call per 2,000 stage records of the
registrations counted (salesforce/reporting.py); an export costs the stage-record reads only.
"""

from datetime import UTC, datetime

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required

from portal import charts, metrics, permissions
from portal.forms.metrics import MetricsFilterForm
from salesforce.reporting import MAX_STAGE_ROWS, Reporting

bp = Blueprint("metrics", __name__, url_prefix="/metrics")
bp.add_app_template_filter(metrics.duration_text, "duration")
bp.add_app_template_filter(metrics.percent_text, "percent")
# The navigation shows the Metrics link only to those who may open it.
bp.add_app_template_global(permissions.can_see_metrics, "can_see_metrics")


def reporting() -> Reporting:
    return Reporting(current_app.extensions["gateway"])


def filters() -> MetricsFilterForm:
    """The filters from the query string, limited to the regions the person may see.

    :raise 404: for anyone but channel managers and admins.
    """
    if not permissions.can_see_metrics(current_user):
        abort(404)
    return MetricsFilterForm(
        formdata=request.args,
        allowed_regions=permissions.metrics_regions(current_user),
        today=datetime.now(UTC).date(),
    )


def review_link(registration_id: str) -> str:
    base = current_app.config["PORTAL_BASE_URL"].rstrip("/")
    return base + url_for("review.show", registration_id=registration_id)


@bp.get("/")
@login_required
def dashboard():
    form = filters()
    if not form.validate():
        return render_template("metrics/dashboard.html", form=form, board=None), 400

    cohort = form.cohort()
    source = reporting()
    board = metrics.dashboard(
        cohort,
        source.submissions_by_day(cohort),
        source.partner_statuses(cohort),
        source.form_totals(cohort),
        source.history(cohort),
        datetime.now(UTC),
        current_app.config["SLA_BUSINESS_DAYS"],
        form.outcome.data or "",
    )

    form.offer_partners(sorted(((row.account_id, row.name) for row in board.partners), key=_name))
    return render_template(
        "metrics/dashboard.html",
        form=form,
        board=board,
        charts=charts.dashboard_charts(board),
        shown_decisions=board.decisions[: metrics.DECISIONS_SHOWN],
    )


@bp.get("/decisions.csv")
@login_required
def decisions_csv():
    form = filters()
    if not form.validate():
        abort(400)

    history = reporting().history(form.cohort(), decisions_only=True)
    if not history.complete:
        return too_many()

    journeys = [metrics.journey(registration) for registration in history.registrations]
    rows = metrics.decisions(journeys, form.outcome.data or "")
    return csv_file(metrics.decisions_csv(rows, review_link), "decisions", form)


@bp.get("/registrations.csv")
@login_required
def registrations_csv():
    form = filters()
    if not form.validate():
        abort(400)

    history = reporting().history(form.cohort())
    if not history.complete:
        return too_many()

    journeys = [metrics.journey(registration) for registration in history.registrations]
    content = metrics.registrations_csv(journeys, review_link, datetime.now(UTC))
    return csv_file(content, "registrations", form)


def too_many():
    flash(
        f"That export would have more than {MAX_STAGE_ROWS:,} stage records. "
        "Choose a shorter period or fewer partners, regions or product lines.",
        "error",
    )
    return redirect(url_for("metrics.dashboard", **request.args))


def csv_file(content: str, name: str, form: MetricsFilterForm) -> Response:
    filename = f"{name}-{form.start.data:%Y%m%d}-{form.end.data:%Y%m%d}.csv"
    return Response(
        content,
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "private, no-store",
        },
    )


def _name(choice: tuple[str, str]) -> str:
    return choice[1].lower()
