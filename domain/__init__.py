"""Roster's domain: users, groups, their statuses and the rules that govern them.

Nothing here knows about GraphQL, SQL or HTTP.
"""
