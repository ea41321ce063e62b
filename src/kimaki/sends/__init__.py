"""`kimaki send`: the message format, and how each send's turn ended."""
