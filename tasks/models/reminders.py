"""Reminder claims and in-app notifications."""

__all__: list[str] = []
