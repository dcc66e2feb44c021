"""Small torch.nn models (every op of tinycam's ONNX importer) and torchvision models
exported with torch.onnx.export at several opsets, plus graphs built directly with
onnx.helper for ops the exporter never emits. For each case writes
DATA/onnx/<id>.case.safetensors (input, output, gradOutput R, dinput = d sum(R*out)/d input,
from PyTorch) and DATA/onnx/<id>_op<opset>.onnx; DATA/onnx/index.json lists files,
export errors and the op types in each file. Usage: python3 gen_onnx.py DATA [filter]
"""
import io, json, os, sys, zlib, contextlib
import numpy as np
import torch, torch.nn as nn, torch.nn.functional as F
import onnx
from onnx import helper, TensorProto, numpy_helper
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import st

# OPSETS=7,8 python3 gen_onnx.py DATA7 exports at other opsets (torchvision cases too; direct graphs keep theirs)
OPSETS = [int(v) for v in os.environ.get('OPSETS', '9,11,13,17').split(',')]
PRESERVE = torch.onnx.TrainingMode.PRESERVE


class Fn(nn.Module):
    def __init__(self, fn, **mods):
        super().__init__()
        self.fn = fn
        for k, v in mods.items():
            if isinstance(v, nn.Parameter):
                self.register_parameter(k, v)
            elif isinstance(v, torch.Tensor):
                self.register_buffer(k, v)
            else:
                self.add_module(k, v)

    def forward(self, x):
        return self.fn(self, x)


def P(*shape, scale=0.5):
    return nn.Parameter(torch.randn(*shape) * scale)


def bn(c):
    b = nn.BatchNorm2d(c)
    with torch.no_grad():
        b.weight.uniform_(0.5, 1.5); b.bias.normal_(0, 0.2)
        b.running_mean.normal_(0, 0.2); b.running_var.uniform_(0.5, 2)
    return b


