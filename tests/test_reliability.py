"""Issue 6 in core: the whole awkward-file corpus through core.predict and core.evaluate
--dataset DIR (bad files listed with reasons, valid ones used, nothing raises), class-name
rules (lab.labels), and no unpickling of user files anywhere."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from core.commands import evaluate, predict
from core.data import image_folder
from core.images import MAX_FILE_BYTES, ImageRejected, read_image_file
from lab.labels import (
    MAX_LABEL_CHARS,
    LabelRejected,
    bidi_isolate,
    check_labels,
    clean_label,
    markdown_text,
)
from tests.app.conftest import character_png
from tests.image_corpus import corpus

ROOT = Path(__file__).resolve().parent.parent
CORPUS = corpus()
VALID = sorted(name for name, (_, expected) in CORPUS.items() if expected == "ok")
BAD = sorted(name for name, (_, expected) in CORPUS.items() if expected != "ok")


def write_corpus(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, (data, _) in CORPUS.items():
        (folder / name).write_bytes(data)


def write_shapes(folder: Path, shape: int, count: int, first_variant: int = 0) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for variant in range(first_variant, first_variant + count):
        (folder / f"shape{shape}_{variant}.png").write_bytes(character_png(shape, variant))


def reasons_by_file(rejected: list[dict], root: Path) -> dict[str, str]:
    return {Path(item["file"]).name: item["reason"] for item in rejected}


# --- files on disk -------------------------------------------------------------------------


def test_read_image_file_refuses_an_oversized_file_without_reading_it(tmp_path):
    sparse = tmp_path / "sparse.png"
    with open(sparse, "wb") as handle:
        handle.truncate(20 * MAX_FILE_BYTES)  # 200 MB on paper, no data written
    with pytest.raises(ImageRejected, match="sparse.png: the file is 209.7 MB; the limit is 10"):
        read_image_file(sparse, "sparse.png")


def test_read_image_file_names_a_missing_file(tmp_path):
    with pytest.raises(ImageRejected, match="gone.png: the file cannot be read"):
        read_image_file(tmp_path / "gone.png", "gone.png")


# --- core.predict ----------------------------------------------------------------------------


def test_predict_takes_the_whole_corpus_in_support_and_query(tmp_path, capsys):
    support, query = tmp_path / "support", tmp_path / "query"
    write_shapes(support / "circle", 0, 3)
    write_corpus(support / "circle")  # bad files beside good ones in a class folder
    write_shapes(support / "cross", 1, 3)
    write_corpus(query)
    write_shapes(query, 0, 1, first_variant=4)
    write_shapes(query, 1, 1, first_variant=4)
    status = predict.main(
        ["--model", "omniglot-protonet", "--support", str(support), "--query", str(query), "--json"]
    )
    out = json.loads(capsys.readouterr().out)
    assert status == 0
    assert out["classes"] == ["circle", "cross"]
    assert out["support_images"] == 3 + len(VALID) + 3  # the valid corpus files are used
    predicted = {p["file"]: p["predicted"] for p in out["predictions"]}
    assert sorted(predicted) == sorted(VALID + ["shape0_4.png", "shape1_4.png"])
    assert predicted["shape0_4.png"] == "circle" and predicted["shape1_4.png"] == "cross"
    # Every bad file is listed twice (support and query), each time with its reason.
    assert len(out["rejected"]) == 2 * len(BAD)
    for item in out["rejected"]:
        name = Path(item["file"]).name
        assert name in BAD and CORPUS[name][1] in item["reason"], item
    assert {Path(i["file"]).parent.name for i in out["rejected"]} == {"circle", "query"}


def test_predict_exits_2_naming_a_class_with_only_bad_files(tmp_path, capsys):
    support, query = tmp_path / "support", tmp_path / "query"
    write_shapes(support / "circle", 0, 2)
    for name in BAD:
        (support / "junk").mkdir(parents=True, exist_ok=True)
        (support / "junk" / name).write_bytes(CORPUS[name][0])
    write_shapes(query, 0, 1)
    status = predict.main(
        ["--model", "omniglot-protonet", "--support", str(support), "--query", str(query), "--json"]
    )
    captured = capsys.readouterr()
    assert status == 2 and captured.out == ""
    assert "no valid image for class(es) junk" in captured.err
    assert all(name in captured.err for name in BAD)


# --- core.evaluate --dataset DIR -----------------------------------------------------------


@pytest.fixture
def dataset_with_bad_files(tmp_path) -> Path:
    root = tmp_path / "dataset"
    for shape in range(3):
        write_shapes(root / f"shape{shape}", shape, 4)
    write_corpus(root / "corpus")  # the valid corpus files make a fourth class
    (root / "shape2" / "notes.txt").write_text("not an image")
    (root / "shape2" / ".DS_Store").write_bytes(b"\0\0")  # hidden files are ignored
    for name in BAD:  # the bad files are spread over the classes too
        (root / "shape1" / f"bad_{name}").write_bytes(CORPUS[name][0])
    write_corpus(root / "only_bad")
    for name in VALID:
        (root / "only_bad" / name).unlink()
    return root


def test_folder_dataset_prescan_keeps_only_usable_files(dataset_with_bad_files):
    indexed = image_folder(dataset_with_bad_files)
    readable = indexed.without_unreadable()
    assert readable.classes == ["corpus", "shape0", "shape1", "shape2"]
    assert readable.class_sizes() == [len(VALID), 4, 4, 4]
    assert [p.name for p in readable.files[0]] == VALID
    reasons = {item["file"]: item["reason"] for item in readable.rejected}
    assert reasons["shape2/notes.txt"].startswith("not an image file name")
    assert reasons["only_bad/"] == "no usable image in this class"
    for name in BAD:
        if name.endswith((".bin", ".svg", ".pdf")):  # refused by their names
            assert reasons[f"shape1/bad_{name}"].startswith("not an image file name")
        else:
            assert CORPUS[name][1] in reasons[f"shape1/bad_{name}"], name
    for c in range(len(readable.classes)):  # every file of every class now decodes
        assert (
            len(readable.images(c, range(readable.class_sizes()[c]))) == readable.class_sizes()[c]
        )
    shape1 = indexed.classes.index("shape1")
    with pytest.raises(ImageRejected, match="shape1/bad_"):  # the raw index would raise
        indexed.images(shape1, range(indexed.class_sizes()[shape1]))


def test_evaluate_a_folder_with_bad_files_skips_and_reports_them(dataset_with_bad_files, capsys):
    status = evaluate.main(
        [
            "--model",
            "omniglot-protonet",
            "--dataset",
            str(dataset_with_bad_files),
            "--ways",
            "3",
            "--shots",
            "1",
            "--queries",
            "2",
            "--episodes",
            "6",
            "--json",
        ]
    )
    out = json.loads(capsys.readouterr().out)
    assert status == 0
    assert 0 <= out["accuracy"] <= 100 and out["episodes"] == 6
    files = {item["file"] for item in out["rejected"]}
    expected = {"shape2/notes.txt", "only_bad/"}
    for name in BAD:
        expected |= {f"corpus/{name}", f"shape1/bad_{name}", f"only_bad/{name}"}
    assert files == expected


def test_evaluate_says_so_when_too_few_usable_classes_remain(tmp_path, capsys):
    write_shapes(tmp_path / "a", 0, 3)
    write_corpus(tmp_path / "b")
    for name in VALID:
        (tmp_path / "b" / name).unlink()
    write_shapes(tmp_path / "c", 1, 3)
    status = evaluate.main(
        [
            "--model",
            "omniglot-protonet",
            "--dataset",
            str(tmp_path),
            "--ways",
            "3",
            "--shots",
            "1",
            "--queries",
            "1",
            "--episodes",
            "2",
        ]
    )
    assert status == 2
    assert "3-way episodes" in capsys.readouterr().err


# --- class names -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "others", "message"),
    [
        ("", [], "cannot be empty"),
        ("   \t ", [], "cannot be empty"),
        ("x" * (MAX_LABEL_CHARS + 1), [], f"41 characters long; at most {MAX_LABEL_CHARS}"),
        ("cat", ["dog", "cat"], "already named “cat”"),
        ("  CAT ", ["cat"], "already named “cat”"),
        ("ｃａｔ", ["cat"], "already named “cat”"),  # full-width letters are the same name
        ("a\x1bb", [], "control character (U+001B)"),
        ("abc\u202edcba", [], "control character (U+202E)"),  # right-to-left override
        ("null\x00", [], "U+0000"),
    ],
)
def test_bad_class_names_are_refused_with_the_reason(typed, others, message):
    with pytest.raises(LabelRejected, match=re.escape(message)):
        clean_label(typed, others)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("  cat  ", "cat"),
        ("big   dog", "big dog"),
        ("a\nb", "a b"),
        ("café", "café"),
        ("cafe\u0301", "café"),  # combining accent -> one character (NFC)
        ("猫", "猫"),
        ("🐱 cat", "🐱 cat"),
        ("👩‍🔬", "👩‍🔬"),  # a joined emoji sequence (zero-width joiners are fine)
        ("חתול", "חתול"),
        ("قطة سوداء", "قطة سوداء"),
        ("x" * MAX_LABEL_CHARS, "x" * MAX_LABEL_CHARS),
    ],
)
def test_any_script_and_emoji_are_accepted(typed, expected):
    assert clean_label(typed, ["dog"]) == expected


def test_a_list_of_names_is_checked_in_order():
    assert check_labels(["cat", "dog ✓", "חתול"]) == ["cat", "dog ✓", "חתול"]
    with pytest.raises(LabelRejected, match="class 3: another class is already named “Cat”"):
        check_labels(["Cat", "dog", "cat"])


def test_names_are_shown_as_typed_in_markdown_and_keep_their_direction():
    joiner = "\u2060"  # an invisible WORD JOINER breaks what GFM would autolink after parsing
    assert markdown_text("[click](http://x) *b* $x$ <i>") == (
        r"\[click\]\(http" + joiner + r"\://x\) \*b\* \$x\$ \<i\>"
    )
    # Autolinks and Streamlit's directives (issue 31): ":" is escaped too, a word joiner goes
    # after "www" and "http" and before "@"; letters, digits, dots and spaces are left alone.
    assert markdown_text("www.evil.example") == "www" + joiner + ".evil.example"
    assert markdown_text(":red[red] a@b.c") == r"\:red\[red\] a" + joiner + "@b.c"
    assert markdown_text("notes.txt") == "notes.txt"
    assert markdown_text("Cat 2 éà 猫") == "Cat 2 éà 猫"
    assert markdown_text("class 2") == "class 2"
    assert bidi_isolate("cat") == "cat"
    assert bidi_isolate("חתול") == "\u2068חתול\u2069"


# --- nothing is unpickled ------------------------------------------------------------------


def test_user_files_are_never_unpickled():
    """Uploads and session files pass through ui/, app_pages/, core/images.py, lab/session.py,
    lab/workspace.py, lab/labels.py, core/data.py and core/predict/: none of them may
    unpickle anything."""
    paths = [
        *sorted((ROOT / "ui").glob("*.py")),
        ROOT / "app.py",
        *sorted((ROOT / "app_pages").glob("*.py")),
    ] + [
        ROOT / name
        for name in (
            "core/images.py",
            "lab/session.py",
            "lab/workspace.py",
            "lab/labels.py",
            "core/data.py",
            "core/predict/__init__.py",
            "core/commands/predict.py",
        )
    ]
    pattern = re.compile(r"\bpickle\b|torch\.load\(|allow_pickle\s*=\s*True|joblib|dill\b")
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in paths
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if pattern.search(line) and not line.lstrip().startswith("#")
    ]
    assert not offenders, offenders
    assert os.path.exists(ROOT / "lab" / "session.py")


def test_invisible_characters_cannot_make_two_names_look_the_same():
    """'ab' and 'a<ZWSP>b' were two classes that looked identical (issue 31)."""
    for invisible in ("\u200b", "\u2060", "\u00ad", "\ufeff"):
        with pytest.raises(LabelRejected, match="invisible character"):
            clean_label(f"a{invisible}b")
    assert clean_label("👩\u200d🔬") == "👩\u200d🔬"  # emoji sequences need the joiner
    assert clean_label("می\u200cخواهم") == "می\u200cخواهم"  # Persian needs the non-joiner
    with pytest.raises(LabelRejected, match="already named"):
        clean_label("a\u200cb", ["ab"])
    # The duplicate message keeps a right-to-left name in its own direction.
    with pytest.raises(LabelRejected) as rejected:
        clean_label("חתול", ["חתול"])
    assert "“\u2068חתול\u2069”" in str(rejected.value)
