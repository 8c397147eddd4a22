"""ESC/POS ticket printer (小票打印机): transports by URL, command set, ticket layouts, status, simulator."""
