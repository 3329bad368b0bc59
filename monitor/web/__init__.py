"""The monitor's web server: Twilio webhooks, health and metrics, the JSON API, the console."""
