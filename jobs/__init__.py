"""Background work: the import steps that run after the request that started them."""
