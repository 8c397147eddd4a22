"""The hall controller (`hallbus serve`): queue engine, windows, calls, store and admin CLI."""
