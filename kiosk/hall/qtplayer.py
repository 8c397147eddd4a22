"""A `devices.voice` Player that plays WAV bytes through QtMultimedia (QAudioSink), blocking its caller until done.

The voice thread calls `play(wav)`; the sound is started on the GUI thread (where Qt's audio
objects live) and the voice thread waits until the sink has drained. Without an audio output
(a server, a test machine) it waits the sound's length instead, so calls keep their pace.
"""

from __future__ import annotations

import io
import logging
import threading
import time
import wave

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QObject, Qt, Signal, Slot

log = logging.getLogger(__name__)


def wav_seconds(wav: bytes) -> float:
    """Length of a WAV in seconds."""
    with wave.open(io.BytesIO(wav), "rb") as w:
        return w.getnframes() / float(w.getframerate())


class QtPlayer(QObject):
    """Plays one WAV at a time at `volume` (0..1) on the default audio output."""

    _start = Signal(object, object)  # wav bytes, threading.Event set when done

    def __init__(self, volume: float = 0.8, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.volume = max(0.0, min(1.0, volume))
        self.played = 0
        self._available: bool | None = None
        self._sink: object | None = None
        self._buffer: QBuffer | None = None
        self._start.connect(self._play_here, Qt.ConnectionType.QueuedConnection)

    def available(self) -> bool:
        """Whether there is an audio output (asked once, lazily: loading QtMultimedia takes a moment)."""
        if self._available is None:
            from PySide6.QtMultimedia import QMediaDevices

            self._available = not QMediaDevices.defaultAudioOutput().isNull()
            if not self._available:
                log.warning("no audio output: voice calls are timed but silent")
        return self._available

    def play(self, wav: bytes) -> None:
        """Play `wav` and return when it has finished (called from the voice thread)."""
        seconds = wav_seconds(wav)
        self.played += 1
        if not self.available():
            time.sleep(seconds)
            return
        done = threading.Event()
        self._start.emit(wav, done)
        if not done.wait(seconds + 3.0):
            log.warning("the audio output did not finish a %.1f s call in time", seconds)

    @Slot(object, object)
    def _play_here(self, wav: bytes, done: threading.Event) -> None:
        from PySide6.QtMultimedia import QAudio, QAudioFormat, QAudioSink, QMediaDevices

        try:
            with wave.open(io.BytesIO(wav), "rb") as w:
                rate, channels, width = w.getframerate(), w.getnchannels(), w.getsampwidth()
                frames = w.readframes(w.getnframes())
            if width != 2:
                raise ValueError(f"only 16-bit PCM is played, not {8 * width}-bit")
            fmt = QAudioFormat()
            fmt.setSampleRate(rate)
            fmt.setChannelCount(channels)
            fmt.setSampleFormat(QAudioFormat.SampleFormat.Int16)
            sink = QAudioSink(QMediaDevices.defaultAudioOutput(), fmt, self)
            sink.setVolume(self.volume)
            buffer = QBuffer(self)
            buffer.setData(QByteArray(frames))
            buffer.open(QIODevice.OpenModeFlag.ReadOnly)

            def changed(state: QAudio.State) -> None:
                if state in (QAudio.State.IdleState, QAudio.State.StoppedState):
                    sink.stop()
                    done.set()

            sink.stateChanged.connect(changed)
            self._sink, self._buffer = sink, buffer  # alive until the next call
            sink.start(buffer)
        except Exception:
            log.exception("could not play a voice call")
            done.set()
