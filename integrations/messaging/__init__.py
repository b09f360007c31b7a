"""Messages to customers by email, SMS (Twilio) and WhatsApp (Cloud API), through one outbox."""
