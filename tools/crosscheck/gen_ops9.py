"""Issue 9's ONNX ops as torch.onnx (1.13) exports them, plus onnx.helper graphs for the
forms and opsets it never writes (Gelu 20, GroupNormalization 18/21, Mish 18, Resize's
nearest modes, Split forms...). Same layout as gen_onnx.py, in DATA/onnx9:
<id>.case.safetensors (input, output, R, dinput = d sum(R*out)/d input) and
<id>_op<opset>.onnx. Compare with: ONNX_DIR=onnx9 npx tsx tools/crosscheck/compare_onnx.ts DATA
Usage: python3 gen_ops9.py DATA [filter]
"""
import json, os, sys
import numpy as np
import torch, torch.nn as nn, torch.nn.functional as F
from onnx import helper, numpy_helper
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import st
import gen_onnx as go
from gen_onnx import Fn, P

S = (2, 4, 9, 11)
OPSETS = [int(v) for v in os.environ.get('OPSETS', '11,13,17').split(',')]


def attention(m, x):
    # [N, C, H, W] -> tokens [N, HW, C]; two heads; einsum forms of attention
    t = x.flatten(2).transpose(1, 2)
    q, k, v = m.q(t), m.k(t), m.v(t)
    n, l, _ = q.shape
    q, k, v = (z.reshape(n, l, 2, 3).transpose(1, 2) for z in (q, k, v))
    a = torch.einsum('bhid,bhjd->bhij', q, k).softmax(-1)
    o = torch.einsum('bhij,bhjd->bhid', a, v)
    return o.transpose(1, 2).reshape(n, l, 6) @ (q.transpose(1, 2).reshape(n, l, 6).transpose(1, 2) @ t)


def nms_boxes(m, x):
    import torchvision
    f = x.mean(1).flatten(1)             # [N, 99]
    cx, cy = f[0, :20] * 3 + torch.arange(20.) * 2, f[1, :20] * 3 + torch.arange(20.) % 5 * 3
    boxes = torch.stack([cx - 4, cy - 4, cx + 4, cy + 4], 1)
    scores = f[0, 20:40].sigmoid()
    keep = torchvision.ops.nms(boxes, scores, 0.3)
    return boxes[keep] * scores[keep, None]


def scatter_assign(m, x):
    y = x.clone()
    y[:, 1:3] = x[:, 0:2] * 2
    y[:, :, 0] = x[:, :, -1]
    return y


