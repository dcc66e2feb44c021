"""torchvision models with seeded random weights -> safetensors for tinycam.

For every config writes DATA/models/<id>.weights.safetensors (state_dict) and
DATA/models/<id>.case.safetensors (input, logits, A and dA at the CAM layer,
d sum_n logit[n, t_n] / d input, pytorch-grad-cam-style Grad-CAM maps) plus
DATA/models/index.json. Usage: python3 gen_models.py DATA [filter-substring]
"""
import json, os, sys, zlib
import torch, torch.nn as nn, torch.nn.functional as F
import torchvision.models as tvm
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import st

CAM_LAYER = {
    'resnet': 'layer4', 'mobilenet_v2': 'features.18', 'squeezenet1_0': 'features.12',
    'squeezenet1_1': 'features.12', 'densenet121': 'features.norm5',
}

# id, torchvision name, kwargs, (H, W), numClasses
CONFIGS = [
    ('resnet18_224', 'resnet18', {}, (224, 224), 1000),
    ('resnet18_64', 'resnet18', {}, (64, 64), 10),
    ('resnet18_odd', 'resnet18', {}, (71, 57), 7),
    ('resnet34_64', 'resnet34', {}, (64, 64), 10),
    ('resnet50_64', 'resnet50', {}, (64, 64), 10),
    ('resnet101_64', 'resnet101', {}, (64, 64), 10),
    ('resnet152_64', 'resnet152', {}, (64, 64), 10),
    ('vgg11_64', 'vgg11', {}, (64, 64), 10),
    ('vgg11_bn_64', 'vgg11_bn', {}, (64, 64), 10),
    ('vgg13_64', 'vgg13', {}, (64, 64), 10),
    ('vgg13_bn_64', 'vgg13_bn', {}, (64, 64), 10),
    ('vgg16_64', 'vgg16', {}, (64, 64), 10),
    ('vgg16_bn_64', 'vgg16_bn', {}, (64, 64), 10),
    ('vgg19_64', 'vgg19', {}, (64, 64), 10),
    ('vgg19_bn_64', 'vgg19_bn', {}, (64, 64), 10),
    ('vgg16_bn_odd', 'vgg16_bn', {}, (250, 70), 5),
    ('mobilenet_v2_64', 'mobilenet_v2', {}, (64, 64), 10),
    ('mobilenet_v2_w05_96', 'mobilenet_v2', {'width_mult': 0.5}, (96, 96), 10),
    ('mobilenet_v2_w035_64', 'mobilenet_v2', {'width_mult': 0.35}, (64, 64), 10),
    ('mobilenet_v2_w14_odd', 'mobilenet_v2', {'width_mult': 1.4}, (75, 61), 10),
    ('squeezenet1_0_64', 'squeezenet1_0', {}, (64, 64), 10),
    ('squeezenet1_0_odd', 'squeezenet1_0', {}, (83, 77), 10),
    ('squeezenet1_1_64', 'squeezenet1_1', {}, (64, 64), 10),
    ('squeezenet1_1_odd', 'squeezenet1_1', {}, (83, 77), 10),
    ('densenet121_64', 'densenet121', {}, (64, 64), 10),
    ('densenet121_odd', 'densenet121', {}, (77, 69), 10),
]


SCORE_CAM_IDS = {'squeezenet1_1_64', 'resnet18_odd'}   # Score-CAM costs one forward per channel


def cam_layer(name, model):
    if name.startswith('vgg'):
        return f'features.{len(model.features) - 2}'
    if name.startswith('resnet'):
        return 'layer4'
    return CAM_LAYER[name]


def randomize(model, gen):
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.copy_(torch.rand(m.weight.shape, generator=gen) + 0.5)
                m.bias.copy_(torch.randn(m.bias.shape, generator=gen) * 0.2)
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=gen) * 0.2)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=gen) * 1.5 + 0.5)
                m.num_batches_tracked.fill_(17)
            elif isinstance(m, (nn.Conv2d, nn.Linear)) and m.bias is not None:
                m.bias.copy_(torch.randn(m.bias.shape, generator=gen) * 0.05)


