"""The one error the domain raises when a rule refuses a step."""


class DomainError(Exception):
    """A refused step, with a message a user can read (translated, Chinese by default)."""

    def __init__(self, message, *, field: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.field = field

    def __str__(self):
        return str(self.message)