TORCH_CASES = [
    ('gelu_erf', lambda: nn.Sequential(nn.Conv2d(4, 6, 1), nn.GELU()), S, {}),
    ('gelu_tanh', lambda: nn.GELU(approximate='tanh'), S, {}),
    ('layernorm_last2', lambda: nn.LayerNorm([9, 11]), S, {}),
    ('layernorm_tokens', lambda: Fn(lambda m, x: m.n(x.flatten(2).transpose(1, 2)), n=nn.LayerNorm(4)), S, {}),
    ('groupnorm', lambda: nn.GroupNorm(2, 4), S, {}),
    ('instancenorm', lambda: nn.InstanceNorm2d(4, affine=True), S, {}),
    ('where_mask', lambda: Fn(lambda m, x: torch.where(x > 0.2, x * 2, x.mean(1, keepdim=True)) + x.masked_fill(x < -1, 0.5)), S, {}),
    ('expand_bcast', lambda: Fn(lambda m, x: x[:, :1].expand(2, 4, 9, 11) * x + x[:, :, :1].expand_as(x)), S, {}),
    ('split_chunk', lambda: Fn(lambda m, x: torch.split(x, [1, 3], 1)[0] * torch.split(x, [1, 3], 1)[1] + torch.chunk(x, 2, 3)[0][:, 1:, :, :5].sum(3, keepdim=True)), S, {}),
    ('tile_repeat', lambda: Fn(lambda m, x: x.repeat(1, 2, 1, 2)[:, 3:7, :, 5:16] + x.repeat(1, 1, 1, 1)), S, {}),
    ('gather_elements', lambda: Fn(lambda m, x: torch.gather(x, 1, m.idx).sum(1, keepdim=True) * 2 + torch.gather(x, 3, m.idx2).sum(3, keepdim=True),
                                   idx=torch.randint(0, 4, (2, 3, 9, 11)), idx2=torch.randint(0, 11, (2, 4, 9, 5))), S, {}),
    ('scatter_assign', lambda: Fn(scatter_assign), S, {}),
    ('range_cumsum', lambda: Fn(lambda m, x: x.cumsum(3) * 0.1 + x * torch.arange(x.shape[3]).float() + x.cumsum(1)), S,
     {'dynamic_axes': {'input': {3: 'w'}, 'output': {3: 'w'}}}),
    ('reduce_max_min_prod', lambda: Fn(lambda m, x: x.amax((2, 3)) + x.amin(1).sum((1, 2)).unsqueeze(1) + (x[:, :, :3, :3] * 0.5 + 1).prod(3).sum(2)), S, {}),
    ('reduce_l2_lse', lambda: Fn(lambda m, x: x.norm(dim=1, keepdim=True) + x.logsumexp(2, keepdim=True) + x.abs().sum(3, keepdim=True)), S, {}),
    ('argmax_topk', lambda: Fn(lambda m, x: torch.topk(x, 3, dim=-1).values.sum(-1, keepdim=True) * (x.argmax(1, keepdim=True) == 2).float() + torch.topk(x, 2, dim=1, largest=False).values.mean(1, keepdim=True)), S, {}),
    ('einsum_attention', lambda: Fn(attention, q=nn.Linear(4, 6), k=nn.Linear(4, 6), v=nn.Linear(4, 6)), S, {}),
    ('matmul_batched', lambda: Fn(lambda m, x: x @ x.transpose(-1, -2) @ m.w, w=P(9, 3)), S, {}),
    ('softmax_axes', lambda: Fn(lambda m, x: x.softmax(2) + x.log_softmax(1) * 0.1 + x.softmax(0)), S, {}),
    ('hard_activations', lambda: Fn(lambda m, x: F.hardsigmoid(x * 3) + F.hardswish(x * 3) + torch.sigmoid(x) + F.mish(x)), S, {}),
    ('elementwise_math', lambda: Fn(lambda m, x: x.abs().sqrt() + 1 / (x.abs() + 1) + x.pow(3) * 0.1 + (-x) + x.floor() * 0.1 + x.ceil() * 0.2 + x.sign() * x), S, {}),
    ('logic_ops', lambda: Fn(lambda m, x: x * (((x > 0) & (x < 1)) | ~(x.abs() <= 0.3)).float() + x * (x == x.round()).float()), S, {}),
    ('fmod', lambda: Fn(lambda m, x: torch.fmod(x * 3, 1.3) + torch.remainder(x * 3, 0.7)), S, {}),
    ('convtranspose_outpad', lambda: nn.ConvTranspose2d(4, 3, 3, stride=3, padding=1, output_padding=2), S, {}),
    ('resize_bicubic', lambda: Fn(lambda m, x: F.interpolate(x, size=(14, 15), mode='bicubic', align_corners=False)), S, {}),
    ('resize_bicubic_ac', lambda: Fn(lambda m, x: F.interpolate(x, scale_factor=2, mode='bicubic', align_corners=True)), S, {}),
    ('resize_bilinear_down', lambda: Fn(lambda m, x: F.interpolate(x, size=(5, 4), mode='bilinear')), S, {}),
    ('resize_nearest_down', lambda: Fn(lambda m, x: F.interpolate(x, size=(4, 6), mode='nearest')), S, {}),
    ('resize_linear_1d', lambda: Fn(lambda m, x: F.interpolate(x.flatten(2), size=150, mode='linear')), S, {}),
    ('resize_trilinear', lambda: Fn(lambda m, x: F.interpolate(x.reshape(2, 2, 2, 9, 11), scale_factor=(2, 1.5, 2), mode='trilinear')), S, {}),
    ('pixel_shuffle', lambda: Fn(lambda m, x: F.pixel_shuffle(x, 2)), S, {}),
    ('pixel_unshuffle', lambda: Fn(lambda m, x: F.pixel_unshuffle(x[:, :, :8, :10], 2)), S, {}),
    ('nms_gather', lambda: Fn(nms_boxes), S, {}),
    # 1-D and 3-D networks
    ('conv1d_net', lambda: nn.Sequential(nn.Conv1d(4, 6, 5, stride=2, padding=2), nn.BatchNorm1d(6).eval(), nn.ReLU(), nn.MaxPool1d(3, 2, 1),
                                         nn.Conv1d(6, 6, 3, groups=3, dilation=2), nn.AvgPool1d(2), nn.AdaptiveAvgPool1d(1), nn.Flatten(), nn.Linear(6, 3)), (2, 4, 40), {}),
    ('conv3d_net', lambda: nn.Sequential(nn.Conv3d(2, 4, 3, stride=(1, 2, 2), padding=1), nn.BatchNorm3d(4).eval(), nn.ReLU(),
                                         nn.MaxPool3d(2, ceil_mode=True), nn.Conv3d(4, 4, (2, 3, 3), groups=2, padding=(0, 1, 1), dilation=(1, 2, 1)),
                                         nn.AvgPool3d((1, 2, 2), count_include_pad=False), nn.AdaptiveAvgPool3d(1), nn.Flatten(), nn.Linear(4, 3)), (2, 2, 7, 16, 16), {}),
    ('maxpool3d_pad', lambda: nn.MaxPool3d((3, 2, 3), stride=(2, 1, 2), padding=(1, 1, 1), dilation=(1, 2, 1)), (1, 2, 6, 7, 9), {}),
    ('avgpool3d_pad', lambda: nn.AvgPool3d(3, stride=2, padding=1, ceil_mode=True), (1, 2, 6, 7, 9), {}),
]


