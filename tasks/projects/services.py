"""Writes on practical-task projects: a dated progress update with new indicator values and evidence."""

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from org.models import User
from tasks.errors import DomainError
from tasks.models.projects import Evidence, Indicator, ProgressUpdate, ProgressValue, Project

from . import files

MAX_NOTE = 5000
# Indicator values: DecimalField(max_digits=14, decimal_places=2).
MAX_VALUE = Decimal("999999999999.99")


def _check_recorder(actor: User, project: Project) -> None:
    if not actor.works_for(project.department_id):
        raise DomainError(
            _("Only the handlers and head of %(department)s record this project's progress.")
            % {"department": project.department}
        )


def _as_value(raw, indicator: Indicator) -> Decimal:
    try:
        value = raw if isinstance(raw, Decimal) else Decimal(str(raw).strip())
    except (InvalidOperation, ValueError):
        raise DomainError(
            _("%(indicator)s: “%(value)s” is not a number.") % {"indicator": indicator.name, "value": raw},
            field=f"indicator_{indicator.pk}",
        ) from None
    if not value.is_finite() or value < 0 or value > MAX_VALUE:
        raise DomainError(
            _("%(indicator)s: the value must be a number from 0 to %(max)s.")
            % {"indicator": indicator.name, "max": MAX_VALUE},
            field=f"indicator_{indicator.pk}",
        )
    if value != value.quantize(Decimal("0.01")):
        raise DomainError(
            _("%(indicator)s: at most two decimal places.") % {"indicator": indicator.name},
            field=f"indicator_{indicator.pk}",
        )
    return value.quantize(Decimal("0.01"))


def _check_date(recorded_on, project: Project, *, today: dt.date) -> dt.date:
    if not isinstance(recorded_on, dt.date) or isinstance(recorded_on, dt.datetime):
        raise DomainError(_("Give the date of the progress update."), field="recorded_on")
    if recorded_on > today:
        raise DomainError(
            _("The date %(date)s is in the future.") % {"date": recorded_on.isoformat()}, field="recorded_on"
        )
    if recorded_on < project.starts_on:
        raise DomainError(
            _("The date %(date)s is before the project starts (%(start)s).")
            % {"date": recorded_on.isoformat(), "start": project.starts_on.isoformat()},
            field="recorded_on",
        )
    return recorded_on


def project_record_progress(
    *,
    actor: User,
    project: Project,
    recorded_on: dt.date,
    values: dict | None = None,
    note: str = "",
    evidence=(),
    now: dt.datetime | None = None,
) -> ProgressUpdate:
    """Record a dated progress update: new indicator values ({indicator or id: value}), a note, evidence uploads."""
    now = now or timezone.now()
    _check_recorder(actor, project)
    recorded_on = _check_date(recorded_on, project, today=timezone.localdate(now))
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise DomainError(
            _("The note is too long: %(length)d characters, at most %(max)d.") % {"length": len(note), "max": MAX_NOTE},
            field="note",
        )
    # Every file is checked before anything is written: a refused file leaves no row and no file.
    checked = files.files_check(evidence)
    stored: list[str] = []
    try:
        with transaction.atomic():
            # The project's row lock orders concurrent updates: each sees the values the previous one left.
            locked = Project.objects.select_for_update().get(pk=project.pk)
            latest = locked.updates.order_by("-recorded_on").values_list("recorded_on", flat=True).first()
            if latest is not None and recorded_on < latest:
                raise DomainError(
                    _("Progress is recorded in date order: the last update is dated %(date)s.")
                    % {"date": latest.isoformat()},
                    field="recorded_on",
                )
            indicators = {indicator.pk: indicator for indicator in locked.indicators.all()}
            changes = _changes(values or {}, indicators)
            if not changes and not checked:
                raise DomainError(_("Nothing to record: enter a new indicator value or attach evidence."))
            update = ProgressUpdate.objects.create(
                project=locked, recorded_on=recorded_on, note=note, recorded_by=actor, created_at=now
            )
            ProgressValue.objects.bulk_create(
                ProgressValue(update=update, indicator=indicator, previous=indicator.current, value=value)
                for indicator, value in changes
            )
            for indicator, value in changes:
                Indicator.objects.filter(pk=indicator.pk).update(current=value)
            rows = []
            for item in checked:
                stored.append(files.file_store(item, folder="evidence", now=now))
                rows.append(
                    Evidence(update=update, file=stored[-1], original_name=item.name,
                             content_type=item.content_type, size=item.size, uploaded_at=now)
                )
            Evidence.objects.bulk_create(rows)
    except BaseException:
        files.files_delete(stored)
        raise
    return update


def _changes(values: dict, indicators: dict[int, Indicator]) -> list[tuple[Indicator, Decimal]]:
    """(indicator, new value) for each value that differs from the indicator's current one."""
    changes = []
    for key, raw in values.items():
        pk = key.pk if isinstance(key, Indicator) else key
        indicator = indicators.get(pk)
        if indicator is None:
            raise DomainError(_("Indicator %(id)s is not one of this project's indicators.") % {"id": pk})
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            continue
        value = _as_value(raw, indicator)
        if value != indicator.current:
            changes.append((indicator, value))
    return sorted(changes, key=lambda change: change[0].pk)


__all__ = ["project_record_progress"]
