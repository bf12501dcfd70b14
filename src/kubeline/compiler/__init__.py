"""kubeline.compiler."""
