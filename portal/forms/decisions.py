import uuid

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField, IntegerField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import HiddenInput

from portal import statuses
from portal.forms.registration import check_attachment
from portal.forms.text import Printable
from portal.workflow import Target
from salesforce.records import Scope


class ActionForm(FlaskForm):
    """Every action on a registration carries a key (a repeat changes nothing) and the
    number of the stage it creates (a change by someone else meanwhile is refused)."""

    action_key = HiddenField()
    status = HiddenField(validators=[AnyOf(tuple(statuses.TRANSITIONS))])
    sequence = IntegerField(widget=HiddenInput(), validators=[InputRequired(), NumberRange(min=1)])

    def __init__(self, *args, registration=None, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.action_key.data:
            self.action_key.data = str(uuid.uuid4())
        if registration is not None and self.sequence.data is None:
            self.sequence.data = registration.next_sequence
            self.status.data = registration.status

    def target(self, registration_id: str, scope: Scope) -> Target:
        """The registration as the person saw it when they filled this form."""
        return Target(registration_id, self.status.data, self.sequence.data, scope)

    def validate_action_key(self, field):
        try:
            uuid.UUID(field.data or "")
        except ValueError:
            field.errors.append("This form is out of date; reload the page.")
            raise


class ApproveForm(ActionForm):
    pass


class RejectForm(ActionForm):
    reason_code = SelectField(
        "Reason",
        choices=[SelectChoice("", "Choose a reason")]
        + [SelectChoice(code, code) for code in statuses.REASON_CODES],
        validators=[DataRequired("Choose the reason the partner will see.")],
    )
    comment = TextAreaField(
        "Comment for the partner (optional)",
        validators=[
            Optional(),
            Length(max=32000, message="Keep the comment under 32,000 characters."),
        ],
    )


class NeedsInfoForm(ActionForm):
    question = TextAreaField(
        "Question for the partner",
        validators=[
            DataRequired("Write the question the partner must answer."),
            Length(max=32000, message="Keep the question under 32,000 characters."),
            Printable(multiline=True),
        ],
    )


class ReassignForm(ActionForm):
    owner_id = SelectField("New owner", validators=[DataRequired("Choose the new owner.")])
    note = TextAreaField(
        "Note for the new owner (internal, optional)",
        validators=[
            Optional(),
            Length(max=32000, message="Keep the note under 32,000 characters."),
        ],
    )

    def __init__(self, *args, owners: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.owner_id.choices = [SelectChoice("", "Choose a queue or person")] + [
            SelectChoice(owner_id, name) for owner_id, name in owners
        ]


class AnswerForm(ActionForm):
    answer = TextAreaField(
        "Your answer",
        validators=[
            DataRequired("Write your answer to the question."),
            Length(max=32000, message="Keep the answer under 32,000 characters."),
            Printable(multiline=True),
        ],
    )
    attachment = FileField("Supporting file (optional)")

    def __init__(self, *args, max_attachment_bytes: int = 0, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_attachment_bytes = max_attachment_bytes

    def validate_attachment(self, field):
        check_attachment(field, self.max_attachment_bytes)


class WithdrawForm(ActionForm):
    pass
