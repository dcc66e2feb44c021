#!/usr/bin/python3
"""Writes the JPEG decoding references in test/data/images (not run by CI).

Each case is a small JPEG of one kind (sampling, progressive, restart
markers, colour space, odd sizes, quality extremes) and `<name>.ref.png`,
the RGB pixels Pillow decodes from it (Image.open(f).convert('RGB'), which is
libjpeg-turbo's default decode), so the tests can require tinycam's decoder
to give the same bytes. EXIF-rotated files get Pillow's exif_transpose.

Kinds Pillow cannot write (4:4:0, 4:1:1, restart markers, RGB-coded,
non-interleaved sequential) are written by cjpeg from the same libjpeg-turbo.

Damaged files check libjpeg's recovery: a progressive file cut after its
first scans (then EOI; libjpeg smooths the missing coefficients), a stray
marker inside scan data, a renumbered or missing restart marker, flipped
bits. Each is kept only where Pillow's pixels equal libjpeg-turbo's C code
(djpeg with JSIMD_FORCENONE=1): on damaged data with out-of-range
coefficients the SIMD code Pillow runs on x86 and libjpeg-turbo's own C
code differ, and tinycam follows the C code.

Needs Debian's python3-pil and libjpeg-turbo-progs:
    apt-get install -y python3-pil libjpeg-turbo-progs
    /usr/bin/python3 tools/jpeg-references.py
Sources: crops of ../shared/photos (scikit-image's sample photographs:
astronaut public domain (NASA), chelsea CC0, rocket public domain) and
synthetic pictures drawn here.
"""
import io
import os
import random
import subprocess
import sys
import tempfile

from PIL import Image, ImageOps, features

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, 'test', 'data', 'images')
PHOTOS = os.path.join(ROOT, '..', 'shared', 'photos')


def photo(name, box):
    return Image.open(os.path.join(PHOTOS, name)).convert('RGB').crop(box)