def direct_cases():
    rng = np.random.RandomState(9)
    x = rng.randn(*S).astype(np.float32)
    A = helper.make_node
    I = lambda a, n: numpy_helper.from_array(np.array(a, np.int64), n)
    Fl = lambda a, n: numpy_helper.from_array(np.array(a, np.float32), n)
    g4 = rng.randn(4).astype(np.float32); b4 = rng.randn(4).astype(np.float32)
    g2 = rng.randn(2).astype(np.float32); b2 = rng.randn(2).astype(np.float32)
    c = []
    c.append(('gelu20', 20, [A('Gelu', ['input'], ['output'])], x, lambda t: F.gelu(t), []))
    c.append(('gelu20_tanh', 20, [A('Gelu', ['input'], ['output'], approximate='tanh')], x, lambda t: F.gelu(t, approximate='tanh'), []))
    c.append(('mish18', 18, [A('Mish', ['input'], ['output'])], x, lambda t: F.mish(t), []))
    c.append(('groupnorm18', 18, [A('GroupNormalization', ['input', 'g', 'b'], ['output'], num_groups=2, epsilon=1e-3)], x,
              lambda t: F.group_norm(t, 2, torch.from_numpy(np.repeat(g2, 2)), torch.from_numpy(np.repeat(b2, 2)), 1e-3), [Fl(g2, 'g'), Fl(b2, 'b')]))
    c.append(('groupnorm21', 21, [A('GroupNormalization', ['input', 'g', 'b'], ['output'], num_groups=2)], x,
              lambda t: F.group_norm(t, 2, torch.from_numpy(g4), torch.from_numpy(b4)), [Fl(g4, 'g'), Fl(b4, 'b')]))
    c.append(('layernorm_axis1', 17, [A('LayerNormalization', ['input', 'g'], ['output'], axis=-3, epsilon=1e-4)], x,
              lambda t: F.layer_norm(t, (4, 9, 11), torch.from_numpy(g4).view(4, 1, 1).expand(4, 9, 11), None, 1e-4), [Fl(g4.reshape(4, 1, 1), 'g')]))
    c.append(('split_attr', 11, [A('Split', ['input'], ['a', 'b'], axis=3, split=[4, 7]), A('ReduceSum', ['a'], ['s'], axes=[3]), A('Mul', ['b', 's'], ['output'])], x,
              lambda t: t[..., 4:] * t[..., :4].sum(3, keepdim=True), []))
    c.append(('split_input', 13, [A('Split', ['input', 'sp'], ['a', 'b'], axis=1), A('Sub', ['b', 'a'], ['output'])], x,
              lambda t: t[:, 2:] - t[:, :2], [I([2, 2], 'sp')]))
    c.append(('split_num_outputs', 18, [A('Split', ['input'], ['a', 'b', 'c'], axis=3, num_outputs=3), A('Concat', ['c', 'a'], ['output'], axis=3)], x,
              lambda t: torch.cat([t[..., 8:], t[..., :4]], 3), []))
    c.append(('reducemax_axes_input', 18, [A('ReduceMax', ['input', 'ax'], ['output'], keepdims=0)], x, lambda t: t.amax((1, 3)), [I([1, 3], 'ax')]))
    c.append(('reducel2_axes_attr', 13, [A('ReduceL2', ['input'], ['output'], axes=[2])], x, lambda t: t.norm(dim=2, keepdim=True), []))
    c.append(('reduceprod_18', 18, [A('ReduceProd', ['input', 'ax'], ['output'])], x, lambda t: t.prod(1, keepdim=True), [I([1], 'ax')]))
    c.append(('cumsum_excl_rev', 13, [A('CumSum', ['input', 'ax'], ['output'], exclusive=1, reverse=1)], x,
              lambda t: t.flip(3).cumsum(3).flip(3) - t, [I(3, 'ax')]))
    c.append(('topk_attr9', 9, [A('TopK', ['input'], ['output', 'idx'], k=4, axis=1)], x, lambda t: torch.topk(t, 4, 1).values, []))
    c.append(('argmax_last', 13, [A('ArgMax', ['input'], ['am'], axis=1, select_last_index=1, keepdims=1), A('Cast', ['am'], ['f'], to=1), A('Mul', ['input', 'f'], ['output'])], x,
              lambda t: t * (3 - t.flip(1).argmax(1, keepdim=True)).float(), []))
    c.append(('scatternd_add', 16, [A('ScatterND', ['input', 'idx', 'upd'], ['output'], reduction='add')], x,
              lambda t: t.index_put((torch.tensor([1, 0]), torch.tensor([2, 3])), torch.from_numpy(np.ones((2, 9, 11), np.float32) * 0.5), accumulate=True),
              [I([[1, 2], [0, 3]], 'idx'), Fl(np.ones((2, 9, 11)) * 0.5, 'upd')]))
    c.append(('gathernd_batch', 13, [A('GatherND', ['input', 'idx'], ['output'], batch_dims=1)], x,
              lambda t: torch.stack([t[0, 1, 2], t[1, 3, 0]]).unsqueeze(1), [I([[[1, 2]], [[3, 0]]], 'idx')]))
    c.append(('depthtospace_dcr', 13, [A('DepthToSpace', ['input'], ['output'], blocksize=2, mode='DCR')], x,
              lambda t: t.reshape(2, 2, 2, 1, 9, 11).permute(0, 3, 4, 1, 5, 2).reshape(2, 1, 18, 22), []))
    c.append(('spacetodepth', 13, [A('Slice', ['input', 'st', 'en', 'ax'], ['s']), A('SpaceToDepth', ['s'], ['output'], blocksize=2)], x,
              lambda t: t[:, :, :8, :10].reshape(2, 4, 4, 2, 5, 2).permute(0, 3, 5, 1, 2, 4).reshape(2, 16, 4, 5), [I([0, 0], 'st'), I([8, 10], 'en'), I([2, 3], 'ax')]))
    c.append(('einsum_direct', 13, [A('Einsum', ['input', 'w'], ['output'], equation='bchw,cd->bdhw')], x,
              lambda t: torch.einsum('bchw,cd->bdhw', t, torch.from_numpy(W43)), [Fl(W43, 'w')]))
    c.append(('where_bcast', 13, [A('Greater', ['input', 'z'], ['m']), A('Where', ['m', 'input', 'k'], ['output'])], x,
              lambda t: torch.where(t > 0.1, t, torch.tensor([1.0, -1.0, 2.0, 0.0]).view(4, 1, 1)),
              [Fl(0.1, 'z'), Fl(np.array([1.0, -1.0, 2.0, 0.0]).reshape(4, 1, 1), 'k')]))
    # Resize forms torch never writes: nearest rounding modes, cubic variants (references from resize_ref)
    for ctm, nm in [('half_pixel', 'round_prefer_floor'), ('half_pixel', 'round_prefer_ceil'), ('align_corners', 'round_prefer_floor'),
                    ('asymmetric', 'ceil'), ('tf_half_pixel_for_nn', 'floor'), ('pytorch_half_pixel', 'round_prefer_ceil')]:
        for size in [(13, 17), (5, 4)]:
            c.append((f'resize_nearest_{ctm}_{nm}_{size[0]}', 13, [A('Resize', ['input', '', '', 'sz'], ['output'], mode='nearest', coordinate_transformation_mode=ctm, nearest_mode=nm)], x,
                      (lambda ctm, nm, size: lambda t: resize_ref(t, size, 'nearest', ctm, nm))(ctm, nm, size), [I([2, 4, *size], 'sz')]))
    for ctm, a, excl in [('half_pixel', -0.75, 1), ('asymmetric', -0.5, 0), ('align_corners', -0.75, 0)]:
        c.append((f'resize_cubic_{ctm}_{excl}', 13, [A('Resize', ['input', '', 'sc'], ['output'], mode='cubic', coordinate_transformation_mode=ctm, cubic_coeff_a=a, exclude_outside=excl)], x,
                  (lambda ctm, a, excl: lambda t: resize_ref(t, (18, 16), 'cubic', ctm, 'round_prefer_floor', a, excl, (2.0, 16 / 11)))(ctm, a, excl),
                  [Fl([1, 1, 2.0, 16 / 11], 'sc')]))
    c.append(('resize_linear_asym', 13, [A('Resize', ['input', '', 'sc'], ['output'], mode='linear', coordinate_transformation_mode='asymmetric')], x,
              lambda t: resize_ref(t, (13, 22), 'linear', 'asymmetric', '', scales=(13 / 9 + 1e-6, 2.0)), [Fl([1, 1, 13 / 9 + 1e-6, 2.0], 'sc')]))
    return c


