"""Small helpers with no kimaki dependencies, usable from every layer."""
