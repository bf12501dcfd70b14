"""kubeline.stores."""
