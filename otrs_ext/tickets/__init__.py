"""Ticket core: reads and writes of tickets and articles exactly as OTRS makes them."""