def grad_cam_reference(A, dA, size):
    """pytorch-grad-cam GradCAM: weights mean dA, relu, minmax, bilinear resize (cv2 = half-pixel), minmax."""
    w = dA.mean(dim=(2, 3))
    raw = (w[:, :, None, None] * A).sum(1)
    cam = raw.clamp(min=0)
    mn = cam.flatten(1).min(1).values[:, None, None]
    cam = cam - mn
    cam = cam / (1e-7 + cam.flatten(1).max(1).values[:, None, None])
    up = F.interpolate(cam[:, None], size=size, mode='bilinear', align_corners=False)[:, 0]
    up = up.clamp(min=0)
    up = up - up.flatten(1).min(1).values[:, None, None]
    up = up / (1e-7 + up.flatten(1).max(1).values[:, None, None])
    return raw, w, up


def postprocess(raw, size):
    """pytorch-grad-cam: relu, min-max per image, bilinear (cv2 = half-pixel) resize, relu, min-max."""
    cam = raw.clamp(min=0)
    cam = cam - cam.flatten(1).min(1).values[:, None, None]
    cam = cam / (1e-7 + cam.flatten(1).max(1).values[:, None, None])
    up = F.interpolate(cam[:, None], size=size, mode='bilinear', align_corners=False)[:, 0].clamp(min=0)
    up = up - up.flatten(1).min(1).values[:, None, None]
    return up / (1e-7 + up.flatten(1).max(1).values[:, None, None])


def method_raws(A, dA):
    """Raw maps [N,h,w] of pytorch-grad-cam's gradient methods (float32, as its numpy code)."""
    g2 = dA ** 2
    g3 = g2 * dA
    sumA = A.sum((2, 3))[:, :, None, None]
    aij = g2 / (2 * g2 + sumA * g3 + 0.000001)
    aij = torch.where(dA != 0, aij, torch.zeros_like(aij))
    w_pp = (dA.clamp(min=0) * aij).sum((2, 3))
    w_x = (dA * A).sum((2, 3)) / (A.sum((2, 3)) + 1e-7)
    out = {
        'gradCamPlusPlus': (w_pp[:, :, None, None] * A).sum(1),
        'xGradCam': (w_x[:, :, None, None] * A).sum(1),
        'hiResCam': (dA * A).sum(1),
        'gradCamElementWise': (dA * A).clamp(min=0).sum(1),
        'layerCam': (dA.clamp(min=0) * A).sum(1),
    }
    # EigenCAM: projection on the first right singular vector (sign is LAPACK's; compared up to sign)
    eig = []
    for a in A.double():
        m = a.reshape(a.shape[0], -1).t()
        m = m - m.mean(0)
        _, _, vt = torch.linalg.svd(m, full_matrices=False)
        eig.append((m @ vt[0]).reshape(a.shape[1:]))
    out['eigenCam'] = torch.stack(eig).float()
    return out


class _GuidedReLUFn(torch.autograd.Function):
    """pytorch-grad-cam's GuidedBackpropReLU: grad * (x > 0) * (grad > 0)."""
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.clamp(min=0)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * (x > 0).type_as(g) * (g > 0).type_as(g)


class _GuidedReLU(nn.Module):
    def forward(self, x):
        return _GuidedReLUFn.apply(x)


def guided_backprop(model, x, targets):
    """pytorch-grad-cam's GuidedBackpropReLUModel: only nn.ReLU modules are replaced."""
    import copy
    m = copy.deepcopy(model)

    def swap(mod):
        for name, child in mod.named_children():
            if isinstance(child, nn.ReLU):
                setattr(mod, name, _GuidedReLU())
            else:
                swap(child)
    swap(m)
    xi = x.detach().clone().requires_grad_(True)
    m(xi).gather(1, targets[:, None]).sum().backward()
    return xi.grad.detach()


def score_cam_raw(model, x, A, targets, batch=16):
    """pytorch-grad-cam's ScoreCAM weights (UpsamplingBilinear2d = align_corners=True; softmax over channels)."""
    with torch.no_grad():
        up = nn.UpsamplingBilinear2d(size=x.shape[-2:])(A)
        flat = up.view(up.size(0), up.size(1), -1)
        mx, mn = flat.max(-1)[0][:, :, None, None], flat.min(-1)[0][:, :, None, None]
        up = (up - mn) / (mx - mn + 1e-8)
        inputs = x.detach()[:, None] * up[:, :, None]
        scores = []
        for t, tensor in zip(targets.tolist(), inputs):
            for i in range(0, tensor.size(0), batch):
                scores.extend(model(tensor[i:i + batch])[:, t].tolist())
        w = torch.softmax(torch.tensor(scores).view(A.shape[0], A.shape[1]), -1)
    return (w[:, :, None, None] * A).sum(1)


