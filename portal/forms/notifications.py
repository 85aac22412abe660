from flask_wtf import FlaskForm
from wtforms import BooleanField


class NotificationChoicesForm(FlaskForm):
    email = BooleanField("Email me about my registrations")
    push = BooleanField("Notify this phone")
