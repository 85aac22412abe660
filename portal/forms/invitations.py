from flask_wtf import FlaskForm
from wtforms import EmailField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length

from portal import roles
from portal.forms.text import Printable


class InvitationForm(FlaskForm):
    email = EmailField(
        "Work email",
        validators=[
            DataRequired("Enter the person's work email."),
            Email("Enter an email address like name@company.com."),
            Length(max=80, message="An email address has at most 80 characters."),
        ],
    )
    first_name = StringField(
        "First name",
        validators=[
            Length(max=40, message="Keep the first name under 40 characters."),
            Printable(),
        ],
    )
    last_name = StringField(
        "Last name",
        validators=[
            DataRequired("Enter the person's last name."),
            Length(max=80, message="Keep the last name under 80 characters."),
            Printable(),
        ],
    )
    account_id = SelectField("Partner company", validators=[DataRequired("Choose the company.")])
    role = SelectField(
        "Portal role",
        choices=[
            SelectChoice(roles.REP, "Rep: sees the deals they register"),
            SelectChoice(roles.MANAGER, "Manager: sees all of the company's deals"),
        ],
        validators=[DataRequired("Choose a role.")],
    )

    def __init__(self, *args, accounts: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.account_id.choices = [SelectChoice("", "Choose a company")] + [
            SelectChoice(account_id, name) for account_id, name in accounts
        ]
