"""Qt-free parts of the kiosk shared by every role: texts, idle timer, the person at the screen, ports."""
