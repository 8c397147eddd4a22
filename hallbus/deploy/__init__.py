"""Deployment: broker configuration, per-node credentials and ACLs, the city bridge."""
