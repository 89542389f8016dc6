"""Bulk actions: one action on many users, run in ranges in the background."""