def stripes(width, height):
    """Saturated colour bars and a diagonal: the chroma edges where replication and interpolation differ most."""
    colours = [(255, 0, 0), (0, 0, 255), (0, 255, 0), (255, 255, 0), (255, 0, 255), (0, 255, 255), (0, 0, 0), (255, 255, 255)]
    im = Image.new('RGB', (width, height))
    px = im.load()
    for y in range(height):
        for x in range(width):
            px[x, y] = colours[(x // 3 + (y // 5) * 3) % len(colours)] if x > y else colours[(x + y) % 5]
    return im


def save_pillow(im, name, **options):
    im.save(os.path.join(OUT, name + '.jpg'), 'JPEG', **options)


def save_cjpeg(im, name, *args):
    with tempfile.NamedTemporaryFile(suffix='.ppm') as ppm:
        im.save(ppm.name)
        jpg = subprocess.run(['cjpeg', *args, ppm.name], check=True, capture_output=True).stdout
    with open(os.path.join(OUT, name + '.jpg'), 'wb') as f:
        f.write(jpg)


def write_reference(name, transpose=False):
    im = Image.open(os.path.join(OUT, name + '.jpg'))
    if transpose:
        im = ImageOps.exif_transpose(im)
    im.convert('RGB').save(os.path.join(OUT, name + '.ref.png'), optimize=True)


def scan_starts(data):
    """Offsets of every SOS marker (a marker is 0xFF then neither 0x00, 0xFF nor RSTn)."""
    return [i for i in range(len(data) - 1) if data[i] == 0xFF and data[i + 1] == 0xDA]


def scan_data(data):
    """(start, end) of the first scan's entropy-coded data."""
    sos = scan_starts(data)[0]
    start = sos + 2 + ((data[sos + 2] << 8) | data[sos + 3])
    end = start
    while not (data[end] == 0xFF and data[end + 1] not in (0x00, 0xFF) and not 0xD0 <= data[end + 1] <= 0xD7):
        end += 1
    return start, end


def libjpeg_c_pixels(path):
    ppm = subprocess.run(['djpeg', '-ppm', path], env={**os.environ, 'JSIMD_FORCENONE': '1'}, capture_output=True).stdout
    return Image.open(io.BytesIO(ppm)).convert('RGB').tobytes()


def write_damaged(name, source, damage):
    """Tries seeds until `damage` gives a file that Pillow reads, whose pixels libjpeg-turbo's C code
    agrees with and differ from the undamaged file's."""
    original = open(os.path.join(OUT, source + '.jpg'), 'rb').read()
    clean = Image.open(io.BytesIO(original)).convert('RGB').tobytes()
    path = os.path.join(OUT, name + '.jpg')
    for seed in range(200):
        data = damage(bytearray(original), random.Random(seed))
        try:
            pixels = Image.open(io.BytesIO(bytes(data))).convert('RGB').tobytes()
        except OSError:
            continue
        with open(path, 'wb') as f:
            f.write(data)
        if pixels != clean and libjpeg_c_pixels(path) == pixels:
            write_reference(name)
            return
    sys.exit(f'no seed gave a usable {name}')


def cut_after_scans(count):
    def damage(data, _):
        return data[:scan_starts(data)[count]] + b'\xff\xd9'
    return damage


def stray_marker(data, rnd):
    start, end = scan_data(data)
    at = rnd.randrange(start, end)
    return data[:at] + bytes([0xFF, rnd.choice([0xD9, 0xD3, 0xC4, 0x01])]) + data[at:]


def renumber_restart(data, rnd):
    start, end = scan_data(data)
    markers = [i for i in range(start, end) if data[i] == 0xFF and 0xD0 <= data[i + 1] <= 0xD7]
    data[rnd.choice(markers) + 1] = 0xD0 + rnd.randrange(8)
    return data


def drop_restart(data, rnd):
    start, end = scan_data(data)
    at = rnd.choice([i for i in range(start, end) if data[i] == 0xFF and 0xD0 <= data[i + 1] <= 0xD7])
    return data[:at] + data[at + 2:]


def flip_bits(data, rnd):
    start, end = scan_data(data)
    for _ in range(rnd.randint(1, 4)):
        at = rnd.randrange(start, end)
        value = data[at] ^ (1 << rnd.randrange(8))
        if 0xFF not in (data[at], data[at - 1], value):
            data[at] = value
    return data


def main():
    if not features.check_feature('libjpeg_turbo'):
        sys.exit('Pillow is not built on libjpeg-turbo; the references would not be libjpeg-turbo\'s')
    astronaut = photo('astronaut.png', (130, 350, 226, 414))  # 96x64: the mission patch on the orange suit
    cat = photo('chelsea.png', (150, 80, 246, 144))
    rocket = photo('rocket.jpg', (60, 340, 123, 401))  # 63x61, odd both ways: a lamp and a tower at dusk
    bars = stripes(61, 37)
    scans = os.path.join(tempfile.gettempdir(), 'tinycam-sequential-scans.txt')
    with open(scans, 'w') as f:
        f.write('0: 0 63 0 0;\n1: 0 63 0 0;\n2: 0 63 0 0;\n')  # one full-spectrum scan per component
    cases = [
        ('photo-420', lambda n: save_pillow(astronaut, n, quality=90, subsampling=2)),
        ('photo-422', lambda n: save_pillow(astronaut, n, quality=90, subsampling=1)),
        ('photo-444', lambda n: save_pillow(astronaut, n, quality=90, subsampling=0)),
        ('photo-440', lambda n: save_cjpeg(astronaut, n, '-quality', '90', '-sample', '1x2')),
        ('photo-411', lambda n: save_cjpeg(astronaut, n, '-quality', '90', '-sample', '4x1')),
        ('cat-420-progressive', lambda n: save_pillow(cat, n, quality=85, subsampling=2, progressive=True)),
        ('cat-444-progressive', lambda n: save_pillow(cat, n, quality=95, subsampling=0, progressive=True)),
        ('rocket-420-restart', lambda n: save_cjpeg(rocket, n, '-quality', '90', '-restart', '2B')),
        ('rocket-420-progressive-restart', lambda n: save_cjpeg(rocket, n, '-quality', '90', '-progressive', '-restart', '1')),
        ('rocket-noninterleaved', lambda n: save_cjpeg(rocket, n, '-quality', '90', '-scans', scans)),
        ('bars-420', lambda n: save_pillow(bars, n, quality=90, subsampling=2)),
        ('bars-422-q10', lambda n: save_pillow(bars, n, quality=10, subsampling=1)),
        ('bars-420-q100', lambda n: save_pillow(bars, n, quality=100, subsampling=2)),
        ('bars-rgb', lambda n: save_cjpeg(bars, n, '-quality', '90', '-rgb')),
        ('tiny-420', lambda n: save_pillow(stripes(3, 5), n, quality=90, subsampling=2)),  # chroma 2 wide: replicated
        ('tiny-422', lambda n: save_pillow(stripes(4, 9), n, quality=90, subsampling=1)),
        ('cat-grey', lambda n: save_pillow(cat.convert('L'), n, quality=90)),
        ('cat-grey-progressive', lambda n: save_pillow(cat.convert('L'), n, quality=90, progressive=True)),
        ('cat-cmyk', lambda n: save_pillow(cat.convert('CMYK'), n, quality=90)),
    ]
    for name, write in cases:
        write(name)
        write_reference(name)
    write_damaged('damaged-progressive-dc-only', 'cat-420-progressive', cut_after_scans(1))
    write_damaged('damaged-progressive-partial', 'cat-420-progressive', cut_after_scans(4))
    write_damaged('damaged-stray-marker', 'photo-420', stray_marker)
    write_damaged('damaged-restart-renumbered', 'rocket-420-restart', renumber_restart)
    write_damaged('damaged-restart-missing', 'rocket-420-restart', drop_restart)
    write_damaged('damaged-bits', 'photo-422', flip_bits)
    for o in range(1, 9):  # one EXIF-rotated JPEG per orientation, written by ImageMagick (see README.md)
        write_reference(f'orient-{o}', transpose=True)
    for name in ('baseline-420', 'progressive', 'grey'):
        write_reference(name)
    os.remove(scans)


if __name__ == '__main__':
    main()
