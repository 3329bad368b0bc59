"""``callwatch-sim`` subcommands beyond the sandbox, one module per kind of command."""
