"""What every config shares: reading the file, and errors that name the key."""

import pytest

from mtml_lib.runs.config_file import ConfigError, check_sections, in_section, read_toml


def test_a_missing_file_and_bad_toml_are_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        read_toml(tmp_path / "missing.toml")
    path = tmp_path / "bad.toml"
    path.write_text("[train\nsteps = 1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        read_toml(path)


def test_sections_and_keys_are_checked():
    check_sections({"train": {"steps": 1}}, {"train": {"steps"}, "model": None})
    with pytest.raises(ConfigError, match=r"unknown section \[trian\]"):
        check_sections({"trian": {}}, {"train": {"steps"}})
    with pytest.raises(ConfigError, match=r"\[train\] must be a table of keys; got 3"):
        check_sections({"train": 3}, {"train": {"steps"}})


def test_a_library_error_names_the_config_key():
    error = in_section("train", ValueError("`steps` must be an integer >= 1; got 0."))
    assert isinstance(error, ConfigError)
    assert str(error) == "`[train] steps` must be an integer >= 1; got 0."
