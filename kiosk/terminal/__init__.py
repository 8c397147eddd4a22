"""The self-service terminal role (自助一体机): take a ticket, case status, check-in, guide, rating."""
