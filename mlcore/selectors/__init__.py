"""mlcore's reads, one module per area."""
