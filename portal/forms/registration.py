import re
import uuid
from datetime import date
from decimal import Decimal

from flask import current_app
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, DecimalField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from portal import geography, uploads
from portal.forms.text import Printable
from portal.forms.widgets import Select

PRODUCT_LINES = ("Cloud Platform", "Security Suite", "Analytics", "Professional Services")
MAX_DEAL_VALUE = Decimal("99999999999999.99")
DOMAIN_PATTERN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def normalise_domain(text: str | None) -> str:
    """`https://www.Example.com/about` becomes `www.example.com`."""
    text = (text or "").strip().lower()
    text = re.sub(r"^[a-z][a-z0-9+.-]*://", "", text)
    text = text.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    return text.rsplit("@", 1)[-1].split(":", 1)[0].rstrip(".")


class RegistrationForm(FlaskForm):
    submission_key = HiddenField()
    end_customer_name = StringField(
        "End customer company",
        validators=[
            DataRequired("Enter the customer's company name."),
            Length(max=255, message="Keep the company name under 255 characters."),
            Printable(),
        ],
    )
    end_customer_domain = StringField(
        "Customer website",
        filters=[normalise_domain],
        validators=[Optional(), Length(max=255, message="Keep the website under 255 characters.")],
        description="For example acme.com",
    )
    country = SelectField(
        "Country",
        choices=[SelectChoice("", "Choose a country")]
        + [SelectChoice(code, name) for code, name in geography.countries()],
        validators=[DataRequired("Choose the customer's country.")],
        widget=Select(),
    )
    deal_value = DecimalField(
        "Deal value (USD)",
        places=2,
        validators=[
            InputRequired("Enter the expected deal value."),
            NumberRange(min=Decimal("1"), message="Enter a value above 0."),
            NumberRange(max=MAX_DEAL_VALUE, message="That value is too large for a deal."),
        ],
    )
    product_line = SelectField(
        "Product line",
        choices=[SelectChoice("", "Choose a product line")]
        + [SelectChoice(line, line) for line in PRODUCT_LINES],
        validators=[DataRequired("Choose a product line.")],
        widget=Select(),
    )
    expected_close_date = DateField(
        "Expected close date",
        validators=[InputRequired("Enter the date you expect the deal to close.")],
    )
    notes = TextAreaField(
        "Notes for the channel team",
        validators=[
            Optional(),
            Length(max=32000, message="Notes can be at most 32,000 characters."),
            Printable(multiline=True),
        ],
    )
    attachment = FileField("Proof or supporting file (optional)")

    def __init__(self, *args, max_attachment_bytes: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_attachment_bytes = max_attachment_bytes
        if not self.submission_key.data:
            self.submission_key.data = str(uuid.uuid4())

    def validate_submission_key(self, field):
        try:
            uuid.UUID(field.data or "")
        except ValueError:
            raise ValidationError("This form is out of date; reload the page.") from None

    def validate_deal_value(self, field):
        if field.data is None:
            return
        if not field.data.is_finite():
            field.errors[:] = []
            raise ValidationError("Enter the value as a number, like 125000.50.")
        if field.data.as_tuple().exponent < -2:
            raise ValidationError("Use at most two decimal places.")

    def validate_end_customer_domain(self, field):
        if not field.data:
            return
        try:
            ascii_domain = field.data.encode("idna").decode("ascii")
        except UnicodeError:
            ascii_domain = ""
        if not DOMAIN_PATTERN.match(ascii_domain):
            raise ValidationError("Enter a website like acme.com.")

    def validate_expected_close_date(self, field):
        if field.data and field.data < date.today():
            raise ValidationError("The close date cannot be in the past.")

    def validate_attachment(self, field):
        check_attachment(field, self.max_attachment_bytes)


def check_attachment(field, max_bytes: int) -> None:
    """An optional file: not empty, not larger than `max_bytes`, of an allowed type by its
    bytes; its filename is made safe to keep."""
    upload = field.data
    if not upload or not getattr(upload, "filename", ""):
        return
    upload.stream.seek(0, 2)
    size = upload.stream.tell()
    upload.stream.seek(0)
    if size == 0:
        raise ValidationError("The file is empty.")
    if size > max_bytes:
        raise ValidationError(f"Files can be at most {max_bytes // (1024 * 1024)} MB.")
    allowed = current_app.config["ALLOWED_ATTACHMENT_TYPES"]
    kind = uploads.allowed_kind(upload.stream.read(uploads.HEAD_BYTES), allowed)
    upload.stream.seek(0)
    if kind is None:
        raise ValidationError(f"Attach a {uploads.describe(allowed)} file; this one is not.")
    upload.filename = uploads.clean_filename(upload.filename, kind)
