"""Directory entries as console forms and CSV rows."""
