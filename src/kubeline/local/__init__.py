"""kubeline.local."""
