"""Reports: how fast alerts were answered in a period and area, against the telecare targets."""
