"""Import jobs: a bulk import of suggestions, its progress and its error report."""

__all__: list[str] = []
