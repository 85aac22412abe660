from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from portal.forms.text import Printable


class PasskeyLabelForm(FlaskForm):
    label = StringField(
        "Name",
        validators=[
            DataRequired("Give the passkey a name."),
            Length(max=80, message="Keep the name under 80 characters."),
            Printable(),
        ],
    )


class RevokePasskeyForm(FlaskForm):
    """A button: revoking needs nothing but the person's intent and a CSRF token."""
