"""Use-cases, named in the co-op's own words; shared by the CLI, the UI and federation."""
