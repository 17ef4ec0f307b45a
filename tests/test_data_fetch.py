"""Fetching image sets: from a local HTTP server on 127.0.0.1 (never the outside network) or a mirror."""

import hashlib
import http.server
import sys
import threading
import types
from functools import partial

import numpy as np
import pytest
import skimage.data

from denoise.data.__main__ import main as data_main
from denoise.data.fetch import COMPLETE_MARKER, FetchError, fetch, is_present, pixels_sha256
from denoise.data.images import read_uint8
from denoise.data.registry import REGISTRY, Archive, ImageSet, get_set

FILES = {"a.png": b"first image bytes" * 100, "b.png": b"second image" * 50, "c.png": b"third" * 10}


def _image_set(base_url: str, files=FILES) -> ImageSet:
    checksums = {name: hashlib.sha256(content).hexdigest() for name, content in files.items()}
    return ImageSet("Tiny", "test", base_url, "test licence", "three small files", files=checksums)


class _Handler(http.server.SimpleHTTPRequestHandler):
    truncate: set = set()  # names whose response is cut short, as by a dropped connection

    def do_GET(self):  # noqa: N802 (http.server naming)
        name = self.path.rsplit("/", 1)[-1]
        path = self.directory + "/" + name
        try:
            content = open(path, "rb").read()
        except OSError:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content[: len(content) // 2] if name in self.truncate else content)

    def log_message(self, *args):
        pass


@pytest.fixture
def server(tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    for name, content in FILES.items():
        (served / name).write_bytes(content)
    _Handler.truncate = set()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(_Handler, directory=str(served)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield served, f"http://127.0.0.1:{httpd.server_address[1]}/sets/Tiny"
    httpd.shutdown()
    httpd.server_close()


def test_download_verifies_and_marks_present(tmp_path, server):
    _, url = server
    root = tmp_path / "data"
    folder = fetch(_image_set(url), root, progress=False)
    assert folder == root / "test" / "Tiny" and is_present(_image_set(url), root)
    assert {p.name for p in folder.iterdir()} == {*FILES, COMPLETE_MARKER}
    assert all((folder / name).read_bytes() == content for name, content in FILES.items())


def test_present_set_needs_no_network(tmp_path, server):
    _, url = server
    fetch(_image_set(url), tmp_path, progress=False)
    assert fetch(_image_set("http://127.0.0.1:9/unreachable"), tmp_path, progress=False) == tmp_path / "test" / "Tiny"


def test_corrupted_file_fails_and_is_not_present(tmp_path, server):
    served, url = server
    (served / "b.png").write_bytes(b"tampered")
    with pytest.raises(FetchError, match="b.png: checksum mismatch"):
        fetch(_image_set(url), tmp_path, progress=False)
    assert not is_present(_image_set(url), tmp_path)
    assert not (tmp_path / "test" / "Tiny").exists()


def test_interrupted_download_never_counts_and_resumes(tmp_path, server):
    served, url = server
    _Handler.truncate = {"c.png"}
    with pytest.raises(FetchError):
        fetch(_image_set(url), tmp_path, progress=False)
    assert not is_present(_image_set(url), tmp_path) and not (tmp_path / "test" / "Tiny").exists()
    partial_folder = tmp_path / "test" / ".Tiny.partial"
    assert (partial_folder / "a.png").is_file()  # verified files are kept for the retry
    _Handler.truncate = set()
    (served / "a.png").unlink()  # a resumed fetch must not ask for what it already verified
    fetch(_image_set(url), tmp_path, progress=False)
    assert is_present(_image_set(url), tmp_path)


def test_mirror_copy_and_incomplete_mirror(tmp_path, server):
    served, _ = server
    mirror = tmp_path / "mirror"
    (mirror / "test").mkdir(parents=True)
    served.rename(mirror / "test" / "Tiny")
    fetch(_image_set("http://127.0.0.1:9/unused"), tmp_path / "data", mirror=mirror, progress=False)
    assert is_present(_image_set(""), tmp_path / "data")
    (mirror / "test" / "Tiny" / "c.png").unlink()
    with pytest.raises(FetchError, match="lacks c.png"):
        fetch(_image_set(""), tmp_path / "other", mirror=mirror, progress=False)
    with pytest.raises(FetchError, match="mirror folder .* does not exist"):
        fetch(_image_set(""), tmp_path / "other", mirror=tmp_path / "nowhere", progress=False)


def test_no_network_and_no_mirror_says_what_to_do(tmp_path):
    with pytest.raises(FetchError, match="cannot download .*DATA_MIRROR"):
        fetch(_image_set("http://127.0.0.1:9/closed"), tmp_path, progress=False)


def test_unrecorded_set_and_stale_folder_are_refused(tmp_path, server):
    _, url = server
    with pytest.raises(FetchError, match="not recorded"):
        fetch(ImageSet("Unrecorded", "test", url, "test licence", "no files recorded"), tmp_path, progress=False)
    (tmp_path / "test" / "Tiny").mkdir(parents=True)
    with pytest.raises(FetchError, match="exists but was not fetched completely"):
        fetch(_image_set(url), tmp_path, progress=False)


def test_registry_names_sources_and_checksums():
    assert get_set("cbsd68") is REGISTRY["CBSD68"]
    assert len(REGISTRY["CBSD432"].files) == 432 and len(REGISTRY["CBSD68"].files) == 68
    assert REGISTRY["BSD68"].grey and not REGISTRY["CBSD68"].grey
    assert set(REGISTRY["CBSD432"].files).isdisjoint(REGISTRY["CBSD68"].files)  # no test image in training
    assert len(REGISTRY["McMaster"].files) == 18 and len(REGISTRY["Wallpapers25"].files) == 25
    assert len(REGISTRY["PolyU100"].files) == 200 and "non-commercial" in REGISTRY["PolyU100"].licence
    assert REGISTRY["Wallpapers25"].split == "train" and REGISTRY["PolyU100"].split == "real"
    downloadable = [s for s in REGISTRY.values() if s.name != "Wallpapers25" and not s.package]
    assert all(image_set.base_url.startswith("https://") for image_set in downloadable)
    assert all(image_set.licence for image_set in REGISTRY.values())
    with pytest.raises(ValueError, match="unknown data set 'CIFAR'"):
        get_set("CIFAR")


def _package_set(module_name: str, images: dict) -> ImageSet:
    files = {f"{name}.png": pixels_sha256(image) for name, image in images.items()}
    return ImageSet("Pkg", "val", "", "test licence", "a package's images", files=files, package=module_name)


def test_a_package_set_is_written_from_the_package_and_verified(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    images = {"photo": rng.integers(0, 256, (20, 30, 3), dtype=np.uint8), "dark": np.zeros((8, 8, 3), np.uint8)}
    package = types.ModuleType("fake_samples")
    for name, image in images.items():
        setattr(package, name, lambda image=image: image.copy())
    monkeypatch.setitem(sys.modules, "fake_samples", package)
    folder = fetch(_package_set("fake_samples", images), tmp_path, progress=False)
    assert folder == tmp_path / "val" / "Pkg" and is_present(_package_set("fake_samples", images), tmp_path)
    for name, image in images.items():
        assert np.array_equal(read_uint8(folder / f"{name}.png"), image)  # lossless, RGB as the package gives it
    recorded = _package_set("fake_samples", {"photo": images["photo"][:, ::-1]})  # recorded from other pixels
    with pytest.raises(FetchError, match="other pixels than Pkg recorded"):
        fetch(recorded, tmp_path / "b", progress=False)
    assert not is_present(_package_set("fake_samples", images), tmp_path / "b")


def test_the_skimage_set_names_its_photographs():
    photos = REGISTRY["SkimagePhotos"]
    assert photos.split == "val" and photos.package == "skimage.data" and len(photos.files) == 7
    assert all(hasattr(skimage.data, name.removesuffix(".png")) for name in photos.files)


def test_cli_errors_are_one_line(tmp_path, capsys):
    assert data_main(["fetch", "NoSuchSet", "--root", str(tmp_path)]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_a_set_made_from_its_sources_is_copied_from_a_mirror_only(tmp_path):
    made = ImageSet("Made", "train", "", "test licence", "downscaled from its sources", files={"a.png": "0" * 64})
    with pytest.raises(FetchError, match="no download address.*DATA_MIRROR"):
        fetch(made, tmp_path, progress=False)
    assert not (tmp_path / "train" / ".Made.partial").exists()  # refused before anything was written


def _archive_set(url: str, images: int = 3, sha256: str | None = None, inner: str = "Big/HR") -> ImageSet:
    return ImageSet("Big", "train", url, "test licence", "an archive set", archive=Archive(url, inner, images, sha256))


def _zip(path, names=("a.png", "b.png", "c.jpg")):
    import zipfile

    with zipfile.ZipFile(path, "w") as bundle:
        for name in names:
            bundle.writestr(f"Big/HR/{name}", b"pixels of " + name.encode())
        bundle.writestr("Big/README.txt", "not an image")
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_an_archive_set_is_downloaded_verified_and_unpacked(tmp_path, server, capsys):
    served, url = server
    digest = _zip(served / "big.zip")
    folder = fetch(_archive_set(f"{url}/big.zip", sha256=digest), tmp_path, progress=False)
    assert sorted(path.name for path in folder.iterdir()) == [COMPLETE_MARKER, "a.png", "b.png", "c.jpg"]
    assert digest in (folder / COMPLETE_MARKER).read_text() and "warning" not in capsys.readouterr().err


def test_an_archive_without_a_recorded_checksum_says_so(tmp_path, server, capsys):
    served, url = server
    digest = _zip(served / "big.zip")
    fetch(_archive_set(f"{url}/big.zip"), tmp_path, progress=False)
    err = capsys.readouterr().err
    assert "could not be verified" in err and digest in err


def test_a_tar_archive_and_its_checks(tmp_path, server):
    import tarfile

    served, url = server
    source = tmp_path / "src" / "Big" / "HR"
    source.mkdir(parents=True)
    for name in ("a.png", "b.png"):
        (source / name).write_bytes(b"x" * 10)
    with tarfile.open(served / "big.tar.gz", "w:gz") as bundle:
        bundle.add(tmp_path / "src" / "Big", arcname="Big")
    with pytest.raises(FetchError, match="2 images, expected 3"):
        fetch(_archive_set(f"{url}/big.tar.gz"), tmp_path / "one", progress=False)
    with pytest.raises(FetchError, match="has no folder Big/LR"):
        fetch(_archive_set(f"{url}/big.tar.gz", inner="Big/LR"), tmp_path / "two", progress=False)
    assert fetch(_archive_set(f"{url}/big.tar.gz", images=2), tmp_path / "three", progress=False).is_dir()


def test_a_damaged_or_wrong_archive_never_counts(tmp_path, server):
    served, url = server
    _zip(served / "big.zip")
    with pytest.raises(FetchError, match="checksum mismatch"):
        fetch(_archive_set(f"{url}/big.zip", sha256="0" * 64), tmp_path, progress=False)
    (served / "bad.zip").write_bytes(b"PK not really a zip")
    with pytest.raises(FetchError, match="damaged or incomplete"):
        fetch(_archive_set(f"{url}/bad.zip"), tmp_path, progress=False)
    assert not is_present(_archive_set(f"{url}/big.zip"), tmp_path)


def test_a_rar_archive_needs_bsdtar(tmp_path, server, monkeypatch):
    served, url = server
    (served / "big.rar").write_bytes(b"Rar!")
    monkeypatch.setattr("denoise.data.fetch.shutil.which", lambda name: None)
    with pytest.raises(FetchError, match="apt-get install libarchive-tools"):
        fetch(_archive_set(f"{url}/big.rar"), tmp_path, progress=False)


def test_an_archive_set_copies_from_a_mirror(tmp_path):
    mirror = tmp_path / "mirror" / "train" / "Big"
    mirror.mkdir(parents=True)
    for name in ("a.png", "b.png", "c.png"):
        (mirror / name).write_bytes(b"x")
    folder = fetch(_archive_set("http://127.0.0.1:9/closed.zip"), tmp_path / "data", tmp_path / "mirror", False)
    assert len(list(folder.glob("*.png"))) == 3


def test_the_large_photo_sets_are_registered_by_their_official_archives():
    for name, images in (("DIV2K", 800), ("Flickr2K", 2650), ("WaterlooExploration", 4744)):
        archive = REGISTRY[name].archive
        assert archive is not None and archive.images == images and archive.url.startswith("http")
