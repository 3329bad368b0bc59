"""Live alert changes: to the consoles of this monitor, and between monitors on one PostgreSQL."""
