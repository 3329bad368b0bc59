"""SMS: the Twilio channel, segment counting, and each phone's limit with its digests."""
