"""Log formatters: one line per record, JSON for a collector or key=value for a terminal.

A record may carry `event` (a dotted name such as "login.failed") and `data` (its fields),
as ops.audit.log_event writes them; both formatters put them on the line as fields.
"""

import datetime as dt
import json
import logging

# Attributes every LogRecord has; anything else was passed in `extra` and is shown too.
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "event", "data"}


def fields_of(record: logging.LogRecord) -> dict:
    """The record's structured fields: its `data`, then any other `extra` attribute."""
    fields = dict(getattr(record, "data", None) or {})
    for key, value in record.__dict__.items():
        if key not in _STANDARD and not key.startswith("_") and key not in fields:
            fields[key] = value
    return fields


def _timestamp(record: logging.LogRecord) -> str:
    return dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class JsonFormatter(logging.Formatter):
    """{"time", "level", "logger", "event"?, "message", ...fields, "exc"?} on one line."""

    def format(self, record: logging.LogRecord) -> str:
        line = {"time": _timestamp(record), "level": record.levelname, "logger": record.name}
        if getattr(record, "event", None):
            line["event"] = record.event
        line["message"] = record.getMessage()
        line.update(fields_of(record))
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def kv_value(value) -> str:
    """A value for a key=value line, quoted when it holds a space, a quote or an equals sign."""
    text = str(value)
    return json.dumps(text, ensure_ascii=False) if (not text or any(c in text for c in ' "=\n')) else text


class KeyValueFormatter(logging.Formatter):
    """`TIME LEVEL logger message key=value ...`: readable, and still grep-able by field."""

    def format(self, record: logging.LogRecord) -> str:
        parts = [_timestamp(record), record.levelname, record.name]
        event = getattr(record, "event", None)
        # log_event's message already is "event key=value ..."; other records get theirs appended.
        parts.append(record.getMessage())
        if not event:
            parts.extend(f"{key}={kv_value(value)}" for key, value in fields_of(record).items())
        line = " ".join(parts)
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line
