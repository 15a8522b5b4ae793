from faig_helpers.colours import COLORBLIND, hex_to_rgb


def test_the_palette_is_seaborns_colorblind_value_for_value():
    sns = __import__("seaborn")
    assert [tuple(c) for c in sns.color_palette("colorblind")] == [tuple(c) for c in COLORBLIND]
    assert hex_to_rgb("#ffffff") == (1.0, 1.0, 1.0) and len(set(COLORBLIND)) == len(COLORBLIND)
