"""kubeline.reuse."""
