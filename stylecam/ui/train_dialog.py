""""New style…": train a style from an image in a background ``stylecam train`` process.

The trainer runs as ``sys.executable -m stylecam train ... --preset quick --progress-format json``
in a QProcess, so the window never waits on it and a crash cannot take the window down. Its
stdout carries JSON lines (``progress``, ``preview``, ``done``); on failure its last stderr line
is the one-line reason shown here. Cancel sends SIGINT first on POSIX (the trainer checkpoints),
then terminates, then kills.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import QProcess, Qt, QTimer, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from stylecam.errors import StylecamError
from stylecam.styles import check_style_name

IMAGE_FILTER = "Images (*.jpg *.jpeg *.png *.bmp *.webp);;All files (*)"
CommandFn = Callable[[str, str, str], tuple[str, list[str]]]
"""(style image, dataset folder, name) -> (program, arguments)."""


def trainer_command(style_image: str, dataset: str, name: str) -> tuple[str, list[str]]:
    """The quick-preset trainer run as a child of this Python."""
    return sys.executable, [
        "-m", "stylecam", "train",
        "--style", style_image, "--dataset", dataset, "--name", name,
        "--preset", "quick", "--progress-format", "json",
    ]  # fmt: skip


def suggest_name(image_path: str) -> str:
    """A valid style name from an image's file name ("Starry Night.jpg" -> "starry_night")."""
    stem = Path(image_path).stem.lower()
    name = "".join(c if c.isalnum() and c.isascii() else "_" for c in stem).strip("_")
    while "__" in name:
        name = name.replace("__", "_")
    return (name or "my_style")[:64]


def format_eta(seconds: float) -> str:
    s = max(0, round(seconds))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


