"""Image I/O: grayscale and RGBA files become RGB, crops to a multiple of the scale."""
import numpy as np
import pytest

from faig_helpers.images import mod_crop, read_image

from helpers import write_hr_folder


@pytest.fixture
def hr_folder(tmp_path):
    return write_hr_folder(tmp_path)


def test_gray_and_rgba_are_converted(hr_folder):
    g = read_image(hr_folder / "gray.png")
    assert g.shape == (24, 24, 3) and np.array_equal(g[..., 0], g[..., 2])
    assert read_image(hr_folder / "rgba.png").shape == (20, 22, 3)
    assert mod_crop(np.zeros((31, 27, 3)), 2).shape == (30, 26, 3)
