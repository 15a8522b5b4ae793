"""PSNR / SSIM as BasicSR reports them: pinned reference values, Y channel, tensor forms, bad input; the output
difference on gradient maps and the colour shift."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from faig_helpers.errors import ConfigError
from faig_helpers.images import read_image, to_tensor
from faig_helpers.metrics import (calculate_psnr, calculate_ssim, colour_shift, gradient_map, output_difference, psnr,
                                  ssim, to_y_channel)

DATA = Path(__file__).resolve().parent.parent / "data"


def _box2(hr: np.ndarray) -> np.ndarray:
    """2×2 block mean (float64, not rounded), repeated back up to the HR size (nearest neighbour)."""
    h, w, c = hr.shape
    m = hr.astype(np.float64).reshape(h // 2, 2, w // 2, 2, c).mean(axis=(1, 3))
    return _up2(m)


def _up2(lr: np.ndarray) -> np.ndarray:
    return np.repeat(np.repeat(lr, 2, axis=0), 2, axis=1)


@lru_cache(maxsize=None)
def _pair(name: str, deg: str) -> tuple[np.ndarray, np.ndarray]:
    """(reference, degraded) BGR images in [0, 255], made exactly as for the pinned values below."""
    if deg.startswith("box2"):
        hr = cv2.imread(str(DATA / "images" / "eval" / f"{name}.png"))
        b = _box2(hr)
        return (hr, np.round(b).astype(np.uint8)) if deg == "box2_uint8" else (hr.astype(np.float64), b)
    folder = {"noise_uint8": "LRbicx2_noise0.1", "blur_uint8": "Blur2_LRbicx2"}[deg]
    gt = cv2.imread(str(DATA / "datasets" / "embedded" / "GTmod12" / f"{name}.png"))
    return gt, _up2(cv2.imread(str(DATA / "datasets" / "embedded" / folder / f"{name}.png")))


# Reference values from BasicSR's own, unmodified basicsr/metrics/psnr_ssim.py `calculate_psnr` and
# `calculate_ssim` (with metric_util.to_y_channel and color_util.bgr2ycbcr), BasicSR 1.4.2, commit
# 8d56e3a045f9fb3e1d8872f92ee4a4f07f886b0a, run with numpy 2.4.6 and opencv-python-headless 5.0.0.93 on the
# images of `_pair`, read with cv2.imread (BGR, uint8):
#   box2_uint8    data/images/eval/NAME.png vs its 2×2 block mean rounded to uint8, nearest-upsampled ×2
#   box2_float64  the same HR as float64 vs the unrounded float64 block mean (float inputs)
#   noise_uint8   data/datasets/embedded/GTmod12/NAME.png vs LRbicx2_noise0.1/NAME.png nearest-upsampled ×2
#   blur_uint8    GTmod12/NAME.png vs Blur2_LRbicx2/NAME.png nearest-upsampled ×2
# Key (name, pair, crop_border) → (PSNR RGB, PSNR Y, SSIM RGB, SSIM Y), i.e. test_y_channel False / True.
# Written to 12 significant digits. When pinned, ours matched BasicSR's full-precision values bit for bit
# (PSNR) and to < 1e-13 (SSIM; BasicSR filters with cv2.filter2D, we with a separable 'valid' sum).
BASICSR_REFERENCE = {
    ("00_chelsea", "box2_uint8", 0): (29.3750857386, 30.7158354639, 0.834075337995, 0.84738814618),
    ("00_chelsea", "box2_uint8", 2): (29.4378643035, 30.7820907113, 0.837539950541, 0.850585753123),
    ("00_chelsea", "box2_uint8", 4): (29.5094193891, 30.8545898152, 0.84117062043, 0.853940362645),
    ("00_chelsea", "box2_float64", 0): (29.3805226223, 30.718299511, 0.834310755756, 0.847479700055),
    ("00_chelsea", "box2_float64", 2): (29.4433763681, 30.7845944864, 0.837774284137, 0.85067173202),
    ("00_chelsea", "box2_float64", 4): (29.5150284269, 30.8571580772, 0.841403359635, 0.854022150321),
    ("00_chelsea", "noise_uint8", 0): (19.633140796, 23.8041001998, 0.342015371637, 0.504428933904),
    ("00_chelsea", "noise_uint8", 2): (19.6692663827, 23.8604188648, 0.346111502147, 0.510047704116),
    ("00_chelsea", "noise_uint8", 4): (19.6619486984, 23.8526081093, 0.351613419035, 0.516950234565),
    ("00_chelsea", "blur_uint8", 0): (26.1473655248, 27.4860589053, 0.646415764963, 0.67877992421),
    ("00_chelsea", "blur_uint8", 2): (26.1911592544, 27.5323771223, 0.652661733135, 0.684525678931),
    ("00_chelsea", "blur_uint8", 4): (26.1998585845, 27.5426304247, 0.658971408016, 0.690357783665),
    ("03_rocket", "box2_uint8", 0): (26.8860322785, 28.739974502, 0.869085198122, 0.886669601104),
    ("03_rocket", "box2_uint8", 2): (26.6927474488, 28.5500243162, 0.864482473518, 0.882667223057),
    ("03_rocket", "box2_uint8", 4): (26.4907316672, 28.3540627439, 0.861376032758, 0.880232814554),
    ("03_rocket", "box2_float64", 0): (26.8890384551, 28.7415583444, 0.869749955699, 0.886927092684),
    ("03_rocket", "box2_float64", 2): (26.6956259049, 28.551533871, 0.86512628781, 0.882915856452),
    ("03_rocket", "box2_float64", 4): (26.4934824622, 28.3555209382, 0.862005070619, 0.88048041687),
    ("03_rocket", "noise_uint8", 0): (19.2653956172, 23.3382797782, 0.270298608195, 0.409133877778),
    ("03_rocket", "noise_uint8", 2): (19.2337884525, 23.271234715, 0.275209571938, 0.413688723965),
    ("03_rocket", "noise_uint8", 4): (19.1941998916, 23.2018538853, 0.278908621898, 0.416016164095),
    ("03_rocket", "blur_uint8", 0): (24.0694195945, 25.9581306301, 0.726715665895, 0.760911212868),
    ("03_rocket", "blur_uint8", 2): (23.8877816766, 25.7809071716, 0.718233025133, 0.754070410948),
    ("03_rocket", "blur_uint8", 4): (23.6907932351, 25.5895449451, 0.711449029184, 0.74928028706),
    ("04_camera", "box2_uint8", 0): (27.3065331456, 28.6284543194, 0.896642871263, 0.903546853505),
    ("04_camera", "box2_uint8", 2): (27.4892732944, 28.8111944474, 0.89512522057, 0.902200274544),
    ("04_camera", "box2_uint8", 4): (27.5561844829, 28.8781056237, 0.893839610068, 0.901113340611),
    ("04_camera", "box2_float64", 0): (27.3098357406, 28.6317569122, 0.89719196368, 0.903979017873),
    ("04_camera", "box2_float64", 2): (27.4927419904, 28.8146631407, 0.895664213811, 0.902624757187),
    ("04_camera", "box2_float64", 4): (27.5596794913, 28.881600628, 0.894369249149, 0.901530415919),
    ("04_camera", "noise_uint8", 0): (19.4926260596, 23.5619347134, 0.323828274899, 0.478068135548),
    ("04_camera", "noise_uint8", 2): (19.5207597312, 23.6259560133, 0.322276112737, 0.477838325794),
    ("04_camera", "noise_uint8", 4): (19.5227537835, 23.6405752771, 0.319588405374, 0.47654460806),
    ("04_camera", "blur_uint8", 0): (23.6633973494, 24.9853186036, 0.771852791111, 0.787965904974),
    ("04_camera", "blur_uint8", 2): (23.7555230986, 25.0774443349, 0.771000504907, 0.787337306443),
    ("04_camera", "blur_uint8", 4): (23.7701505213, 25.0920717375, 0.770399008872, 0.787052313618),
    ("05_ihc", "box2_uint8", 0): (30.9239829618, 32.3006377995, 0.876896836577, 0.887069527736),
    ("05_ihc", "box2_uint8", 2): (30.8799307396, 32.2495741891, 0.87704879677, 0.88726640893),
    ("05_ihc", "box2_uint8", 4): (30.881325908, 32.2437862912, 0.877037532621, 0.887322372987),
    ("05_ihc", "box2_float64", 0): (30.9318174806, 32.3044605291, 0.877187025983, 0.887198155079),
    ("05_ihc", "box2_float64", 2): (30.88771096, 32.253376746, 0.877342286606, 0.887402209025),
    ("05_ihc", "box2_float64", 4): (30.8891181677, 32.247612322, 0.87733828585, 0.887463973562),
    ("05_ihc", "noise_uint8", 0): (20.0870854269, 24.4072505003, 0.365801832098, 0.537729027204),
    ("05_ihc", "noise_uint8", 2): (20.076864548, 24.3734513194, 0.367103017628, 0.539449670394),
    ("05_ihc", "noise_uint8", 4): (20.0504051219, 24.3414518475, 0.367760652901, 0.539905166687),
    ("05_ihc", "blur_uint8", 0): (26.7399080594, 28.1110006664, 0.66074174835, 0.694918115672),
    ("05_ihc", "blur_uint8", 2): (26.7213174018, 28.079465816, 0.660254932403, 0.694649052433),
    ("05_ihc", "blur_uint8", 4): (26.6924234767, 28.0423017787, 0.660728130083, 0.695248098213),
}


@pytest.mark.parametrize("key", sorted(BASICSR_REFERENCE), ids=lambda k: "-".join(map(str, k)))
def test_values_are_basicsr(key):
    name, deg, crop = key
    a, b = _pair(name, deg)
    p_rgb, p_y, s_rgb, s_y = BASICSR_REFERENCE[key]
    assert calculate_psnr(a, b, crop) == pytest.approx(p_rgb, rel=1e-6)
    assert calculate_psnr(a, b, crop, test_y_channel=True) == pytest.approx(p_y, rel=1e-6)
    assert calculate_ssim(a, b, crop) == pytest.approx(s_rgb, abs=1e-6)
    assert calculate_ssim(a, b, crop, test_y_channel=True) == pytest.approx(s_y, abs=1e-6)


def test_identical_images():
    a, _ = _pair("00_chelsea", "box2_uint8")
    for img in (a, a.astype(np.float64)):
        for y in (False, True):
            assert calculate_psnr(img, img.copy(), 0, test_y_channel=y) == float("inf")
            assert calculate_ssim(img, img.copy(), 4, test_y_channel=y) == pytest.approx(1.0, abs=1e-12)
    t = to_tensor(read_image(DATA / "images" / "eval" / "00_chelsea.png"))
    assert psnr(t, t.clone(), y_channel=True) == float("inf")
    assert ssim(t, t.clone()) == pytest.approx(1.0, abs=1e-12)


def test_chw_order_and_gray():
    a, b = _pair("03_rocket", "blur_uint8")
    ac, bc = a.transpose(2, 0, 1), b.transpose(2, 0, 1)
    for f in (calculate_psnr, calculate_ssim):
        for y in (False, True):
            assert f(ac, bc, 2, input_order="CHW", test_y_channel=y) == f(a, b, 2, test_y_channel=y)
    # (H, W) arrays are one channel, in either order; Y of one channel is the channel itself
    g, h = a[..., 1], b[..., 1]
    assert calculate_ssim(g, h, 2) == calculate_ssim(g[..., None], h[..., None], 2) == calculate_ssim(
        g, h, 2, input_order="CHW")
    assert calculate_psnr(g, h, 0, test_y_channel=True) == pytest.approx(calculate_psnr(g, h, 0), rel=1e-12)


def test_extra_keyword_arguments_are_ignored():
    a, b = _pair("05_ihc", "noise_uint8")
    assert calculate_psnr(a, b, 4, test_y_channel=True, foo=1) == calculate_psnr(a, b, 4, test_y_channel=True)


@pytest.mark.parametrize("crop", [0, 2, 4])
@pytest.mark.parametrize("y", [False, True])
def test_tensor_forms_equal_numpy_forms(crop, y):
    hr = read_image(DATA / "images" / "eval" / "00_chelsea.png")  # float32 RGB in [0, 1]
    g = torch.Generator().manual_seed(0)
    ref = to_tensor(hr)
    out = (ref + 0.05 * torch.randn(ref.shape, generator=g)).clamp(-0.1, 1.1)  # not on 8-bit levels, out of range
    levels = [np.clip(np.round(t[0].permute(1, 2, 0).numpy()[..., ::-1] * 255.0), 0, 255).astype(np.uint8)
              for t in (out, ref)]
    # the default RGB path keeps its original float32 arithmetic (levels / 255): equal to ~1e-8 relative
    assert psnr(out, ref, crop, y_channel=y) == pytest.approx(calculate_psnr(*levels, crop, test_y_channel=y),
                                                              rel=1e-12 if y else 1e-7)
    assert ssim(out, ref, crop, y_channel=y) == pytest.approx(calculate_ssim(*levels, crop, test_y_channel=y),
                                                              abs=1e-12)


def test_psnr_default_unchanged():
    """The default path is the original 10·log10(1 / MSE) on quantised tensors."""
    g = torch.Generator().manual_seed(1)
    a, b = torch.rand(1, 3, 20, 24, generator=g), torch.rand(1, 3, 20, 24, generator=g)
    qa, qb = (torch.clamp(torch.round(t * 255.0), 0, 255) / 255.0 for t in (a, b))
    mse = torch.mean((qa.double() - qb.double())[..., 3:-3, 3:-3] ** 2).item()
    assert psnr(a, b, 3) == 10 * np.log10(1.0 / mse)


def test_y_of_pure_colours_is_bt601_studio_swing():
    # BGR pure colours → Y = 16 + 65.481 R + 128.553 G + 24.966 B (R, G, B in [0, 1])
    colours = {(0, 0, 0): 16.0, (255, 255, 255): 235.0, (0, 0, 255): 81.481, (0, 255, 0): 144.553,
               (255, 0, 0): 40.966, (0, 255, 255): 210.034, (128, 128, 128): 16 + 219 * 128 / 255}
    for bgr, y in colours.items():
        img = np.full((4, 4, 3), bgr, np.uint8)
        out = to_y_channel(img)
        assert out.shape == (4, 4, 1) and out.dtype == np.float32
        np.testing.assert_allclose(out, y, atol=1e-4)
    # through the metric: red against black differs by 65.481 on Y
    red, black = np.full((16, 16, 3), (0, 0, 255), np.uint8), np.zeros((16, 16, 3), np.uint8)
    assert calculate_psnr(red, black, 0, test_y_channel=True) == pytest.approx(20 * np.log10(255 / 65.481), rel=1e-6)


def test_ssim_agrees_with_scikit_image():
    structural_similarity = pytest.importorskip("skimage.metrics").structural_similarity
    a, b = _pair("04_camera", "noise_uint8")
    sk = np.mean([structural_similarity(a[..., i].astype(np.float64), b[..., i].astype(np.float64),
                                        gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                                        data_range=255) for i in range(3)])
    assert calculate_ssim(a, b, 0) == pytest.approx(sk, abs=1e-9)


def _raises(fn, *args, match, **kwargs):
    with pytest.raises(ConfigError, match=match) as e:
        fn(*args, **kwargs)
    assert "\n" not in str(e.value)


@pytest.mark.parametrize("fn", [calculate_psnr, calculate_ssim])
def test_bad_numpy_input(fn):
    a = np.zeros((32, 32, 3), np.uint8)
    _raises(fn, a, a[:31], 0, match="shapes differ")
    _raises(fn, a, a, 0, input_order="HCW", match="input_order must be one of")
    _raises(fn, a, a, 16, match="after cropping")
    _raises(fn, a, a, -1, match="integer >= 0")
    _raises(fn, a, a, 1.5, match="integer >= 0")
    _raises(fn, a[None], a[None], 0, match="images, got shape")
    _raises(fn, a.astype(str), a.astype(str), 0, match="numeric")
    four = np.zeros((32, 32, 4), np.uint8)
    _raises(fn, four, four, 0, test_y_channel=True, match="Y channel needs")


def test_ssim_needs_a_full_window():
    a = np.zeros((30, 30, 3), np.uint8)
    assert calculate_psnr(a, a + 1, 9) == pytest.approx(20 * np.log10(255))
    _raises(calculate_ssim, a, a, 10, match="at least 11×11")


@pytest.mark.parametrize("fn", [psnr, ssim])
def test_bad_tensor_input(fn):
    a = torch.zeros(1, 3, 32, 32)
    _raises(fn, a, a[..., :31], match="shapes differ")
    _raises(fn, a, a, 16, match="after cropping")
    _raises(fn, torch.zeros(2, 3, 32, 32), torch.zeros(2, 3, 32, 32), y_channel=True,
            match=r"expected a \(1, 3, H, W\)")


def test_colour_shift_in_8_bit_levels():
    a = torch.full((2, 3, 4, 4), 0.5)
    b = a.clone()
    b[0, 1] += 10 / 255  # green +10 levels on image 0
    b[1, 0, :2] -= 4 / 255  # red −4 levels on half of image 1 → −2 mean
    np.testing.assert_allclose(colour_shift(b, a), [10.0, 2.0], atol=1e-4)
    with pytest.raises(ValueError, match="one shape"):
        colour_shift(a, a[:1])


def test_gradient_map_central_differences_and_original_mode():
    img = torch.zeros(1, 3, 5, 5)
    img[0, 2, :, 3:] = 1.0  # blue step edge
    g = gradient_map(img, "original")[0, 0]
    assert g[2, 2].item() == pytest.approx(1.0, abs=1e-5) and g[2, 0].item() == pytest.approx(1e-3)
    gray = gradient_map(img, "gray")[0, 0]
    assert gray[2, 2].item() == pytest.approx(0.114, abs=2e-3)
    assert output_difference(img, img).tolist() == [0.0]
    with pytest.raises(ValueError, match="unknown gradient-map mode"):
        gradient_map(img, "hsv")


def test_psnr():
    a = torch.zeros(1, 3, 8, 8)
    b = a + 10 / 255
    assert psnr(a, b) == pytest.approx(20 * np.log10(255 / 10), abs=1e-6)
