"""QR codes from camera frames: decoding cascade, capture loop with health, and `QrWatcher` for the kiosk."""
