"""core.images: every awkward file is either decoded correctly or rejected with its name and
a reason; characters and photos are normalised as the models expect."""

import numpy as np
import pytest
from PIL import Image

from core.images import (
    ImageRejected,
    character_array,
    decode_image,
    looks_like_character,
    photo_array,
)
from tests.image_corpus import corpus

CORPUS = corpus()


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_corpus_file_is_decoded_or_rejected_with_its_name(name):
    data, expected = CORPUS[name]
    if expected == "ok":
        image = decode_image(data, name)
        assert image.mode == "RGB" and min(image.size) >= 8
    else:
        with pytest.raises(ImageRejected) as error:
            decode_image(data, name)
        assert error.value.name == name and expected in error.value.reason
        assert str(error.value).startswith(name)


def test_sixteen_bit_is_rescaled_not_clipped():
    image = decode_image(CORPUS["gray16.png"][0], "gray16.png")
    assert image.getpixel((5, 5)) == (127, 127, 127) or image.getpixel((5, 5)) == (128, 128, 128)


def test_transparency_is_composited_on_white():
    rgba = decode_image(CORPUS["rgba.png"][0], "rgba.png")
    assert rgba.getpixel((2, 2)) == (0, 0, 0) and rgba.getpixel((30, 2)) == (255, 255, 255)
    palette = decode_image(CORPUS["palette_transparent.png"][0], "p.png")
    assert palette.getpixel((30, 2)) == (255, 255, 255)  # index 0 was transparent (red)
    assert palette.getpixel((2, 2)) == (0, 0, 255)


def test_animated_gif_gives_its_first_frame():
    image = decode_image(CORPUS["animated.gif"][0], "animated.gif")
    red, green, blue = image.getpixel((10, 10))
    assert red > 200 and green < 50 and blue < 50


def test_cmyk_becomes_rgb():
    red, green, blue = decode_image(CORPUS["cmyk.jpg"][0], "cmyk.jpg").getpixel((5, 5))
    assert red > 200 and green < 60 and blue < 60


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_is_applied(orientation):
    image = decode_image(CORPUS[f"exif_{orientation}.jpg"][0], "o.jpg")
    # The black quarter sits top-left in the stored pixels; after applying the orientation
    # it must be where a viewer shows it. Orientations 5-8 swap width and height.
    assert image.size == ((40, 20) if orientation <= 4 else (20, 40))
    w, h = image.size
    corners = {
        "tl": image.getpixel((2, 2))[0],
        "tr": image.getpixel((w - 3, 2))[0],
        "bl": image.getpixel((2, h - 3))[0],
        "br": image.getpixel((w - 3, h - 3))[0],
    }
    black = min(corners, key=corners.get)
    expected = {1: "tl", 2: "tr", 3: "br", 4: "bl", 5: "tl", 6: "tr", 7: "br", 8: "bl"}
    assert black == expected[orientation]


def test_character_normalisation_inverts_crops_and_centres():
    dark_on_light = Image.new("L", (200, 100), 255)
    dark_on_light.paste(0, (20, 20, 40, 80))  # a bar near the left edge
    light_on_dark = Image.new("L", (200, 100), 0)
    light_on_dark.paste(255, (20, 20, 40, 80))
    a, b = character_array(dark_on_light), character_array(light_on_dark)
    assert a.shape == (28, 28) and a.dtype == np.float32
    np.testing.assert_allclose(a, b, atol=1e-6)  # same character either way
    assert a[:, 0].max() < 0.05 and a[0, :].max() < 0.05  # a margin all round
    columns = np.nonzero(a.max(0) > 0.5)[0]
    assert abs((columns[0] + columns[-1]) / 2 - 13.5) <= 1.5  # centred
    assert a[14, 14] > 0.9  # ink = 1


def test_photo_scaling():
    array = photo_array(Image.new("RGB", (300, 200), (255, 127, 0)))
    assert array.shape == (3, 224, 224)
    np.testing.assert_allclose(array[:, 100, 100], [1.0, 0.0, -127 / 128], atol=1e-6)


def test_model_family_guess():
    drawing = Image.new("L", (100, 100), 255)
    drawing.paste(0, (40, 10, 50, 90))
    assert looks_like_character(drawing)[0]
    photo = Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), np.uint8))
    is_character, reason = looks_like_character(photo)
    assert not is_character and "photo" in reason
