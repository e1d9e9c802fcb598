"""Mail in: SMTP server, IMAP poller and pipe ingest all store into one durable inbox;
the inbox worker then handles each stored message exactly once."""
