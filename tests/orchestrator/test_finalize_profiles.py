"""Finalize profiles: the shipped ones load, a user folder adds and shadows, and every mistake is named."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.assets.profiles import finalize_config, load_profile, profile_names
from orchestrator.errors import ProfileError

SHIPPED = ["gltf-web", "godot", "mobile", "unity", "unreal"]
MINIMAL = '[lods]\ntriangles = [1000, 500]\n[export]\nformat = "glb"\n'


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.toml").write_text(text)
    return folder


def test_every_shipped_profile_loads_with_power_of_two_textures_and_decreasing_budgets():
    assert profile_names() == SHIPPED
    for name in SHIPPED:
        profile = load_profile(name)
        assert profile.name == name and profile.description
        assert profile.textures.size & (profile.textures.size - 1) == 0
        assert profile.lods.triangles == sorted(profile.lods.triangles, reverse=True)


def test_engine_conventions_are_what_each_engine_expects():
    unity, unreal, godot, web = (load_profile(n) for n in ("unity", "unreal", "godot", "gltf-web"))
    assert (unity.export.format, unity.export.lod_group, unity.export.fbx.axis_up) == ("fbx", True, "Y")
    assert unity.lod_name("Chair", 0) == "Chair_LOD0"
    assert (unreal.export.fbx.axis_up, unreal.export.prefix, unreal.export.fbx.mesh_smooth_type) == ("Z", "SM_", "FACE")
    assert unreal.lod_name("Chair", 2) == "SM_Chair_LOD2"
    assert godot.export.format == web.export.format == "glb" and web.export.split_lods


def test_an_unknown_profile_lists_the_available_ones():
    with pytest.raises(ProfileError, match=r"unknown profile 'unity5'; available: gltf-web, godot, mobile, unity, unreal"):
        load_profile("unity5")


@pytest.mark.parametrize("name", ["../unity", "/etc/passwd", "a b", "", "x" * 65, "unity.toml"])
def test_hostile_profile_names_are_refused(name: str, tmp_path: Path):
    with pytest.raises(ProfileError, match="is not allowed"):
        load_profile(name, tmp_path)


@pytest.mark.parametrize(("text", "message"), [
    (MINIMAL + "colour = 1\n", r"colour: unknown key"),
    (MINIMAL + "[textures]\nsize = 1000\n", r"textures.size: .*1000 is not a power of two"),
    (MINIMAL.replace("[1000, 500]", "[500, 1000]"), r"must strictly decrease"),
    (MINIMAL.replace("[1000, 500]", "[1000, 2]"), r"a budget of 2 triangles is impossible"),
    (MINIMAL + "[export.fbx]\naxis_up = \"W\"\n", r"export.fbx.axis_up"),
    (MINIMAL + "[uv]\nmargin = 3\n", r"uv.margin: unknown key"),
    ('name = "x"\n' + MINIMAL, r"name: a profile is named by its file"),
    ("[lods\n", r"is not valid TOML"),
])
def test_a_bad_user_profile_names_its_file_and_key(text: str, message: str, tmp_path: Path):
    folder = write(tmp_path / "profiles", "mine", text)
    with pytest.raises(ProfileError, match=message) as caught:
        load_profile("mine", folder)
    assert "mine.toml" in str(caught.value)


def test_a_user_folder_adds_profiles_and_shadows_shipped_ones(tmp_path: Path):
    folder = write(tmp_path / "profiles", "tiny", MINIMAL)
    write(folder, "unity", MINIMAL.replace("glb", "fbx"))
    assert load_profile("tiny", folder).lods.triangles == [1000, 500]
    assert load_profile("unity", folder).lods.triangles == [1000, 500]
    assert "tiny" in profile_names(folder)


def test_the_profiles_folder_comes_from_colossus_toml_relative_to_it(tmp_path: Path):
    config = finalize_config({"finalize": {"profiles_dir": "my_profiles"}}, tmp_path / "colossus.toml")
    assert config.profiles_dir == tmp_path / "my_profiles"
    with pytest.raises(ProfileError, match=r"\[finalize\].*folder: unknown key"):
        finalize_config({"finalize": {"folder": "x"}}, tmp_path / "colossus.toml")
