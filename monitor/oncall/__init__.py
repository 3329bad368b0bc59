"""Who is on call: schedules, availability by SMS, opt-outs, family contacts, volunteers' positions.

The rules that pick who an alert's tier asks live in ``monitor.escalation.audience``; this package
holds what those rules read and what changes it.
"""
