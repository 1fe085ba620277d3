"""lab.batch and lab.archives: many files in (zips of folders too), one row each out."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest

from core.rows import answers, result_rows, to_csv
from lab import batch
from lab.archives import ArchiveRejected, zip_files
from tests.app.conftest import character_png


def _zip(members: dict[str, bytes], compression=zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_a_zip_of_folders_is_unpacked_in_place_and_junk_is_left_out():
    archive = _zip(
        {
            "cats/a.png": character_png(0),
            "dogs/b.png": character_png(1),
            "__MACOSX/cats/._a.png": b"resource fork",
            "cats/.DS_Store": b"finder",
        }
    )
    files, problems = batch.gather_files(
        [("first.png", character_png(2)), ("pets.zip", archive), ("last.png", character_png(3))]
    )
    assert [name for name, _ in files] == [
        "first.png",
        "pets.zip/cats/a.png",
        "pets.zip/dogs/b.png",
        "last.png",
    ]
    assert files[1][1] == character_png(0) and problems == []


def test_limits_name_every_file_left_out(monkeypatch):
    monkeypatch.setattr(batch, "MAX_BATCH_FILES", 3)
    uploads = [(f"{i}.png", character_png(i % 4)) for i in range(5)]
    files, problems = batch.gather_files(uploads)
    assert [name for name, _ in files] == ["0.png", "1.png", "2.png"]
    assert problems == [(f"{i}.png", "the limit of 3 images per batch is reached") for i in (3, 4)]
    monkeypatch.setattr(batch, "MAX_BATCH_FILES", 500)
    monkeypatch.setattr(batch, "MAX_BATCH_BYTES", len(character_png(0)) + 1)
    files, problems = batch.gather_files(uploads[:2])
    assert len(files) == 1 and problems[0][1] == "the limit of 0 MB per batch is reached"


def test_a_bad_zip_or_a_zip_bomb_is_named_and_the_rest_kept():
    bomb = _zip({"big.png": b"\0" * 5_000_000}, zipfile.ZIP_DEFLATED)
    files, problems = batch.gather_files(
        [("broken.zip", b"PK\x03\x04 then nothing"), ("bomb.zip", bomb), ("ok.png", b"x")]
    )
    assert [name for name, _ in files] == ["ok.png"]
    assert problems == [
        ("broken.zip", "it is not a zip archive (or it is damaged)"),
        ("bomb.zip/big.png", "compressed too strongly; it looks like a zip bomb"),
    ]


def test_zip_files_refuses_more_files_than_allowed():
    with pytest.raises(ArchiveRejected, match="it holds 3 files; at most 2 are taken"):
        zip_files(_zip({f"{i}.png": b"x" for i in range(3)}), 2, 100, 1000)


def test_rows_and_csv_from_a_real_classifier(protonet_model):
    support = [character_png(shape, v) for shape in (0, 1) for v in range(2)]
    from core.images import decode_image

    images = [decode_image(data, f"s{i}.png") for i, data in enumerate(support)]
    classifier = protonet_model.adapt(images, ["a", "a", "b", "b"])
    names, queries, problems = batch.decode_files(
        [
            ("q0.png", character_png(0, 3)),
            ("bad.png", b"not an image"),
            ("q1.png", character_png(1, 3)),
        ]
    )
    assert names == ["q0.png", "q1.png"] and [p[0] for p in problems] == ["bad.png"]
    seen = []
    rows = result_rows(
        classifier,
        ["=circle", "cross, 2"],
        names,
        queries,
        on_progress=lambda d, t: seen.append((d, t)),
    )
    assert seen == [(2, 2)]
    assert [row["predicted"] for row in rows] == ["=circle", "cross, 2"]
    probabilities = classifier.predict_proba(queries)
    assert rows[0]["p(=circle)"] == pytest.approx(float(probabilities[0, 0]), abs=1e-6)
    assert rows[1]["probability"] == pytest.approx(float(probabilities[1].max()), abs=1e-6)
    distances = classifier.distances(queries)
    assert rows[1]["distance(cross, 2)"] == pytest.approx(float(distances[1, 1]), abs=1e-6)

    text = to_csv(rows)
    parsed = list(csv.reader(io.StringIO(text)))
    assert parsed[0] == [
        "file",
        "predicted",
        "probability",
        "p(=circle)",
        "p(cross, 2)",
        "distance(=circle)",
        "distance(cross, 2)",
    ]
    assert parsed[1][:2] == ["q0.png", "'=circle"]  # never a spreadsheet formula
    assert float(parsed[2][2]) == rows[1]["probability"]
    assert to_csv([]) == ""


def test_a_true_class_column_follows_file_when_some_classes_are_known(protonet_model):
    from core.images import decode_image

    support = [character_png(shape, v) for shape in (0, 1) for v in range(2)]
    images = [decode_image(data, f"s{i}.png") for i, data in enumerate(support)]
    classifier = protonet_model.adapt(images, ["a", "a", "b", "b"])
    queries = [decode_image(character_png(s, 3), "q.png") for s in (0, 1, 1)]
    names = ["circle/q0.png", "q1.png", "circle/q2.png"]
    rows = result_rows(classifier, ["circle", "cross"], names, queries, true_classes=[0, None, 0])
    assert list(rows[0])[:3] == ["file", "true class", "predicted"]
    assert [row["true class"] for row in rows] == ["circle", "", "circle"]
    assert [row["predicted"] for row in rows] == ["circle", "cross", "cross"]
    unknown = result_rows(classifier, ["circle", "cross"], names, queries, true_classes=[None] * 3)
    assert "true class" not in unknown[0]
    with pytest.raises(ValueError, match="got 2 true classes for 3 images"):
        result_rows(classifier, ["circle", "cross"], names, queries, true_classes=[0, 1])


def test_answers_read_the_rows_back_as_numbers():
    rows = [
        {"file": "a", "predicted": "cat", "probability": 0.7, "p(cat)": 0.7, "p(dog)": 0.3},
        {"file": "b", "predicted": "dog", "probability": 0.6, "p(cat)": 0.4, "p(dog)": 0.6},
    ]
    probabilities, predicted = answers(rows, ["cat", "dog"])
    assert probabilities.tolist() == [[0.7, 0.3], [0.4, 0.6]] and predicted == [0, 1]
    with pytest.raises(ValueError, match="do not fit the classes"):
        answers(rows, ["cat", "bird"])


def test_csv_escapes_every_formula_start_a_spreadsheet_reads():
    """A file named '\\t=1+1.png' was written unescaped (issue 31): a leading tab or carriage
    return, as well as =, +, - and @, gets a leading "'" in headers and cells alike."""
    import csv
    import io

    names = ["\t=1+1.png", "\r=2.png", "=3.png", "+4.png", "-5.png", "@6.png", "plain.png"]
    rows = [{"image": name, "\t=class": name, "p": -0.5} for name in names]
    parsed = list(csv.reader(io.StringIO(to_csv(rows))))
    assert parsed[0] == ["image", "'\t=class", "p"]
    for name, row in zip(names, parsed[1:], strict=True):
        expected = name if name == "plain.png" else "'" + name
        assert row == [expected, expected, "-0.5"]  # numbers stay numbers
