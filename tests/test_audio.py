"""`ivr audio export`: every prompt to WAV with a manifest, rendered once and reused from the cache."""

from __future__ import annotations

import csv
import re
import shlex
import wave
from pathlib import Path

import pytest
from click.testing import CliRunner

from ivr import speech
from ivr.cli.main import main
from ivr.content.checks import MAX_SENTENCE_WORDS
from ivr.content.loader import load
from ivr.content.model import Content
from ivr.content.outline import utterances
from ivr.rehearsal import audio_export
from ivr.rehearsal.synthesis import Synthesizer
from tests.test_speaker import NO_SOUND_PLAYER, VOICES


def manifest(directory: Path) -> list[dict[str, str]]:
    with (directory / audio_export.MANIFEST).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_export_renders_each_prompt_once_and_then_only_what_changed(prompts_copy: Path, tmp_path: Path) -> None:
    out, cache = tmp_path / "out", tmp_path / "cache"
    items = list(audio_export.prompts(load(prompts_copy), VOICES))
    assert len(items) > len(list(utterances(load(prompts_copy))))  # the role-play lines are in it too
    with Synthesizer(cache, timeout=20) as synthesizer:
        cold = audio_export.export(items, out, synthesizer)
    assert cold.files == len(items) and cold.rendered == len({(i.text, i.voice) for i in items})
    rows = manifest(out)
    # In the content's order: the greeting, then the same greeting by the home's name.
    assert [row["node"] for row in rows][:3] == ["welcome", "welcome", "unknown_caller"]
    assert rows[1]["text"].startswith(f"Hello, {audio_export.EXAMPLE_HOME}.")
    assert "{" not in "".join(row["text"] for row in rows)  # placeholders filled as on a call
    assert any("V, L, 1, 5, A" in row["text"] for row in rows)  # personalised prompts with the example code
    for row in rows:
        with wave.open(str(out / row["file"]), "rb") as sound:
            assert abs(sound.getnframes() / sound.getframerate() - float(row["seconds"])) < 0.01

    with Synthesizer(cache, timeout=20) as synthesizer:
        warm = audio_export.export(items, out, synthesizer)
    assert warm.rendered == 0 and warm.files == cold.files

    prepare = prompts_copy / "prepare.toml"
    text = prepare.read_text(encoding="utf-8")
    prepare.write_text(text.replace("so plan it into your day.", "so set some time aside."))
    changed = list(audio_export.prompts(load(prompts_copy), VOICES))
    with Synthesizer(cache, timeout=20) as synthesizer:
        again = audio_export.export(changed, out, synthesizer)
    assert again.rendered == 1
    assert any("so set some time aside." in row["text"] for row in manifest(out))


def test_files_of_removed_prompts_are_removed_and_others_kept(tmp_path: Path, prompts_copy: Path) -> None:
    out = tmp_path / "out"
    items = list(audio_export.prompts(load(prompts_copy), VOICES))[:3]
    with Synthesizer(tmp_path / "cache", timeout=20) as synthesizer:
        audio_export.export(items, out, synthesizer)
        (out / "notes.txt").write_text("mine")
        audio_export.export(items[:1], out, synthesizer)
    assert sorted(p.name for p in out.iterdir()) == ["manifest.csv", "notes.txt", "welcome-01.wav"]


@pytest.fixture()
def speech_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "cache"
    monkeypatch.setenv("IVR_SPEECH_CACHE_DIR", str(cache))
    monkeypatch.setenv("IVR_AUDIO_PLAYER", shlex.join(NO_SOUND_PLAYER))
    return cache


def test_cli_export_twice(tmp_path: Path, speech_env: Path) -> None:
    out = tmp_path / "out"
    first = CliRunner().invoke(main, ["audio", "export", str(out)])
    assert first.exit_code == 0, first.output
    assert not re.search(r"\b0 rendered", first.output) and f"in {out}" in first.output
    second = CliRunner().invoke(main, ["audio", "export", str(out)])
    assert second.exit_code == 0 and " 0 rendered" in second.output
    assert len(list(out.glob("*.wav"))) == len(manifest(out))


def test_cli_speak_with_keys_and_no_sound_says_so_once(speech_env: Path) -> None:
    result = CliRunner().invoke(main, ["rehearse", "--keys", "3 1", "--speak"])
    assert result.exit_code == 0, result.output
    assert result.output.count("Speech is off: no sound") == 1
    assert "Caller: presses 3" in result.output


def test_the_rendered_call_is_said_clearly(tmp_path: Path, content: Content) -> None:
    """Heard from the WAVs a caller's words are made into, not only read in the TOML."""
    out = tmp_path / "out"
    with Synthesizer(tmp_path / "cache", timeout=20) as synthesizer:
        audio_export.export(list(audio_export.prompts(content, VOICES)), out, synthesizer)
    rows = manifest(out)
    said = " ".join(row["text"] for row in rows)
    assert "NHSmail" not in said and said.count("N H S mail") > 10  # letters, then "mail"
    assert "oh three three three, two oh oh, one one three three" in said  # the helpdesk number, British style
    assert not re.search(r"\b0 \d \d", said)  # no number read as a run of digits
    # A pause before "at" and between the parts of a mailbox, the letters in capitals to be read as letters.
    assert "care dot, V, L, 1, 5, A, at, N H S dot net" in said
    assert not re.search(r"[a-z] at n", said)
    for row in rows:
        for sentence in speech.sentences(row["text"]):
            assert speech.word_count(sentence) <= MAX_SENTENCE_WORDS, (row["file"], sentence)
        # About 150 words a minute: a file far shorter or longer than its words is a voice gone wrong.
        expected = speech.seconds(row["text"])
        assert 0.5 * expected <= float(row["seconds"]) <= 1.6 * expected + 1, (row["file"], row["seconds"], expected)
    welcome = next(row for row in rows if row["node"] == "welcome")
    unknown = next(row for row in rows if row["node"] == "unknown_caller")
    assert float(welcome["seconds"]) + float(unknown["seconds"]) < 15  # the way to the main menu is short
