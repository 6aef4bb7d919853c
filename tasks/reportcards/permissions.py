"""Who may read which report card (issue 7 item 6, DOMAIN.md "People").

- Leaders, supervisors and admins: every card (city, each department, each township).
- A department head: the own department's card only (which shows the city average
  beside it, but no other unit's figures).
- Handlers and registrars: no card. DOMAIN.md gives the department's report card to the
  head as a privilege beyond the handler's, and no other department's figures may reach
  them; a handler's own work is in the department's desk lists instead.
"""

from __future__ import annotations

from .scopes import DEPARTMENT, Scope, city, for_department


def reportcard_visible_to(user, scope: Scope) -> bool:
    """True when `user` may read the report card of `scope`."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if user.sees_all_departments:
        return True
    if user.is_head:
        return scope.kind == DEPARTMENT and scope.department is not None and scope.department.pk == user.department_id
    return False


def reportcard_rankings_visible_to(user) -> bool:
    """True when `user` may compare units (rankings by department or township): those who see every card."""
    return bool(user is not None and user.is_authenticated and user.is_active and user.sees_all_departments)


def reportcard_home_scope(user) -> Scope | None:
    """The card a user lands on: the city for those who see all, the own department for a head, else None."""
    if reportcard_rankings_visible_to(user):
        return city()
    if user is not None and user.is_authenticated and user.is_active and user.is_head and user.department_id:
        return for_department(user.department)
    return None


__all__ = ["reportcard_home_scope", "reportcard_rankings_visible_to", "reportcard_visible_to"]