W43 = np.random.RandomState(5).randn(4, 3).astype(np.float32)


def axis_matrix(n, m, kind, ctm, nm, a, excl, scale):
    """[m, n] resampling matrix of one axis, straight from the ONNX Resize spec (float64)."""
    M = np.zeros((m, n))
    for i in range(m):
        if ctm == 'half_pixel': xo = (i + 0.5) / scale - 0.5
        elif ctm == 'pytorch_half_pixel': xo = (i + 0.5) / scale - 0.5 if m > 1 else 0.0
        elif ctm == 'align_corners': xo = 0.0 if m == 1 else i * (n - 1) / (m - 1)
        elif ctm == 'asymmetric': xo = i / scale
        elif ctm == 'tf_half_pixel_for_nn': xo = (i + 0.5) / scale
        if kind == 'nearest':
            xo = float(np.float32(xo))
            f = np.floor(xo)
            if nm == 'floor': j = f
            elif nm == 'ceil': j = np.ceil(xo)
            elif nm == 'round_prefer_floor': j = f if xo - f == 0.5 else np.round(xo)
            else: j = np.ceil(xo) if xo - f == 0.5 else np.round(xo)
            M[i, int(min(max(j, 0), n - 1))] = 1
        elif kind == 'linear':
            f = int(np.floor(xo)); r = xo - f
            for j, w in ((f, 1 - r), (f + 1, r)):
                M[i, min(max(j, 0), n - 1)] += w
        else:
            f = int(np.floor(xo)); r = xo - f
            def k(d):
                d = abs(d)
                if d <= 1: return ((a + 2) * d - (a + 3)) * d * d + 1
                if d < 2: return ((a * d - 5 * a) * d + 8 * a) * d - 4 * a
                return 0.0
            js = [f - 1, f, f + 1, f + 2]
            ws = [k(r + 1), k(r), k(1 - r), k(2 - r)]
            if excl:
                ws = [w if 0 <= j < n else 0 for j, w in zip(js, ws)]
                s = sum(ws); ws = [w / s for w in ws]
            for j, w in zip(js, ws):
                M[i, min(max(j, 0), n - 1)] += w
    return torch.from_numpy(M.astype(np.float32))


