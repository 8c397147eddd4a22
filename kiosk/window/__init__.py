"""The window display role (窗口屏)."""
