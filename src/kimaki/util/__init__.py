"""Small helpers with no kimaki knowledge, usable from every layer."""
