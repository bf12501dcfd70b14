"""kubeline.runtime."""
