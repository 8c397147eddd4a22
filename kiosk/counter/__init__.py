"""The counter terminal role (窗口叫号终端)."""
