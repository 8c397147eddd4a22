""""You're next" notifications (到号提醒): the citizen's phone number, a durable outbox, the gateway adapter."""