S = (2, 4, 9, 11)   # default input: odd, non-square
# (id, factory, input shape, extra export kwargs)
TORCH_CASES = [
    ('conv_basic', lambda: nn.Conv2d(4, 5, 3, stride=2, padding=1), S, {}),
    ('conv_rect_stride', lambda: nn.Conv2d(4, 6, (3, 2), stride=(2, 3), padding=(2, 0), bias=False), S, {}),
    ('conv_groups_dilation', lambda: nn.Sequential(nn.Conv2d(4, 8, 3, groups=2, dilation=2, padding=2),
                                                   nn.Conv2d(8, 8, 3, groups=8, stride=(1, 2), padding=(0, 1), dilation=(1, 3))), S, {}),
    ('conv_asym_pad', lambda: Fn(lambda m, x: m.c(F.pad(x, (1, 2, 0, 3))), c=nn.Conv2d(4, 3, 3)), S, {}),
    ('conv_transpose', lambda: nn.ConvTranspose2d(4, 3, 3, stride=2, padding=1, output_padding=1), S, {}),
    ('conv_transpose_groups', lambda: nn.ConvTranspose2d(4, 6, (3, 2), stride=(2, 1), padding=(0, 1), groups=2, dilation=2, bias=False), S, {}),
    ('conv_transpose_outpad', lambda: nn.ConvTranspose2d(4, 2, 4, stride=3, padding=2, output_padding=2), S, {}),
    ('gemm', lambda: nn.Sequential(nn.Flatten(), nn.Linear(4 * 9 * 11, 7)), S, {}),
    ('linear_3d_matmul', lambda: nn.Linear(11, 5), S, {}),
    ('matmul_param', lambda: Fn(lambda m, x: torch.matmul(x, m.w), w=P(11, 6)), S, {}),
    ('matmul_bcast', lambda: Fn(lambda m, x: torch.matmul(m.w, x), w=P(4, 5, 9)), S, {}),
    ('arith', lambda: Fn(lambda m, x: (x + 1.5) * m.s - x / (x * x + 1) + (2.0 - x) / 3.0 - m.b, s=P(4, 1, 1), b=P(11)), S, {}),
    ('max_min', lambda: Fn(lambda m, x: torch.max(x, m.a) - torch.min(x, x * 0.5 + m.b), a=P(4, 1, 11), b=P(1)), S, {}),
    ('relu_clip', lambda: Fn(lambda m, x: F.relu(x) + torch.clamp(x, -0.5, 0.7) + F.relu6(x * 4) + torch.clamp(x, min=0.1)), S, {}),
    ('hardtanh', lambda: nn.Hardtanh(-0.3, 0.9), S, {}),
    ('leaky_prelu', lambda: Fn(lambda m, x: F.leaky_relu(x, 0.2) + m.p(x) + m.p1(x), p=nn.PReLU(4, 0.3), p1=nn.PReLU(1, -0.1)), S, {}),
    ('elu_selu', lambda: Fn(lambda m, x: F.elu(x, 0.7) + F.selu(x) + F.elu(x)), S, {}),
    ('sigmoid_tanh', lambda: Fn(lambda m, x: torch.sigmoid(x) * torch.tanh(x * 2)), S, {}),
    ('hardsigmoid', lambda: nn.Hardsigmoid(), (2, 4, 9, 11), {}),
    ('hardswish', lambda: nn.Hardswish(), S, {}),
    ('softplus', lambda: Fn(lambda m, x: F.softplus(x * 3)), S, {}),
    ('softplus_beta', lambda: Fn(lambda m, x: F.softplus(x, beta=2.0)), S, {}),
    ('exp_log_sqrt', lambda: Fn(lambda m, x: torch.exp(x * 0.5) + torch.log(x * x + 0.5) + torch.sqrt(x * x + 0.1)), S, {}),
    ('pow_neg', lambda: Fn(lambda m, x: torch.pow(x, 2) - x ** 3 + (x * x + 1) ** 0.5 - torch.neg(x) + torch.pow(x * x + 1, m.e), e=P(1)), S, {}),
    ('maxpool', lambda: nn.MaxPool2d(3, 2, 1), S, {}),
    ('maxpool_ceil', lambda: nn.MaxPool2d(3, 2, ceil_mode=True), S, {}),
    ('maxpool_ceil_pad', lambda: nn.MaxPool2d((2, 3), (2, 2), padding=(1, 1), ceil_mode=True), S, {}),
    ('maxpool_dilation', lambda: nn.MaxPool2d(3, 1, padding=1, dilation=2), S, {}),
    ('avgpool_pad_incl', lambda: nn.AvgPool2d(3, 2, 1, count_include_pad=True), S, {}),
    ('avgpool_pad_excl', lambda: nn.AvgPool2d(3, 2, 1, count_include_pad=False), S, {}),
    ('avgpool_ceil', lambda: nn.AvgPool2d(3, 2, ceil_mode=True), S, {}),
    ('avgpool_ceil_pad_incl', lambda: nn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=True), (2, 4, 10, 12), {}),
    ('avgpool_ceil_pad_excl', lambda: nn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False), (2, 4, 10, 12), {}),
    ('global_avg', lambda: nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten()), S, {}),
    ('global_max', lambda: Fn(lambda m, x: F.adaptive_max_pool2d(x, 1) + x.mean((2, 3), keepdim=True)), S, {}),
    ('adaptive_avg_divisible', lambda: nn.AdaptiveAvgPool2d((3, 1)), (2, 4, 9, 11), {}),
    ('batchnorm_input', lambda: bn(4), S, {'training': PRESERVE}),
    ('conv_bn_relu_preserve', lambda: nn.Sequential(nn.Conv2d(4, 6, 3), bn(6), nn.ReLU()), S, {'training': PRESERVE}),
    ('conv_bn_relu_fused', lambda: nn.Sequential(nn.Conv2d(4, 6, 3), bn(6), nn.ReLU()), S, {}),
    ('lrn_odd', lambda: nn.LocalResponseNorm(5, alpha=1e-2, beta=0.75, k=2.0), S, {}),
    ('lrn_even', lambda: nn.LocalResponseNorm(4, alpha=2e-2, beta=0.6, k=1.0), (2, 7, 5, 6), {}),
    ('concat_split', lambda: Fn(lambda m, x: torch.cat([x, x * 2, x[:, :2]], 1)), S, {}),
    ('flatten_reshape', lambda: Fn(lambda m, x: torch.flatten(x, 1).reshape(2, 11, -1).reshape(-1, 4, 99)), S, {}),
    ('transpose', lambda: Fn(lambda m, x: x.permute(0, 3, 1, 2).transpose(1, 2) * m.w, w=P(4, 11, 1)), S, {}),
    ('squeeze_unsqueeze', lambda: Fn(lambda m, x: x.sum(2, keepdim=True).squeeze(2).unsqueeze(1).unsqueeze(-1)), S, {}),
    ('squeeze_all', lambda: Fn(lambda m, x: x[:, :, :1, :1].squeeze() * 2), S, {}),
    ('pad_reflect', lambda: Fn(lambda m, x: F.pad(x, (2, 1, 3, 0), mode='reflect')), S, {}),
    ('pad_replicate', lambda: Fn(lambda m, x: F.pad(x, (0, 3, 2, 1), mode='replicate')), S, {}),
    ('pad_constant', lambda: Fn(lambda m, x: F.pad(x, (1, 2, 3, 4), value=0.5)), S, {}),
    ('pad_negative', lambda: Fn(lambda m, x: F.pad(x, (-1, 2, 1, -2))), S, {}),
    ('dropout_eval', lambda: nn.Sequential(nn.Dropout(0.5), nn.Identity(), nn.ReLU()), S, {}),
    ('softmax_axis1', lambda: nn.Softmax(dim=1), S, {}),
    ('softmax_last', lambda: nn.Softmax(dim=-1), S, {}),
    ('logsoftmax_axis1', lambda: nn.LogSoftmax(dim=1), S, {}),
    ('logsoftmax_2d', lambda: nn.Sequential(nn.Flatten(), nn.Linear(396, 10), nn.LogSoftmax(dim=1)), S, {}),
    ('slice_gather', lambda: Fn(lambda m, x: x[:, 1:3, 0:8:2, 2:-1] * x[:, 0:1, 1::2, :-3] + x[:, 2].unsqueeze(1)[..., 1:9:2, 1:-2]), S, {}),
    ('dynamic_view', lambda: Fn(lambda m, x: x.view(x.size(0), -1) * 2), S, {'dynamic_axes': {'input': {0: 'batch'}, 'output': {0: 'batch'}}}),
    ('dynamic_shape_ops', lambda: Fn(lambda m, x: x.reshape(x.shape[0], x.shape[1], -1).mean(-1) + torch.zeros(x.shape[0], x.shape[1]) + 1.0),
     S, {'dynamic_axes': {'input': {0: 'batch', 2: 'h', 3: 'w'}, 'output': {0: 'batch'}}}),
    ('constant_of_shape', lambda: Fn(lambda m, x: x + torch.ones_like(x) * 3 + x.new_zeros(x.shape)),
     S, {'dynamic_axes': {'input': {0: 'batch', 2: 'h', 3: 'w'}, 'output': {0: 'batch', 2: 'h', 3: 'w'}}}),
    ('reduce_mean_sum', lambda: Fn(lambda m, x: x.mean((2, 3)) + x.sum(1).sum(-1).sum(-1, keepdim=True) + x.mean(1).mean(1).sum(1, keepdim=True)), S, {}),
    ('reduce_all', lambda: Fn(lambda m, x: x * x.mean() + x.sum() * 0.01), S, {}),
    ('cast', lambda: Fn(lambda m, x: (x * 3).to(torch.int32).to(torch.float32) + (x * 2).long().float() * 0.5 + x), S, {}),
    ('constant', lambda: Fn(lambda m, x: x * torch.tensor([1.0, 2.0, -1.0, 0.5]).view(1, 4, 1, 1) + torch.tensor(0.25)), S, {}),
    ('upsample_like', lambda: Fn(lambda m, x: torch.cat([x, x], 3).reshape(2, 4, 9, 2, 11).transpose(3, 4).reshape(2, 4, 9, 22)), S, {}),
    # ops outside the importer's list that common PyTorch models export (expected: OnnxUnsupportedError)
    ('extra_interpolate_nearest', lambda: Fn(lambda m, x: F.interpolate(x, scale_factor=2, mode='nearest')), S, {}),
    ('extra_interpolate_bilinear', lambda: Fn(lambda m, x: F.interpolate(x, size=(14, 15), mode='bilinear', align_corners=False)), S, {}),
    ('extra_gelu', lambda: nn.GELU(), S, {}),
    ('extra_chunk', lambda: Fn(lambda m, x: torch.chunk(x, 2, 1)[0] * torch.chunk(x, 2, 1)[1]), S, {}),
    ('extra_abs_max_dim', lambda: Fn(lambda m, x: x.abs().amax(1)), S, {}),
    ('extra_expand', lambda: Fn(lambda m, x: x[:, :1].expand(2, 4, 9, 11) * x), S, {}),
    ('extra_silu', lambda: nn.SiLU(), S, {}),
    ('extra_layernorm', lambda: nn.LayerNorm(11), S, {}),
    # 1-D ops (the importer runs them as 2-D on [N, C, 1, L]) and axis corner cases
    ('c1d_conv', lambda: nn.Conv1d(4, 6, 3, stride=2, padding=2, dilation=2, groups=2), (2, 4, 21), {}),
    ('c1d_pools', lambda: Fn(lambda m, x: F.max_pool1d(x, 3, 2, 1, ceil_mode=True) + F.avg_pool1d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False)), (2, 4, 20), {}),
    ('c1d_bn', lambda: Fn(lambda m, x: m.b(x), b=nn.BatchNorm1d(4).eval()), (2, 4, 20), {'training': PRESERVE}),
    ('c1d_convtranspose', lambda: nn.ConvTranspose1d(4, 3, 4, stride=2, padding=1), (2, 4, 20), {}),
    ('matmul_vec', lambda: Fn(lambda m, x: torch.matmul(x, m.v).unsqueeze(-1) * torch.matmul(m.u, x).sum(-1, keepdim=True).unsqueeze(-1), v=P(11), u=P(9)), S, {}),
    ('neg_axes', lambda: Fn(lambda m, x: torch.cat([x, x * 2], -1).mean(-2).sum(-1, keepdim=True).squeeze(-1).flatten(0) + x.flatten(-2).mean(-1).flatten(0)), S, {}),
    ('transpose_2d', lambda: Fn(lambda m, x: (x.reshape(8, -1).t() @ m.w).t().softmax(0), w=P(8, 3)), S, {}),
    ('dyn_batch_resnet_block', lambda: nn.Sequential(nn.Conv2d(4, 8, 3, padding=1), bn(8), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 3)),
     S, {'dynamic_axes': {'input': {0: 'batch', 2: 'h', 3: 'w'}, 'output': {0: 'batch'}}, 'run_shape': (3, 4, 13, 7)}),
    ('dyn_batch_view', lambda: Fn(lambda m, x: x.view(x.size(0), -1).sum(1, keepdim=True) * x.mean((1, 2, 3)).unsqueeze(1)),
     S, {'dynamic_axes': {'input': {0: 'batch', 2: 'h', 3: 'w'}, 'output': {0: 'batch'}}, 'run_shape': (5, 4, 6, 6)}),
    ('mini_cnn', lambda: nn.Sequential(nn.Conv2d(4, 8, 3, padding=1), bn(8), nn.ReLU(), nn.MaxPool2d(2, ceil_mode=True),
                                       nn.Conv2d(8, 8, 3, groups=4), nn.Hardswish(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                                       nn.Dropout(), nn.Linear(8, 5)), S, {}),
]

