"""Serial QR scan engines (扫码模组): payload lines ending CR, CRLF or TAB, a reader thread and a simulator."""