def run(cfg, out):
    cid, name, kwargs, size, k = cfg
    torch.manual_seed(1234)
    gen = torch.Generator().manual_seed(zlib.crc32(cid.encode()) % 100000)
    model = getattr(tvm, name)(num_classes=k, **kwargs)
    randomize(model, gen)
    model.eval()
    layer = cam_layer(name, model)
    x = torch.randn(2, 3, *size, generator=gen).requires_grad_(True)
    saved = {}
    mod = dict(model.named_modules())[layer]

    def hook(m, i, o):
        saved['A'] = o.detach().clone()      # true layer output
        saved['A_shared'] = o.detach()       # what pytorch-grad-cam keeps (shares storage)
        o.register_hook(lambda g: saved.__setitem__('dA', g.detach().clone()))
    h = mod.register_forward_hook(hook)
    logits = model(x)
    h.remove()
    targets = logits.argmax(1)
    # image 1 gets another class than image 0, so per-image targets are exercised
    # (random-weight models tend to predict one class for every input)
    targets[1] = (targets[0] + 1 + zlib.crc32(cid.encode()) % (k - 1)) % k
    score = logits.gather(1, targets[:, None]).sum()
    score.backward()
    raw, w, maps = grad_cam_reference(saved['A'], saved['dA'], size)
    tensors = {'input': x.detach(), 'logits': logits.detach(), 'A': saved['A'], 'dA': saved['dA'],
               'dinput': x.grad.detach(), 'cam_raw': raw, 'cam_weights': w, 'cam_maps': maps,
               'targets': targets.to(torch.int64)}
    tensors['guided_bp'] = guided_backprop(model, x, targets)
    if cid in SCORE_CAM_IDS:
        tensors['m_scoreCam_raw'] = score_cam_raw(model, x, saved['A'], targets)
        tensors['m_scoreCam_maps'] = postprocess(tensors['m_scoreCam_raw'], size)
    for mname, mraw in method_raws(saved['A'], saved['dA']).items():
        tensors[f'm_{mname}_raw'] = mraw
        tensors[f'm_{mname}_maps'] = postprocess(mraw, size)
    if not torch.equal(saved['A_shared'], saved['A']):
        # an in-place op after the layer (densenet's F.relu(inplace=True)) changed what pytorch-grad-cam sees
        _, _, maps_pgc = grad_cam_reference(saved['A_shared'], saved['dA'], size)
        tensors['cam_maps_pgc_inplace'] = maps_pgc
    # float64 run: how far PyTorch's own float32 result is from exact (ill-conditioning)
    m64 = model.double()
    x64 = x.detach().double().requires_grad_(True)
    l64 = m64(x64)
    l64.gather(1, targets[:, None]).sum().backward()
    tensors['logits64'] = l64.detach(); tensors['dinput64'] = x64.grad.detach()
    model.float()
    os.makedirs(os.path.join(out, 'models'), exist_ok=True)
    st.save(os.path.join(out, 'models', cid + '.weights.safetensors'), model.state_dict())
    st.save(os.path.join(out, 'models', cid + '.case.safetensors'), tensors)
    return {'id': cid, 'name': name, 'kwargs': kwargs, 'size': list(size), 'numClasses': k, 'layer': layer,
            'targets': targets.tolist()}


if __name__ == '__main__':
    out = sys.argv[1]
    filt = sys.argv[2] if len(sys.argv) > 2 else ''
    torch.set_num_threads(1)
    idx_path = os.path.join(out, 'models', 'index.json')
    index = json.load(open(idx_path)) if os.path.exists(idx_path) else {}
    for cfg in CONFIGS:
        if filt and filt not in cfg[0]:
            continue
        index[cfg[0]] = run(cfg, out)
        print('wrote', cfg[0], flush=True)
    json.dump(index, open(idx_path, 'w'), indent=1)