TV_CASES = [  # torchvision: (id, name, kwargs, input shape, opsets)
    ('tv_resnet18', 'resnet18', {}, (2, 3, 64, 64), OPSETS),
    ('tv_resnet50', 'resnet50', {}, (1, 3, 64, 64), [13]),
    ('tv_vgg11_bn', 'vgg11_bn', {}, (1, 3, 224, 224), [13]),
    ('tv_mobilenet_v2', 'mobilenet_v2', {}, (2, 3, 64, 64), OPSETS),
    ('tv_mobilenet_v2_w05', 'mobilenet_v2', {'width_mult': 0.5}, (2, 3, 64, 64), [17]),
    ('tv_squeezenet1_0', 'squeezenet1_0', {}, (2, 3, 67, 67), OPSETS),
    ('tv_squeezenet1_1', 'squeezenet1_1', {}, (2, 3, 64, 64), [11]),
    ('tv_densenet121', 'densenet121', {}, (1, 3, 64, 64), [11, 17]),
]


def seed_of(cid):
    return zlib.crc32(cid.encode()) % 100000


def randomize_bn(model):
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5); m.bias.normal_(0, 0.2)
                m.running_mean.normal_(0, 0.2); m.running_var.uniform_(0.5, 2)


def reference(model, x, cid):
    x = x.clone().requires_grad_(True)
    y = model(x)
    g = torch.Generator().manual_seed(seed_of(cid) + 1)
    R = torch.randn(y.shape, generator=g)
    (y * R).sum().backward()
    out = {'input': x.detach(), 'output': y.detach(), 'R': R, 'dinput': x.grad.detach()}
    # float64 run of the same module: tells float32 noise (ill-conditioning) from real mismatches
    import copy
    try:
        m64 = copy.deepcopy(model).double()
        x64 = x.detach().double().requires_grad_(True)
        y64 = m64(x64)
        (y64 * R.double()).sum().backward()
        out['output64'] = y64.detach(); out['dinput64'] = x64.grad.detach()
    except Exception:  # noqa  (modules with float32 constants inside)
        pass
    return out


