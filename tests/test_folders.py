"""lab.folders: server folders are off by default and confined to the operator's roots."""

from __future__ import annotations

import os

import pytest

from lab.folders import ROOTS_VARIABLE, FolderRefused, allowed_roots, resolve_allowed


@pytest.fixture
def tree(tmp_path):
    """root/data/cats (allowed) beside outside/secret (not), with links out of the root."""
    tmp_path = tmp_path.resolve()
    root = tmp_path / "root"
    (root / "data" / "cats").mkdir(parents=True)
    (root / "data" / "cats" / "a.png").write_bytes(b"x")
    outside = tmp_path / "outside" / "secret"
    outside.mkdir(parents=True)
    (root / "link_out").symlink_to(outside, target_is_directory=True)
    (root / "link_in").symlink_to(root / "data", target_is_directory=True)
    return root, outside


def _message(path, roots) -> str:
    with pytest.raises(FolderRefused) as refused:
        resolve_allowed(path, roots)
    return str(refused.value)


def test_off_when_no_root_is_set():
    assert allowed_roots(environ={}) == ()
    assert allowed_roots(None, environ={ROOTS_VARIABLE: " "}) == ()
    message = _message("/etc", ())
    assert "off" in message and ROOTS_VARIABLE in message
    assert "/etc" not in message


def test_roots_come_from_the_variable_and_the_setting_resolved(tree, tmp_path):
    root, outside = tree
    value = os.pathsep.join([str(root / "link_in"), "relative/ignored", "", str(outside)])
    assert allowed_roots(environ={ROOTS_VARIABLE: value}) == (root / "data", outside)
    assert allowed_roots([str(root)], environ={}) == (root,)
    both = allowed_roots(str(outside), environ={ROOTS_VARIABLE: str(root)})
    assert both == (root, outside)


def test_a_folder_inside_a_root_is_accepted_resolved(tree):
    root, _ = tree
    roots = allowed_roots(environ={ROOTS_VARIABLE: str(root)})
    assert resolve_allowed(str(root / "data"), roots) == root / "data"
    assert resolve_allowed(f"  {root / 'data' / 'cats'}  ", roots) == root / "data" / "cats"
    assert resolve_allowed("data", roots) == root / "data"  # relative to the root
    assert resolve_allowed(str(root / "link_in"), roots) == root / "data"
    assert resolve_allowed(str(root), roots) == root


def test_dot_dot_escapes_are_refused(tree):
    root, outside = tree
    roots = (root,)
    expected = _message(str(root / "no such folder"), roots)
    assert _message(str(root / ".." / "outside" / "secret"), roots) == expected
    assert _message("../outside/secret", roots) == expected
    assert _message(str(root / "data" / ".." / ".." / "outside"), roots) == expected


def test_a_symlink_inside_a_root_pointing_outside_is_refused(tree):
    root, _ = tree
    roots = (root,)
    expected = _message(str(root / "no such folder"), roots)
    assert _message(str(root / "link_out"), roots) == expected
    assert _message("link_out", roots) == expected


def test_missing_and_outside_paths_get_the_same_message(tree):
    root, outside = tree
    roots = (root,)
    missing = _message(str(root / "missing"), roots)
    for path in (
        "/etc",
        "/",
        str(outside),
        "/no/such/place",
        "",
        "a\x00b",
        str(root / "data/cats/a.png"),
    ):
        assert _message(path, roots) == missing, path
    assert "/etc" not in missing and "exist" not in missing
    assert str(root) in missing  # says where folders may be given


def test_a_symlink_loop_is_refused_like_any_other_path(tree):
    root, _ = tree
    (root / "loop").symlink_to(root / "loop")
    assert _message(str(root / "loop"), (root,)) == _message(str(root / "missing"), (root,))
