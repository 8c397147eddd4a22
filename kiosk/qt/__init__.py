"""Thin Qt adapters shared by every role: the bus bridge, background work, the shell view-model."""