def resize_ref(t, size, kind, ctm, nm, a=-0.75, excl=0, scales=None):
    h, w = t.shape[2], t.shape[3]
    sh, sw = scales if scales else (size[0] / h, size[1] / w)
    if scales: size = (int(np.floor(np.float32(h * sh))), int(np.floor(np.float32(w * sw))))
    Mh = axis_matrix(h, size[0], kind, ctm, nm, a, excl, sh)
    Mw = axis_matrix(w, size[1], kind, ctm, nm, a, excl, sw)
    return torch.einsum('ih,nchw,jw->ncij', Mh, t, Mw)


if __name__ == '__main__':
    out_root = sys.argv[1]
    filt = sys.argv[2] if len(sys.argv) > 2 else ''
    torch.set_num_threads(1)
    out = os.path.join(out_root, 'onnx9')
    os.makedirs(out, exist_ok=True)
    idx_path = os.path.join(out, 'index.json')
    index = json.load(open(idx_path)) if os.path.exists(idx_path) else {}
    for cid, factory, shape, kw in TORCH_CASES:
        if filt and filt not in cid:
            continue
        torch.manual_seed(go.seed_of(cid))
        model = factory()
        x = torch.randn(*shape)
        try:
            go.export_all(cid, model, x, OPSETS, dict(kw), out, index)
        except Exception as e:  # noqa
            print(cid, 'REFERENCE FAILED', type(e).__name__, str(e)[:200], flush=True)
            continue
        print(cid, {k: v[:120] for k, v in index[cid]['errors'].items()}, index[cid]['ops'].get('17'), flush=True)
    for cid, op, nodes, x, fn, inits in direct_cases():
        key = f'{cid}_o{op}'
        if filt and filt not in key:
            continue
        entry = {'id': key, 'files': {}, 'errors': {}, 'ops': {}, 'direct': True}
        try:
            out_t = fn(torch.from_numpy(x))
            graph = helper.make_graph(nodes, cid, [helper.make_tensor_value_info('input', 1, list(x.shape))],
                                      [helper.make_tensor_value_info('output', 1, list(out_t.shape))], initializer=list(inits))
            m = helper.make_model(graph, opset_imports=[helper.make_opsetid('', op)])
            m.ir_version = 7 if op < 15 else 8
            if op <= 17:   # onnx 1.12's checker knows opsets up to 17
                import onnx
                onnx.checker.check_model(m)
            path = os.path.join(out, f'{key}_op{op}.onnx')
            open(path, 'wb').write(m.SerializeToString())
            ref = go.reference(Fn(lambda mm, t: fn(t)), torch.from_numpy(x), key)
            st.save(os.path.join(out, key + '.case.safetensors'), ref)
            entry['files'][str(op)] = os.path.basename(path)
            entry['ops'][str(op)] = sorted({n.op_type for n in nodes})
            entry['shape'] = list(x.shape); entry['out_shape'] = list(ref['output'].shape)
        except Exception as e:  # noqa
            entry['errors'][str(op)] = f'{type(e).__name__}: {str(e)[:300]}'
            print(key, entry['errors'], flush=True)
        index[key] = entry
    json.dump(index, open(idx_path, 'w'), indent=1)
