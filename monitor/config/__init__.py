"""The service config: a TOML file validated with pydantic, overridden by ``CALLWATCH_<SECTION>__<KEY>``."""
