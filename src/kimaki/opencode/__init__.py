"""OpenCode side of kimaki: binary discovery, the shared server, the HTTP/SSE client."""