def ops_of(path):
    m = onnx.load(path)
    return sorted({n.op_type for n in m.graph.node})


def export_all(cid, model, x, opsets, kw, out, index):
    model.eval()
    run_shape = kw.pop('run_shape', None)   # run (and compare) at another shape than the export's
    ref = reference(model, torch.randn(*run_shape) if run_shape else x, cid)
    x_run = ref['input']
    st.save(os.path.join(out, cid + '.case.safetensors'), ref)
    entry = {'id': cid, 'shape': list(x_run.shape), 'out_shape': list(ref['output'].shape), 'files': {}, 'errors': {}, 'ops': {}}
    for op in opsets:
        path = os.path.join(out, f'{cid}_op{op}.onnx')
        try:
            buf = io.StringIO()
            with contextlib.redirect_stderr(buf):
                torch.onnx.export(model, (x,), path, opset_version=op, input_names=['input'], output_names=['output'], **kw)
            entry['files'][str(op)] = os.path.basename(path)
            entry['ops'][str(op)] = ops_of(path)
        except Exception as e:  # noqa
            entry['errors'][str(op)] = f'{type(e).__name__}: {str(e)[:300]}'
    index[cid] = entry


# ---------------------------------------------------------------- direct ONNX graphs

def direct_model(cid, nodes, x, y_ref_fn, opset, inits=()):
    """A one-input one-output graph; reference via a torch function (for autograd)."""
    out = y_ref_fn(torch.from_numpy(x))
    graph = helper.make_graph(nodes, cid, [helper.make_tensor_value_info('input', TensorProto.FLOAT, list(x.shape))],
                              [helper.make_tensor_value_info('output', TensorProto.FLOAT, list(out.shape))],
                              initializer=list(inits))
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid('', opset)])
    m.ir_version = 7 if opset < 15 else 8
    onnx.checker.check_model(m)
    return m


