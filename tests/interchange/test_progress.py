"""The import's progress file is written atomically even when two writers save the same run's
progress at once (the test suite's workers share one data folder, and their databases each have a
run 1): each write goes through a temporary file of its own."""

from __future__ import annotations

import threading

from speakout.interchange import progress


def test_two_writers_of_one_run_s_progress_never_meet_a_missing_file(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    errors: list[BaseException] = []

    def write(writer: int) -> None:
        try:
            for step in range(300):
                progress.save(1, {"writer": writer, "step": step})
        except BaseException as error:  # noqa: BLE001 (reported below)
            errors.append(error)

    threads = [threading.Thread(target=write, args=(writer,)) for writer in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert progress.load(1)["step"] == 299
    assert [path.name for path in (tmp_path / "interchange").iterdir()] == ["progress-1.json"]
