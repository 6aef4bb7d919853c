"""Forms of the org app: the login form."""

from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _


class LoginForm(AuthenticationForm):
    """Django's login form with labels and messages of our own (Chinese first)."""

    error_messages = {
        "invalid_login": _(
            "The username or password is incorrect. Both are case-sensitive; "
            "after too many failed attempts the account is locked for a while."
        ),
        "inactive": _("This account has been disabled. Ask an administrator."),
    }

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        self.fields["username"].label = _("Username")
        self.fields["password"].label = _("Password")
