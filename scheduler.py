"""When sources run: crontab(5) expressions turned into APScheduler triggers.

APScheduler's ``CronTrigger.from_crontab`` numbers weekdays from Monday (``0 6 * * 0``
fires on Mondays) and ANDs day-of-month with day-of-week, where crontab(5) numbers
them from Sunday and ORs the two when both are restricted.  ``cron_trigger`` keeps
crontab's meaning.
"""

from __future__ import annotations

from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger

_WEEKDAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_SHORTCUTS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}


class CronError(ValueError):
    """A crontab expression that crontab(5) would not accept."""


def _weekday_number(token: str) -> int:
    token = token.strip().lower()
    if token[:3] in _WEEKDAYS and len(token) >= 3:
        return _WEEKDAYS.index(token[:3])
    if not token.isdigit() or int(token) > 7:
        raise CronError(f"bad day of week {token!r} (0-7 or sun-sat)")
    return int(token)


def _weekday_names(field: str) -> str:
    """Expand a crontab day-of-week field into APScheduler's day names."""
    days: set[int] = set()
    for part in field.split(","):
        part, _, step_text = part.partition("/")
        step = 1
        if step_text:
            if not step_text.isdigit() or int(step_text) == 0:
                raise CronError(f"bad step {step_text!r} in day of week")
            step = int(step_text)
        if part == "*":
            low, high = 0, 6
        elif "-" in part:
            low_text, high_text = part.split("-", 1)
            low, high = _weekday_number(low_text), _weekday_number(high_text)
            if low > high:
                raise CronError(f"bad range {part!r} in day of week")
        else:
            low = high = _weekday_number(part)
            if step_text:
                high = 6
        days.update(day % 7 for day in range(low, high + 1, step))
    order = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    return ",".join(name for name in order if _WEEKDAYS.index(name) in days)


def cron_trigger(expression: str, timezone: str = "UTC"):
    """Return an APScheduler trigger that fires when crontab(5) would run ``expression``."""
    text = _SHORTCUTS.get(expression.strip().lower(), expression)
    fields = text.split()
    if len(fields) != 5:
        raise CronError(f"{expression!r} has {len(fields)} fields, crontab(5) needs 5")
    minute, hour, day, month, weekday = fields
    try:
        if day != "*" and weekday != "*":
            return OrTrigger(
                [
                    CronTrigger(minute=minute, hour=hour, day=day, month=month, timezone=timezone),
                    CronTrigger(
                        minute=minute, hour=hour, month=month,
                        day_of_week=_weekday_names(weekday), timezone=timezone,
                    ),
                ]
            )
        return CronTrigger(
            minute=minute,
            hour=hour,
            day=day,
            month=month,
            day_of_week=_weekday_names(weekday) if weekday != "*" else "*",
            timezone=timezone,
        )
    except ValueError as exc:
        if isinstance(exc, CronError):
            raise
        raise CronError(f"{expression!r}: {exc}") from None
