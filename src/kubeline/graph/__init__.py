"""kubeline.graph."""
