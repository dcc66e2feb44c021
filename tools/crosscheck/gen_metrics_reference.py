"""Reference numbers for src/metrics from the Python libraries its functions follow.

Writes test/data/metrics/reference.json (small; committed), so the tests need no
Python. Run with Debian's python3 (python3-numpy, -scipy, -skimage, -torch):
    /usr/bin/python3 tools/crosscheck/gen_metrics_reference.py test/data/metrics/reference.json
Each entry says which library call produced it.
"""
import json, sys
import numpy as np
import scipy, scipy.stats
from scipy.ndimage import gaussian_filter
import skimage
from skimage.metrics import structural_similarity
from skimage.transform import resize
import torch

rng = np.random.default_rng(12)
out = {'versions': {'numpy': np.__version__, 'scipy': scipy.__version__, 'skimage': skimage.__version__, 'torch': torch.__version__}}

# RISE's generate_masks: skimage resize(order=1, mode='reflect', anti_aliasing=False), then crop at a shift.
masks = []
for (s, H, W, p) in [(7, 32, 32, 0.5), (5, 30, 41, 0.3), (3, 10, 7, 0.6)]:
    grid = (rng.random((s, s)) < p).astype('float32')
    ch, cw = int(np.ceil(H / s)), int(np.ceil(W / s))
    up = resize(grid, ((s + 1) * ch, (s + 1) * cw), order=1, mode='reflect', anti_aliasing=False)
    dy, dx = int(rng.integers(0, ch)), int(rng.integers(0, cw))
    masks.append(dict(cells=s, height=H, width=W, grid=grid.flatten().tolist(), shiftY=dy, shiftX=dx,
                      mask=up[dy:dy + H, dx:dx + W].flatten().tolist()))
out['rise_masks'] = {'call': "skimage.transform.resize(grid, ((s+1)*ceil(H/s), (s+1)*ceil(W/s)), order=1, mode='reflect', anti_aliasing=False)[dy:dy+H, dx:dx+W]", 'cases': masks}

# RISE's gkern(11, 5): gaussian_filter of a dirac.
inp = np.zeros((11, 11)); inp[5, 5] = 1
out['gkern'] = {'call': 'scipy.ndimage.gaussian_filter(dirac 11x11, 5)', 'kernel': gaussian_filter(inp, 5).flatten().tolist()}

# numpy.percentile on float32 data (default 'linear').
vals = rng.random(37).astype('float32')
vals[5] = vals[9] = vals[20]  # ties
out['percentile'] = {'call': 'numpy.percentile(float32 values, p)', 'values': vals.tolist(),
                     'cases': [{'p': p, 'value': float(np.percentile(vals, p))} for p in [0, 10, 20, 33.3, 50, 80, 90, 99.9, 100]]}

# scipy.stats.spearmanr with ties.
a = np.round(rng.random(50) * 6).astype('float32')
b = (a + rng.random(50) * 3).astype('float32')
c = rng.random(50).astype('float32')
out['spearman'] = {'call': 'scipy.stats.spearmanr(a, b)[0]', 'a': a.tolist(), 'b': b.tolist(), 'c': c.tolist(),
                   'ab': float(scipy.stats.spearmanr(a, b)[0]), 'ac': float(scipy.stats.spearmanr(a, c)[0])}

# skimage SSIM with Quantus's data_range (max - min over both maps).
H, W = 12, 15
x = rng.random((H, W))
y = 0.7 * x + 0.3 * rng.random((H, W))
z = rng.random((H, W))
def quantus_ssim(p, q):
    r = float(np.abs(np.max(np.concatenate([p, q])) - np.min(np.concatenate([p, q]))))
    return float(structural_similarity(p, q, data_range=r))
out['ssim'] = {'call': 'skimage.metrics.structural_similarity(x, y, data_range=max-min of both)', 'height': H, 'width': W,
               'x': x.flatten().tolist(), 'y': y.flatten().tolist(), 'z': z.flatten().tolist(), 'xy': quantus_ssim(x, y), 'xz': quantus_ssim(x, z)}

# torch compares a float32 tensor with a Python float in float32.
v = np.float32(0.099999994)
out['torch_float32_compare'] = {'value': float(v), 'threshold': float(np.float64(v) + 1e-10),
                                'less': bool(torch.tensor([v]) < float(np.float64(v) + 1e-10))}

json.dump(out, open(sys.argv[1], 'w'))
print('wrote', sys.argv[1])
