"""Event store adapters: the eventsourcing recorders, extended with Roster's unique keys."""
