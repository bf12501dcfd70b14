"""kubeline.dsl."""
