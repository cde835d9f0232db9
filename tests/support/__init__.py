"""Real components and named doubles that the tests set up for themselves."""
