"""SMS: gateways (Twilio, sandbox, console), message texts, segment counting, reply grammar, the outbox."""