def onnx_lrn(x, size, alpha, beta, bias):
    C = x.shape[1]
    sq = x * x
    lo, hi = (size - 1) // 2, (size - 1) - (size - 1) // 2   # floor before, ceil after
    s = torch.zeros_like(x)
    for c in range(C):
        a, b = max(0, c - lo), min(C - 1, c + hi)
        s[:, c] = sq[:, a:b + 1].sum(1)
    return x / (bias + alpha / size * s) ** beta


def softmax_coerced(x, axis, log=False):
    shp = x.shape
    x2 = x.reshape(int(np.prod(shp[:axis])), -1)
    y = F.log_softmax(x2, 1) if log else F.softmax(x2, 1)
    return y.reshape(shp)


def direct_cases():
    rng = np.random.RandomState(7)
    x = rng.randn(*S).astype(np.float32)
    c = []
    A = helper.make_node
    for op in [9, 11, 13, 17]:
        c.append((f'd_sum3', op, [A('Mul', ['input', 'two'], ['t']), A('Sum', ['input', 't', 'input'], ['output'])], x,
                  lambda t: t + 2 * t + t, [numpy_helper.from_array(np.array(2, np.float32), 'two')]))
        c.append((f'd_sum1', op, [A('Sum', ['input'], ['output'])], x, lambda t: t, []))
        c.append((f'd_max3_bcast', op, [A('Max', ['input', 'b', 'input'], ['output'])], x,
                  lambda t: torch.maximum(t, torch.tensor([0.1, -0.2, 0.3, 0.0]).view(4, 1, 1)),
                  [numpy_helper.from_array(np.array([0.1, -0.2, 0.3, 0.0], np.float32).reshape(4, 1, 1), 'b')]))
        c.append((f'd_min1', op, [A('Min', ['input'], ['output'])], x, lambda t: t, []))
        c.append((f'd_lrn5', op, [A('LRN', ['input'], ['output'], size=5, alpha=1e-2, beta=0.75, bias=2.0)], x,
                  lambda t: onnx_lrn(t, 5, 1e-2, 0.75, 2.0), []))
        c.append((f'd_lrn4', op, [A('LRN', ['input'], ['output'], size=4, alpha=3e-2, beta=0.6, bias=1.0)], x,
                  lambda t: onnx_lrn(t, 4, 3e-2, 0.6, 1.0), []))
        c.append((f'd_identity_dropout', op, [A('Identity', ['input'], ['t']), A('Dropout', ['t'], ['output'] if op >= 12 else ['output'], **({} if op >= 12 else {'ratio': 0.3}))],
                  x, lambda t: t, []))
        c.append((f'd_dropout_mask_out', op, [A('Dropout', ['input'], ['t', 'mask']), A('Relu', ['t'], ['output'])], x, lambda t: F.relu(t), []))
        c.append((f'd_hardsigmoid_ab', op, [A('HardSigmoid', ['input'], ['output'], alpha=0.3, beta=0.4)], x,
                  lambda t: torch.clamp(0.3 * t + 0.4, 0, 1), []))
        c.append((f'd_hardsigmoid_default', op, [A('HardSigmoid', ['input'], ['output'])], x, lambda t: torch.clamp(0.2 * t + 0.5, 0, 1), []))
        c.append((f'd_leakyrelu_default', op, [A('LeakyRelu', ['input'], ['output'])], x, lambda t: F.leaky_relu(t, 0.01), []))
        c.append((f'd_elu_default', op, [A('Elu', ['input'], ['output'])], x, lambda t: F.elu(t, 1.0), []))
        c.append((f'd_selu_attrs', op, [A('Selu', ['input'], ['output'], alpha=1.5, gamma=2.0)], x,
                  lambda t: 2.0 * torch.where(t > 0, t, 1.5 * (torch.exp(t) - 1)), []))
        c.append((f'd_softmax_axis1', op, [A('Softmax', ['input'], ['output'], axis=1)], x,
                  (lambda t: F.softmax(t, 1)) if op >= 13 else (lambda t: softmax_coerced(t, 1)), []))
        c.append((f'd_softmax_default', op, [A('Softmax', ['input'], ['output'])], x,
                  (lambda t: F.softmax(t, -1)) if op >= 13 else (lambda t: softmax_coerced(t, 1)), []))
        c.append((f'd_logsoftmax_axis2', op, [A('LogSoftmax', ['input'], ['output'], axis=2)], x,
                  (lambda t: F.log_softmax(t, 2)) if op >= 13 else (lambda t: softmax_coerced(t, 2, True)), []))
        c.append((f'd_gemm_trans', op, [A('Flatten', ['input'], ['f'], axis=1), A('Gemm', ['W', 'f', 'C'], ['g'], transA=1, transB=1, alpha=0.5, beta=2.0),
                                       A('Transpose', ['g'], ['output'])], x,
                  lambda t: (0.5 * (torch.from_numpy(Wg).t() @ t.reshape(2, -1).t()) + 2.0 * torch.from_numpy(Cg)).t(),
                  [numpy_helper.from_array(Wg, 'W'), numpy_helper.from_array(Cg, 'C')]))
        c.append((f'd_globalmax', op, [A('GlobalMaxPool', ['input'], ['output'])], x, lambda t: F.adaptive_max_pool2d(t, 1), []))
        c.append((f'd_averagepool_autopad', op, [A('AveragePool', ['input'], ['output'], kernel_shape=[3, 2], strides=[2, 2], auto_pad='SAME_UPPER')], x,
                  lambda t: same_upper_avg(t), []))
        c.append((f'd_maxpool_same_lower', op, [A('MaxPool', ['input'], ['output'], kernel_shape=[2, 3], strides=[2, 2], auto_pad='SAME_LOWER')], x,
                  lambda t: same_lower_max(t), []))
        c.append((f'd_clip_noargs', op, [A('Clip', ['input'], ['output'])], x, lambda t: t, []))
        if op >= 11:
            c.append((f'd_clip_min_only', op, [A('Clip', ['input', 'lo'], ['output'])], x, lambda t: torch.clamp(t, min=-0.2),
                      [numpy_helper.from_array(np.array(-0.2, np.float32), 'lo')]))
            c.append((f'd_clip_max_only', op, [A('Clip', ['input', '', 'hi'], ['output'])], x, lambda t: torch.clamp(t, max=0.3),
                      [numpy_helper.from_array(np.array(0.3, np.float32), 'hi')]))
            c.append((f'd_pad_edge_input', op, [A('Pad', ['input', 'pads'], ['output'], mode='edge')], x,
                      lambda t: F.pad(t, (1, 0, 0, 2), mode='replicate'),
                      [numpy_helper.from_array(np.array([0, 0, 0, 1, 0, 0, 2, 0], np.int64), 'pads')]))
            c.append((f'd_pad_channels', op, [A('Pad', ['input', 'pads', 'cv'], ['output'], mode='constant')], x,
                      lambda t: F.pad(t, (0, 0, 0, 0, 1, 2), value=-1.0),
                      [numpy_helper.from_array(np.array([0, 1, 0, 0, 0, 2, 0, 0], np.int64), 'pads'),
                       numpy_helper.from_array(np.array(-1.0, np.float32), 'cv')]))
        if op >= 13:
            c.append((f'd_reduce_noaxes', op, [A('ReduceSum', ['input'], ['output'], keepdims=0)], x, lambda t: t.sum(), []))
            c.append((f'd_reduce_noop', op, [A('ReduceSum', ['input', 'ax'], ['output'], noop_with_empty_axes=1)], x, lambda t: t,
                      [numpy_helper.from_array(np.zeros((0,), np.int64), 'ax')]))
            c.append((f'd_squeeze_noaxes', op, [A('ReduceMean', ['input'], ['r'], axes=[2, 3]), A('Unsqueeze', ['r', 'ax'], ['u']),
                                                A('Squeeze', ['u'], ['output'])], x, lambda t: t.mean((2, 3)),
                      [numpy_helper.from_array(np.array([0, -1], np.int64), 'ax')]) if op < 18 else None)
            c.append((f'd_slice_neg_step', op, [A('Slice', ['input', 'st', 'en', 'ax', 'sp'], ['output'])], x,
                      lambda t: t.flip(3)[:, :, :, 1:8:2].flip(2)[:, 1:, 1:9],
                      [numpy_helper.from_array(np.array([9, -2, 1], np.int64), 'st'), numpy_helper.from_array(np.array([2, -1000, 100], np.int64), 'en'),
                       numpy_helper.from_array(np.array([3, 2, 1], np.int64), 'ax'), numpy_helper.from_array(np.array([-2, -1, 1], np.int64), 'sp')]))
            c.append((f'd_gather_neg_2d', op, [A('Gather', ['input', 'idx'], ['output'], axis=3)], x,
                      lambda t: t[:, :, :, [[-1, 0], [2, -3]]],
                      [numpy_helper.from_array(np.array([[-1, 0], [2, -3]], np.int64), 'idx')]))
            c.append((f'd_gather_scalar', op, [A('Gather', ['input', 'idx'], ['output'], axis=1)], x, lambda t: t[:, 2],
                      [numpy_helper.from_array(np.array(2, np.int64), 'idx')]))
            c.append((f'd_pow_bcast', op, [A('Mul', ['input', 'input'], ['sq']), A('Add', ['sq', 'one'], ['p']), A('Pow', ['p', 'e'], ['output'])], x,
                      lambda t: (t * t + 1) ** torch.tensor([0.5, 1.5, -1.0, 2.0]).view(4, 1, 1),
                      [numpy_helper.from_array(np.array(1.0, np.float32), 'one'),
                       numpy_helper.from_array(np.array([0.5, 1.5, -1.0, 2.0], np.float32).reshape(4, 1, 1), 'e')]))
            c.append((f'd_softplus_big', op, [A('Mul', ['input', 'k'], ['t']), A('Softplus', ['t'], ['output'])], x,
                      lambda t: F.softplus(t * 40.0), [numpy_helper.from_array(np.array(40.0, np.float32), 'k')]))
            c.append((f'd_reshape_zero', op, [A('Reshape', ['input', 'sh'], ['output'])], x, lambda t: t.reshape(2, 4, 99),
                      [numpy_helper.from_array(np.array([0, 0, -1], np.int64), 'sh')]))
            c.append((f'd_convtranspose_outshape', op, [A('ConvTranspose', ['input', 'Wt'], ['output'], strides=[2, 2], output_shape=[18, 20], kernel_shape=[3, 3])], x,
                      lambda t: F.conv_transpose2d(t, torch.from_numpy(Wt), stride=2, output_padding=(1, 1))[:, :, :20, :24] if False else convT_outshape(t),
                      [numpy_helper.from_array(Wt, 'Wt')]))
            c.append((f'd_conv_autopad_same', op, [A('Conv', ['input', 'Wc'], ['output'], kernel_shape=[3, 4], strides=[2, 2], auto_pad='SAME_UPPER')], x,
                      lambda t: same_upper_conv(t), [numpy_helper.from_array(Wc, 'Wc')]))
    return [e for e in c if e is not None]


