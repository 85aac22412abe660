"""Filters and globals the templates use to show dates, money and sizes the same way everywhere."""

from datetime import UTC, date, datetime

from flask import Flask

from portal import statuses


def when(moment: datetime | None) -> str:
    if moment is None:
        return ""
    return moment.astimezone(UTC).strftime("%d %b %Y, %H:%M UTC")


def day(value: date | None) -> str:
    return f"{value:%d %b %Y}" if value else ""


def money(value: float) -> str:
    return f"${value:,.2f}"


def filesize(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def register(app: Flask) -> None:
    app.add_template_filter(when)
    app.add_template_filter(day)
    app.add_template_filter(money)
    app.add_template_filter(filesize)
    app.add_template_global(statuses.status, "status_of")

    @app.context_processor
    def dates():
        return {"today": datetime.now(UTC).date().isoformat()}
