"""Voice calls (语音叫号): a chime and prerecorded clips concatenated into a WAV, played through a queue."""
