"""Providers' webhooks: Twilio's inbound SMS and delivery status callbacks."""