class NewStyleDialog(QDialog):
    """Pick an image, a name and a dataset folder, then train with live progress and preview.

    ``trained(str, list)`` is emitted with the style name and the files written when the run
    succeeds; ``dataset_chosen(str)`` when a run starts (the window remembers the folder).
    """

    trained = Signal(str, list)
    dataset_chosen = Signal(str)

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        dataset_dir: str | None = None,
        command: CommandFn = trainer_command,
        env: dict[str, str] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("New style")
        self.setMinimumWidth(520)
        self._command = command
        self._env = env
        self._process: QProcess | None = None
        self._stdout_buf = b""
        self._stderr_lines: list[str] = []
        self._done_files: list[str] | None = None
        self._cancelling = False
        self.state = "idle"
        """idle, running, done, failed or cancelled."""

        self.image_edit = QLineEdit()
        self.image_edit.setPlaceholderText("a painting, a photo, a texture…")
        browse_image = QPushButton("Browse…")
        browse_image.clicked.connect(self._browse_image)
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("lower-case letters, digits, _ or -")
        self.dataset_edit = QLineEdit(dataset_dir or "")
        self.dataset_edit.setPlaceholderText("a folder of photos to train on")
        browse_data = QPushButton("Browse…")
        browse_data.clicked.connect(self._browse_dataset)

        form = QFormLayout()
        row = QHBoxLayout()
        row.addWidget(self.image_edit, 1)
        row.addWidget(browse_image)
        form.addRow("Style image", row)
        form.addRow("Name", self.name_edit)
        row = QHBoxLayout()
        row.addWidget(self.dataset_edit, 1)
        row.addWidget(browse_data)
        form.addRow("Photos", row)

        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.status = QLabel("The quick preset fine-tunes the bundled live network: about 15 minutes on a laptop CPU, a minute on a GPU.")
        self.status.setWordWrap(True)
        self.preview = QLabel()
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setMinimumHeight(200)

        self.buttons = QDialogButtonBox()
        self.start_button = self.buttons.addButton("Train", QDialogButtonBox.ButtonRole.AcceptRole)
        self.cancel_button = self.buttons.addButton("Cancel", QDialogButtonBox.ButtonRole.RejectRole)
        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel_or_close)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.preview, 1)
        layout.addWidget(self.buttons)
        self.image_edit.textChanged.connect(self._image_changed)

    # ---- inputs -------------------------------------------------------------------------------
    def _browse_image(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Style image", "", IMAGE_FILTER)
        if path:
            self.image_edit.setText(path)

    def _browse_dataset(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Folder of photos", self.dataset_edit.text())
        if path:
            self.dataset_edit.setText(path)

    def _image_changed(self, text: str) -> None:
        if text and not self.name_edit.isModified():
            self.name_edit.setText(suggest_name(text))

    def validate(self) -> tuple[str, str, str]:
        """(image, dataset, name) or StylecamError with what to fix."""
        image = self.image_edit.text().strip()
        dataset = self.dataset_edit.text().strip()
        name = self.name_edit.text().strip()
        if not image or not Path(image).is_file():
            raise StylecamError(f"pick a style image (not found: {image or 'none given'})")
        if not dataset or not Path(dataset).is_dir():
            raise StylecamError(f"pick a folder of photos to train on (not a folder: {dataset or 'none given'})")
        check_style_name(name)
        return image, dataset, name

    # ---- the process --------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._process is not None and self._process.state() != QProcess.ProcessState.NotRunning

    def start(self) -> None:
        if self.running:
            return
        try:
            image, dataset, name = self.validate()
        except StylecamError as exc:
            self._set_state("failed", str(exc))
            return
        self.dataset_chosen.emit(dataset)
        program, args = self._command(image, dataset, name)
        self._name = name
        self._stdout_buf = b""
        self._stderr_lines = []
        self._done_files = None
        self._cancelling = False
        proc = QProcess(self)
        if self._env is not None:
            from PySide6.QtCore import QProcessEnvironment

            penv = QProcessEnvironment()
            for k, v in self._env.items():
                penv.insert(k, v)
            proc.setProcessEnvironment(penv)
        proc.readyReadStandardOutput.connect(self._read_stdout)
        proc.readyReadStandardError.connect(self._read_stderr)
        proc.finished.connect(self._finished)
        proc.errorOccurred.connect(self._error)
        self._process = proc
        self.progress.setRange(0, 0)  # busy until the first progress line
        self._set_state("running", f"Training '{name}'…")
        proc.start(program, args)

    def _read_stdout(self) -> None:
        assert self._process is not None
        self._stdout_buf += bytes(self._process.readAllStandardOutput().data())
        *lines, self._stdout_buf = self._stdout_buf.split(b"\n")
        for raw in lines:
            self.handle_line(raw.decode("utf-8", "replace").strip())

    def _read_stderr(self) -> None:
        assert self._process is not None
        text = bytes(self._process.readAllStandardError().data()).decode("utf-8", "replace")
        self._stderr_lines += [ln.strip() for ln in text.splitlines() if ln.strip()]
        self._stderr_lines = self._stderr_lines[-50:]

    def handle_line(self, line: str) -> None:
        """Act on one JSON line of trainer output (other lines are ignored)."""
        if not line.startswith("{"):
            return
        try:
            ev = json.loads(line)
        except json.JSONDecodeError:
            return
        kind = ev.get("event")
        if kind == "progress":
            step, total = int(ev.get("step", 0)), max(1, int(ev.get("total", 1)))
            self.progress.setRange(0, total)
            self.progress.setValue(min(step, total))
            parts = [f"step {step}/{total}"]
            if isinstance(ev.get("it_s"), (int, float)):
                parts.append(f"{ev['it_s']:.1f} it/s")
            if isinstance(ev.get("eta_s"), (int, float)):
                parts.append(f"{format_eta(ev['eta_s'])} left")
            losses = ev.get("losses")
            if isinstance(losses, dict) and losses:
                parts.append(", ".join(f"{k} {v:.3g}" for k, v in losses.items() if isinstance(v, (int, float))))
            self.status.setText(" · ".join(parts))
        elif kind == "preview":
            pix = QPixmap(str(ev.get("path", "")))
            if not pix.isNull():
                self.preview.setPixmap(
                    pix.scaled(self.preview.size(), Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)
                )
        elif kind == "done":
            files = ev.get("files")
            self._done_files = [str(f) for f in files] if isinstance(files, list) else []

    def _finished(self, exit_code: int, exit_status: QProcess.ExitStatus) -> None:
        self._read_stdout()
        self._read_stderr()
        if self._stdout_buf:
            self.handle_line(self._stdout_buf.decode("utf-8", "replace").strip())
            self._stdout_buf = b""
        if self._cancelling:
            self._set_state("cancelled", "Training cancelled.")
        elif exit_code == 0 and exit_status == QProcess.ExitStatus.NormalExit and self._done_files is not None:
            self.progress.setRange(0, 1)
            self.progress.setValue(1)
            self._set_state("done", f"Style '{self._name}' is ready: it is in the gallery.")
            self.trained.emit(self._name, self._done_files)
        else:
            reason = self._stderr_lines[-1] if self._stderr_lines else f"the trainer exited with status {exit_code}"
            self._set_state("failed", reason.removeprefix("stylecam: error: "))

    def _error(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            self._set_state("failed", f"could not start the trainer ({self._process.errorString() if self._process else error})")

    def cancel(self) -> None:
        """Stop a running trainer: SIGINT (POSIX; it checkpoints), then terminate, then kill."""
        proc = self._process
        if proc is None or not self.running:
            return
        self._cancelling = True
        self.status.setText("Stopping the trainer…")
        pid = proc.processId()
        if os.name == "posix" and pid > 0:
            os.kill(pid, signal.SIGINT)
            QTimer.singleShot(5000, self._terminate_if_running)
        else:
            proc.terminate()
            QTimer.singleShot(5000, self._kill_if_running)

    def _terminate_if_running(self) -> None:
        if self.running and self._process is not None:
            self._process.terminate()
            QTimer.singleShot(3000, self._kill_if_running)

    def _kill_if_running(self) -> None:
        if self.running and self._process is not None:
            self._process.kill()

    def stop_and_wait(self, timeout_ms: int = 8000) -> None:
        """Cancel and block until the process is gone (window close)."""
        if not self.running or self._process is None:
            return
        self.cancel()
        if not self._process.waitForFinished(timeout_ms):
            self._process.kill()
            self._process.waitForFinished(2000)

    def cancel_or_close(self) -> None:
        if self.running:
            self.cancel()
        else:
            self.reject()

    def _set_state(self, state: str, message: str) -> None:
        self.state = state
        self.status.setText(message)
        running = state == "running"
        self.start_button.setEnabled(not running)
        self.cancel_button.setText("Stop" if running else "Close")
        if state in ("failed", "cancelled"):
            self.progress.setRange(0, 1)
            self.progress.setValue(0)

    def closeEvent(self, event) -> None:  # noqa: N802, ANN001 - Qt API
        self.stop_and_wait()
        super().closeEvent(event)

    def reject(self) -> None:
        if self.running:
            self.cancel()
            return
        super().reject()
