from flask_wtf import FlaskForm
from wtforms import EmailField
from wtforms.validators import DataRequired, Email, Length


class SignInLinkForm(FlaskForm):
    email = EmailField(
        "Work email",
        validators=[
            DataRequired("Enter the email address your vendor invited."),
            Email("Enter an email address like name@company.com."),
            Length(max=80, message="An email address has at most 80 characters."),
        ],
    )


class ConfirmSignInForm(FlaskForm):
    """A button: the link signs in when the person taps it, not when a mail scanner opens it."""
