"""Kiosk app: QML views over Python view-models for every hall screen role."""
