"""The Korean edition's figures draw Hangul with a Korean font, Latin text as before."""

import warnings

import matplotlib
import pytest
from matplotlib import font_manager

from mtml_lib import i18n
from mtml_lib.i18n.fonts import use_fonts_for


@pytest.fixture(autouse=True)
def restore():
    saved = list(matplotlib.rcParams["font.family"])
    yield
    matplotlib.rcParams["font.family"] = saved
    i18n.set_language("en")


def test_english_changes_nothing():
    assert use_fonts_for("en") is None


def test_korean_adds_an_installed_korean_font_after_dejavu():
    """`make test` installs fonts-noto-cjk (tools/install_system_packages.sh)."""
    font = use_fonts_for("ko")
    assert font is not None, "no Korean font installed"
    assert matplotlib.rcParams["font.family"] == ["DejaVu Sans", font]
    # Hangul is drawn without matplotlib's missing-glyph warning
    import matplotlib.pyplot as plt

    figure, ax = plt.subplots()
    ax.set_title("태스크별 테스트 정확도 (test accuracy)")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        figure.canvas.draw()
    plt.close(figure)


def test_without_a_korean_font_it_says_what_to_install(monkeypatch):
    monkeypatch.setattr(font_manager, "findSystemFonts", lambda *a, **k: [])
    monkeypatch.setattr(font_manager.fontManager, "ttflist", [])
    with pytest.warns(UserWarning, match="install one"):
        assert use_fonts_for("ko") is None
