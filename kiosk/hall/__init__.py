"""The hall screen role (大厅屏) with voice calls."""