_r = np.random.RandomState(11)
Wg = _r.randn(7, 396).astype(np.float32) * 0.05   # Gemm A (transA) -> A' = [396,7]^T ... see d_gemm_trans
Wg = Wg.T.copy()   # stored [396, 7]; transA=1 -> [7, 396]
Cg = _r.randn(7, 1).astype(np.float32)
Wt = _r.randn(4, 3, 3, 3).astype(np.float32) * 0.3
Wc = _r.randn(5, 4, 3, 4).astype(np.float32) * 0.3


def same_upper_avg(t):
    # kernel [3,2], stride 2, SAME_UPPER: out = ceil(in/2); total pad = (out-1)*s + k - in; extra at end; count_include_pad=0
    return _same_pool(t, (3, 2), (2, 2), upper=True, kind='avg')


def same_lower_max(t):
    return _same_pool(t, (2, 3), (2, 2), upper=False, kind='max')


def _same_pads(size, k, s, upper):
    pads = []
    for n, kk, ss in zip(size, k, s):
        out = -(-n // ss)
        tot = max(0, (out - 1) * ss + kk - n)
        small, big = tot // 2, tot - tot // 2
        pads.append((small, big) if upper else (big, small))
    return pads


def _same_pool(t, k, s, upper, kind):
    (pt, pb), (pl, pr) = _same_pads(t.shape[2:], k, s, upper)
    if kind == 'max':
        tp = F.pad(t, (pl, pr, pt, pb), value=float('-inf'))
        return F.max_pool2d(tp, k, s)
    tp = F.pad(t, (pl, pr, pt, pb))
    ones = F.pad(torch.ones_like(t), (pl, pr, pt, pb))
    return F.avg_pool2d(tp, k, s) / F.avg_pool2d(ones, k, s)


def same_upper_conv(t):
    (pt, pb), (pl, pr) = _same_pads(t.shape[2:], (3, 4), (2, 2), True)
    return F.conv2d(F.pad(t, (pl, pr, pt, pb)), torch.from_numpy(Wc), stride=2)


def convT_outshape(t):
    # ONNX: total_padding = stride*(in-1) + output_padding + ((k-1)*d+1) - output_shape; SAME_UPPER-style split
    # (auto_pad NOTSET: pads[start] = total/2 (floor), pads[end] = total - total/2)
    H, W = t.shape[2:]
    full = F.conv_transpose2d(t, torch.from_numpy(Wt), stride=2)  # (H-1)*2+3
    outs = []
    res = full
    tot_h = 2 * (H - 1) + 3 - 18
    tot_w = 2 * (W - 1) + 3 - 20
    def crop(x, tot, dim):
        if tot >= 0:
            a = tot - tot // 2   # NOTSET/SAME_LOWER: the larger half at the start
            return x.narrow(dim, a, x.shape[dim] - tot)
        padn = [0] * 4
        b = -tot
        # negative total padding: output grows; extra rows (zeros) at begin/end split as floor/ceil
        if dim == 2:
            padn = [0, 0, b // 2, b - b // 2]
        else:
            padn = [b // 2, b - b // 2, 0, 0]
        return F.pad(x, padn)
    res = crop(res, tot_h, 2)
    res = crop(res, tot_w, 3)
    return res


if __name__ == '__main__':
    out_root = sys.argv[1]
    filt = sys.argv[2] if len(sys.argv) > 2 else ''
    torch.set_num_threads(1)
    out = os.path.join(out_root, 'onnx')
    os.makedirs(out, exist_ok=True)
    idx_path = os.path.join(out, 'index.json')
    index = json.load(open(idx_path)) if os.path.exists(idx_path) else {}
    for cid, factory, shape, kw in TORCH_CASES:
        if filt and filt not in cid:
            continue
        torch.manual_seed(seed_of(cid))
        model = factory()
        x = torch.randn(*shape)
        export_all(cid, model, x, OPSETS, dict(kw), out, index)
        print(cid, {k: v[:80] for k, v in index[cid]['errors'].items()}, flush=True)
    import torchvision.models as tvm
    for cid, name, kwargs, shape, opsets in TV_CASES:
        if filt and filt not in cid:
            continue
        torch.manual_seed(seed_of(cid))
        model = getattr(tvm, name)(num_classes=10, **kwargs)
        randomize_bn(model)
        x = torch.randn(*shape)
        for variant, kw in (('', {}), ('_preserve', {'training': PRESERVE})):
            export_all(cid + variant, model, x, OPSETS if 'OPSETS' in os.environ else opsets, kw, out, index)
            print(cid + variant, index[cid + variant]['errors'], flush=True)
    # direct graphs: one case file per (id, opset)
    for cid, op, nodes, x, fn, inits in ([] if 'OPSETS' in os.environ else direct_cases()):
        key = f'{cid}_o{op}'
        if filt and filt not in key:
            continue
        entry = {'id': key, 'files': {}, 'errors': {}, 'ops': {}, 'direct': True}
        try:
            m = direct_model(cid, nodes, x, fn, op, inits)
            path = os.path.join(out, f'{key}_op{op}.onnx')
            onnx.save(m, path)
            ref = reference(Fn(lambda mm, t: fn(t)), torch.from_numpy(x), key)
            st.save(os.path.join(out, key + '.case.safetensors'), ref)
            entry['files'][str(op)] = os.path.basename(path)
            entry['ops'][str(op)] = ops_of(path)
            entry['shape'] = list(x.shape); entry['out_shape'] = list(ref['output'].shape)
        except Exception as e:  # noqa
            entry['errors'][str(op)] = f'{type(e).__name__}: {str(e)[:300]}'
            print(key, entry['errors'], flush=True)
        index[key] = entry
    json.dump(index, open(idx_path, 'w'), indent=1)
