#!/usr/bin/env bash
# Installs everything the project needs on a fresh Debian (bookworm) machine. Safe to run again:
# Debian packages already present are skipped, pip only adds what is missing.
#
#   bash install.sh            the app: espeak-ng, ffmpeg, libsndfile + the Python package
#   bash install.sh --dev      + test and measurement tools, chromium for the browser test, and the corpus
#                              voices (mbrola, flite, festival from contrib/non-free) so every test runs
#   bash install.sh --corpus   + only the corpus voices and text sources (to build training data)
set -euo pipefail
cd "$(dirname "$0")"

dev=0 corpus=0
for arg in "$@"; do
  case "$arg" in
    --dev) dev=1 corpus=1 ;;
    --corpus) corpus=1 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown option '$arg' (use --dev, --corpus or nothing)" >&2; exit 2 ;;
  esac
done

PY=${PYTHON:-python3}
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive

apt_packages=(espeak-ng ffmpeg libsndfile1)
if [ "$corpus" = 1 ]; then
  # mbrola's voices and RHVoice's live in contrib/non-free. Training voices and the voices reserved for
  # evaluation (us3, de6, fr4; flite awb; festival ked; RHVoice clb) are all installed; the corpus builder
  # keeps them apart (and uses only the RHVoice voices whose licence allows it, engine/data/rhvoice.py).
  apt_packages+=(mbrola mbrola-us1 mbrola-us2 mbrola-us3 mbrola-en1 mbrola-de1 mbrola-de2 mbrola-de3
                 mbrola-de4 mbrola-de5 mbrola-de6 mbrola-de7 mbrola-fr1 mbrola-fr2 mbrola-fr3
                 mbrola-fr4 mbrola-fr5 mbrola-fr6 mbrola-fr7 mbrola-nl2 mbrola-af1 mbrola-hu1
                 mbrola-pl1 mbrola-sw1 mbrola-sw2 mbrola-gr2 mbrola-ro1 mbrola-cz2 flite festival
                 festvox-kdlpc16k festvox-kallpc16k festvox-us1 festvox-us2 festvox-us-slt-hts
                 sox fortune-mod fortunes fortunes-min rhvoice rhvoice-english)
fi
if [ "$dev" = 1 ]; then
  # tests/test_browser.py drives Debian's headless chromium through selenium (no driver download);
  # fonts-liberation so its screenshots show text.
  apt_packages+=(chromium chromium-driver fonts-liberation)
fi

missing=()
for pkg in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$corpus" = 1 ]; then
    codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
    if ! grep -rqsE "^(Components:|deb ).*non-free" /etc/apt/sources.list /etc/apt/sources.list.d/; then
      # The same signing key as Debian's own entry: apt refuses one source with two Signed-By values.
      keyring=/usr/share/keyrings/debian-archive-keyring.gpg
      options=""
      [ -f "$keyring" ] && options="[signed-by=$keyring] "
      # The machine's own Debian mirror (it may be a local one): the first main-archive address of its apt
      # sources, one-line (sources.list) or deb822 (*.sources) style; the security archive is skipped.
      mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources \
                 2>/dev/null | grep -v '^[[:space:]]*#' |
               grep -oE '(https?|file)://[^ ]+' | grep -v -- '-security' | head -n1 || true)
      if [ -z "$mirror" ]; then
        echo "install.sh: no Debian mirror found in /etc/apt/sources.list*; add one with contrib and non-free" >&2
        exit 1
      fi
      echo "deb ${options}${mirror%/} $codename contrib non-free" |
        $SUDO tee /etc/apt/sources.list.d/dialogue-synth-contrib.list >/dev/null
    fi
  fi
  echo "install.sh: installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The CPU wheel of torch 2.13.0 is provided on this platform; pinning it first keeps pip from pulling a
# CUDA build through some other package's looser requirement. setuptools<81 in the same resolve (torch
# would otherwise upgrade it): pyworld's build and its import, and webrtcvad, need pkg_resources.
$PY -m pip install -q "torch==2.13.0" "setuptools<81" wheel
extras=""
[ "$corpus" = 1 ] && extras="data"
[ "$dev" = 1 ] && extras="dev,eval,data"
$PY -m pip install -q --no-build-isolation -e ".${extras:+[$extras]}"
# encodec without its dependencies: they pull a CUDA torchaudio that cannot be imported here.
$PY -m pip install -q --no-deps "encodec==0.1.1"
echo "install.sh: done"
