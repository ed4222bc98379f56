"""Data platforms: the systems that enforce access. They read grants with a service token and are told of
changes by signed webhooks."""
