"""Bulk import of users from a CSV file: reading, review, commit."""
