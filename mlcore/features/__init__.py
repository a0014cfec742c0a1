"""The daily feature snapshot every model and audience reads: its tables, the build and the reads."""
