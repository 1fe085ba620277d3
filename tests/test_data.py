"""Loaders read the real ../shared/data; episodes are reproducible from a seed."""

import torch

from core.data import image_folder, miniimagenet, omniglot
from core.episodes import episodes


def test_omniglot_vinyals_split_sizes(omniglot_root):
    # 1028 / 172 / 423 characters, each in 4 rotations, 20 drawings each.
    for split, characters in (("train", 1028), ("val", 172), ("test", 423)):
        data = omniglot(split, omniglot_root)
        assert tuple(data.data.shape) == (4 * characters, 20, 28, 28)
        assert data.data.dtype == torch.uint8
    test = omniglot("test", omniglot_root)
    assert test.classes[0].count("/") == 2 and test.classes[0].endswith("rot000")


def test_rotations_are_rotated_copies(omniglot_test):
    rot0 = omniglot_test.data[0]
    rot90_index = omniglot_test.classes.index(omniglot_test.classes[0][:-3] + "090")
    assert torch.equal(torch.rot90(rot0, 1, (1, 2)), omniglot_test.data[rot90_index])


def test_test_split_never_meets_train_or_val(omniglot_root):
    test = set(omniglot("test", omniglot_root).classes)
    assert not test & set(omniglot("train", omniglot_root).classes)
    assert not test & set(omniglot("val", omniglot_root).classes)


def test_ink_is_bright_on_dark_background(omniglot_test):
    mean = omniglot_test.data.float().mean() / 255
    assert 0.05 < float(mean) < 0.3  # mostly background (0), some ink (1)


def test_miniimagenet_and_folders(miniimagenet_root):
    test = miniimagenet("test", miniimagenet_root)
    assert len(test.classes) == 20 and test.class_sizes() == [400] * 20
    image = test.images(0, [0])[0]
    assert image.size == (84, 84) and image.mode == "RGB"
    folder = image_folder(miniimagenet_root / "val")
    assert len(folder.classes) == 16


def test_same_seed_same_episodes_other_seed_other_episodes():
    sizes = [20] * 50
    first = list(episodes(sizes, 5, 1, 15, 3, seed=7))
    again = list(episodes(sizes, 5, 1, 15, 3, seed=7))
    other = list(episodes(sizes, 5, 1, 15, 3, seed=8))
    for a, b in zip(first, again):
        assert torch.equal(a.classes, b.classes) and torch.equal(a.support, b.support)
        assert torch.equal(a.query, b.query)
    assert not all(torch.equal(a.classes, c.classes) for a, c in zip(first, other))


def test_episode_items_are_distinct_and_in_range():
    for episode in episodes([20] * 30, 20, 5, 15, 5, seed=0):
        assert len(set(episode.classes.tolist())) == 20
        items = torch.cat([episode.support, episode.query], 1)
        assert all(len(set(row.tolist())) == 20 for row in items)
        assert int(items.max()) < 20


def test_impossible_episodes_are_refused_with_the_reason():
    import pytest

    with pytest.raises(ValueError, match="need 5 classes with at least 16 images"):
        list(episodes([20, 20, 10], 5, 1, 15, 1, seed=0))


def test_torchvision_download_layout_is_read(tmp_path, omniglot_root, monkeypatch):
    """What torchvision's download leaves (root/omniglot-py/images_*/...) is read like the
    zips: build that layout from a few real characters and load it."""
    import zipfile

    from core.data import omniglot_characters

    monkeypatch.setenv("FEWSHOT_CACHE", str(tmp_path / "cache"))
    with zipfile.ZipFile(omniglot_root / "images_evaluation.zip") as archive:
        members = [m for m in archive.namelist() if m.endswith(".png")][:40]
        for member in members:
            target = tmp_path / "omniglot-py" / member
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(archive.read(member))
    (tmp_path / "omniglot-py" / "images_background" / "A" / "character01").mkdir(parents=True)
    characters = omniglot_characters(tmp_path)
    assert sum(len(v) for v in characters.values()) == 40
    assert all(v.shape[1:] == (28, 28) for v in characters.values())


def test_first_images_is_a_named_fixed_subset(tmp_path):
    """first_images keeps each class's first n files under its own name (so its cached
    features are its own) and is the dataset itself for n = 0."""
    from PIL import Image

    from core.data import first_images, image_folder

    for class_name in ("a", "b"):
        (tmp_path / class_name).mkdir()
        for i in range(3):
            Image.new("RGB", (8, 8), (i * 80, 0, 0)).save(tmp_path / class_name / f"{i}.png")
    data = image_folder(tmp_path, "set")
    two = first_images(data, 2)
    assert two.name == "set-first2" and two.class_sizes() == [2, 2]
    assert two.files[1] == data.files[1][:2] and two.classes == data.classes
    assert first_images(data, 0) is data


def test_some_classes_is_a_named_fixed_draw_of_whole_classes(tmp_path):
    """some_classes keeps n whole classes, the same ones on every call (a fixed generator),
    in dataset order and under their own name; for folders it keeps each class's files."""
    from PIL import Image

    from core.data import TensorDataset, image_folder, some_classes

    pixels = torch.arange(10).view(10, 1, 1, 1).expand(10, 3, 2, 2).to(torch.uint8)
    data = TensorDataset("chars/test", [f"c{i}" for i in range(10)], pixels.contiguous())
    four = some_classes(data, 4)
    assert four.name == "chars/test-classes4" and four.class_sizes() == [3] * 4
    kept = [int(c[1:]) for c in four.classes]
    assert kept == sorted(kept) and len(set(kept)) == 4 and kept != [0, 1, 2, 3]
    assert [int(four.data[k, 0, 0, 0]) for k in range(4)] == kept  # each class's own images
    assert some_classes(data, 4).classes == four.classes
    assert some_classes(data, 0) is data and some_classes(data, 10) is data
    for class_name in ("a", "b", "c"):
        (tmp_path / class_name).mkdir()
        Image.new("RGB", (8, 8)).save(tmp_path / class_name / "0.png")
    folders = image_folder(tmp_path, "set")
    two = some_classes(folders, 2)
    assert two.name == "set-classes2" and len(two.files) == 2
    assert [f[0].parent.name for f in two.files] == two.classes
