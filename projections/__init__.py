"""Read models kept current from the event store, and the queries that read them."""
