"""The dashboard's filters: a period, a partner, a region, a product line, a decision."""

from __future__ import annotations

import re
from datetime import date, timedelta

from flask_wtf import FlaskForm
from wtforms import DateField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional, ValidationError

from portal import statuses
from portal.forms.registration import PRODUCT_LINES
from salesforce.reporting import Cohort

# The values of Deal_Registration__c.Region__c.
REGIONS = ("EMEA", "North America", "LATAM", "APAC")
# One year at most: the weekly chart and the stage history stay readable and bounded.
MAX_PERIOD_DAYS = 366
DEFAULT_WEEKS = 12
RECORD_ID = re.compile(r"[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?")


def default_period(today: date) -> tuple[date, date]:
    """The last twelve weeks, Monday to today."""
    start = today - timedelta(days=today.weekday()) - timedelta(weeks=DEFAULT_WEEKS - 1)
    return start, today


class MetricsFilterForm(FlaskForm):
    """Read from the query string, so a filtered dashboard is a link someone can share."""

    class Meta:
        csrf = False

    start = DateField("From", validators=[Optional()])
    end = DateField("To", validators=[Optional()])
    # Its choices depend on the numbers, so any account ID is accepted (and checked below).
    partner = SelectField(
        "Partner", choices=[SelectChoice("", "Every partner")], default="", validate_choice=False
    )
    region = SelectField("Region", default="")
    product_line = SelectField(
        "Product line",
        default="",
        choices=[SelectChoice("", "Every product line")]
        + [SelectChoice(line, line) for line in PRODUCT_LINES],
    )
    outcome = SelectField(
        "Decisions shown",
        default="",
        choices=[
            SelectChoice("", "Approved and rejected"),
            SelectChoice(statuses.APPROVED, "Approved only"),
            SelectChoice(statuses.REJECTED, "Rejected only"),
        ],
    )

    def __init__(self, *args, allowed_regions: tuple[str, ...] | None, today: date, **kwargs):
        super().__init__(*args, **kwargs)
        # None: every region, including registrations that have none.
        self.allowed_regions = allowed_regions
        every = "Every region" if allowed_regions is None else "All my regions"
        offered = REGIONS if allowed_regions is None else allowed_regions
        self.region.choices = [SelectChoice("", every)]
        self.region.choices += [SelectChoice(region, region) for region in offered]
        start, end = default_period(today)
        # Left empty, the period is the default one.
        for field, default in ((self.start, start), (self.end, end)):
            if field.data is None and not "".join(field.raw_data or ()).strip():
                field.data, field.raw_data, field.process_errors = default, [], []

    def offer_partners(self, partners: list[tuple[str, str]]) -> None:
        """The partner choices: those with registrations in the period, and the one chosen."""
        chosen = self.partner.data or ""
        choices = [SelectChoice("", "Every partner")]
        choices += [SelectChoice(account_id, name) for account_id, name in partners]
        if chosen and chosen not in {account_id for account_id, _ in partners}:
            choices.append(SelectChoice(chosen, "The chosen partner (nothing in this period)"))
        self.partner.choices = choices

    def validate_partner(self, field):
        if field.data and not RECORD_ID.fullmatch(field.data):
            raise ValidationError("Choose a partner from the list.")

    def validate_end(self, field):
        if self.start.data and field.data:
            if field.data < self.start.data:
                raise ValidationError("The end of the period comes before its start.")
            if (field.data - self.start.data).days >= MAX_PERIOD_DAYS:
                raise ValidationError("Choose a period of one year or less.")

    def cohort(self) -> Cohort:
        return Cohort(
            start=self.start.data,
            end=self.end.data,
            regions=(self.region.data,) if self.region.data else self.allowed_regions,
            partner_account_id=self.partner.data or "",
            product_line=self.product_line.data or "",
        )
