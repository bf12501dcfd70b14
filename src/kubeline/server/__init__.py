"""kubeline.server."""
