"""Widgets the forms share."""

from functools import lru_cache

from markupsafe import Markup
from wtforms import widgets
from wtforms.fields.choices import Choice


class Select(widgets.Select):
    """WTForms' select, each option's HTML made once and kept: a list of every country is
    the same 250 options on every form, and making them anew took most of a form's time."""

    @classmethod
    def render_option(cls, choice: Choice, **kwargs) -> Markup:
        if kwargs or choice.render_kw or not isinstance(choice.value, str):
            return super().render_option(choice, **kwargs)
        return _option(choice.value, choice.label, choice.selected)


@lru_cache(maxsize=4096)
def _option(value: str, label: str, selected: bool) -> Markup:
    return widgets.Select.render_option(Choice(value, label, selected, None))
