"""Issue 9's architectures with seeded random weights (small versions of torchvision's
vit_b_16, swin_t, convnext_tiny, efficientnet_b0, mobilenet_v3_small, regnet_y_400mf,
deeplabv3_mobilenet_v3_large, lraspp_mobilenet_v3_large, fcn_resnet50 (full size), a
YOLOv8-style detector, a Conv1d and a Conv3d classifier), exported by torch.onnx at opsets
13 and 17. Per model, DATA/tv9/<id>.ref.safetensors holds input, output, A and dA as the
layer emits them (dA = d score / d A), the reshaped A and dA, mask (segmentation) and
pytorch-grad-cam's Grad-CAM raw map and final map; DATA/tv9/index.json the layer, score,
reshape and files. Compare with: npx tsx tools/crosscheck/compare_tv9.ts DATA
Usage: python3 gen_tv9.py DATA [filter]
"""
import contextlib, io, json, os, sys, zlib
import torch, torch.nn as nn, torch.nn.functional as F
import torchvision
from torchvision.models import vision_transformer as vt, swin_transformer as sw, convnext as cn, efficientnet as ef
from torchvision.models import mobilenetv3 as mv3, regnet as rg
from torchvision.models.segmentation import deeplabv3 as dl, lraspp as lr
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import st
import gen_models as gm

OPSETS = [int(v) for v in os.environ.get('OPSETS', '13,17').split(',')]


# ------------------------------------------------------------------ a YOLOv8-style detector

class ConvBNSiLU(nn.Sequential):
    def __init__(self, c1, c2, k=1, s=1):
        super().__init__(nn.Conv2d(c1, c2, k, s, k // 2, bias=False), nn.BatchNorm2d(c2), nn.SiLU())


class Bottleneck(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.cv1, self.cv2 = ConvBNSiLU(c, c, 3), ConvBNSiLU(c, c, 3)

    def forward(self, x):
        return x + self.cv2(self.cv1(x))


class C2f(nn.Module):
    """CSP bottleneck with two convolutions, as ultralytics' C2f: split, bottlenecks, concat."""
    def __init__(self, c1, c2, n=1):
        super().__init__()
        self.c = c2 // 2
        self.cv1 = ConvBNSiLU(c1, 2 * self.c)
        self.cv2 = ConvBNSiLU((2 + n) * self.c, c2)
        self.m = nn.ModuleList(Bottleneck(self.c) for _ in range(n))

    def forward(self, x):
        y = list(self.cv1(x).split((self.c, self.c), 1))
        y.extend(m(y[-1]) for m in self.m)
        return self.cv2(torch.cat(y, 1))


class SPPF(nn.Module):
    def __init__(self, c1, c2):
        super().__init__()
        self.cv1, self.cv2 = ConvBNSiLU(c1, c1 // 2), ConvBNSiLU(c1 * 2, c2)
        self.m = nn.MaxPool2d(5, 1, 2)

    def forward(self, x):
        x = self.cv1(x)
        y1 = self.m(x); y2 = self.m(y1)
        return self.cv2(torch.cat([x, y1, y2, self.m(y2)], 1))


class TinyYolo(nn.Module):
    """Backbone (CSP), FPN/PAN neck, anchor-free decoupled head with DFL, output [N, 4 + nc, A]
    as YOLOv8 exports it: cat of (xywh boxes, sigmoid class scores)."""
    def __init__(self, nc=3, reg_max=16):
        super().__init__()
        self.nc, self.reg_max = nc, reg_max
        self.stem = nn.Sequential(ConvBNSiLU(3, 8, 3, 2), ConvBNSiLU(8, 16, 3, 2), C2f(16, 16))
        self.p3 = nn.Sequential(ConvBNSiLU(16, 32, 3, 2), C2f(32, 32))
        self.p4 = nn.Sequential(ConvBNSiLU(32, 48, 3, 2), C2f(48, 48))
        self.p5 = nn.Sequential(ConvBNSiLU(48, 64, 3, 2), C2f(64, 64), SPPF(64, 64))
        self.up = nn.Upsample(scale_factor=2, mode='nearest')
        self.td4, self.td3 = C2f(64 + 48, 48), C2f(48 + 32, 32)
        self.down3, self.bu4 = ConvBNSiLU(32, 32, 3, 2), C2f(32 + 48, 48)
        self.down4, self.bu5 = ConvBNSiLU(48, 48, 3, 2), C2f(48 + 64, 64)
        chans = (32, 48, 64)
        self.box = nn.ModuleList(nn.Sequential(ConvBNSiLU(c, 16, 3), ConvBNSiLU(16, 16, 3), nn.Conv2d(16, 4 * reg_max, 1)) for c in chans)
        self.cls = nn.ModuleList(nn.Sequential(ConvBNSiLU(c, 16, 3), ConvBNSiLU(16, 16, 3), nn.Conv2d(16, nc, 1)) for c in chans)
        self.dfl = nn.Conv2d(reg_max, 1, 1, bias=False).requires_grad_(False)
        self.dfl.weight.data[:] = torch.arange(reg_max, dtype=torch.float).view(1, reg_max, 1, 1)
        self.strides = (8, 16, 32)

    def forward(self, x):
        c3 = self.p3(self.stem(x)); c4 = self.p4(c3); c5 = self.p5(c4)
        t4 = self.td4(torch.cat([self.up(c5), c4], 1))
        n3 = self.td3(torch.cat([self.up(t4), c3], 1))
        n4 = self.bu4(torch.cat([self.down3(n3), t4], 1))
        n5 = self.bu5(torch.cat([self.down4(n4), c5], 1))
        feats = [torch.cat([self.box[i](f), self.cls[i](f)], 1) for i, f in enumerate((n3, n4, n5))]
        b = x.shape[0]
        anchors, strides = [], []
        for f, s in zip(feats, self.strides):
            h, w = f.shape[2:]
            sy, sx = torch.meshgrid(torch.arange(h, dtype=torch.float) + 0.5, torch.arange(w, dtype=torch.float) + 0.5, indexing='ij')
            anchors.append(torch.stack((sx, sy), -1).view(-1, 2)); strides.append(torch.full((h * w, 1), float(s)))
        anchors, strides = torch.cat(anchors).transpose(0, 1), torch.cat(strides).transpose(0, 1)
        xcat = torch.cat([f.view(b, 4 * self.reg_max + self.nc, -1) for f in feats], 2)
        box, cls = xcat.split((4 * self.reg_max, self.nc), 1)
        a = box.shape[2]
        dist = self.dfl(box.view(b, 4, self.reg_max, a).transpose(2, 1).softmax(1)).view(b, 4, a)
        lt, rb = dist.chunk(2, 1)
        x1y1, x2y2 = anchors.unsqueeze(0) - lt, anchors.unsqueeze(0) + rb
        dbox = torch.cat(((x1y1 + x2y2) / 2, x2y2 - x1y1), 1) * strides
        return torch.cat((dbox, cls.sigmoid()), 1)


class SegOut(nn.Module):
    """torchvision's segmentation models return a dict; export its 'out'."""
    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        return self.net(x)['out']


def randomize(model):
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)):
                m.weight.uniform_(0.5, 1.5); m.bias.normal_(0, 0.2)
                m.running_mean.normal_(0, 0.2); m.running_var.uniform_(0.5, 2)
            if isinstance(m, cn.CNBlock):   # layer_scale starts at 1e-6: make the blocks count
                m.layer_scale.uniform_(0.3, 0.8)


def effnet():
    setting, last = ef._efficientnet_conf('efficientnet_b0', width_mult=0.5, depth_mult=0.5)
    return ef.EfficientNet(setting, 0.2, last_channel=last, num_classes=10)


def mnv3_small():
    setting, last = mv3._mobilenet_v3_conf('mobilenet_v3_small', width_mult=0.5)
    return mv3.MobileNetV3(setting, last, num_classes=10)


def mnv3_large_backbone():
    return mv3.mobilenet_v3_large(width_mult=0.5, dilated=True)


# (id, factory, input shape, layer, reshape, score kind)
CASES = [
    ('vit_b16_small', lambda: vt.VisionTransformer(image_size=64, patch_size=16, num_layers=2, num_heads=2, hidden_dim=32, mlp_dim=64, num_classes=10),
     (1, 3, 64, 64), 'encoder.layers.encoder_layer_1.ln_1', ('vit', 4, 4), 'class'),
    ('swin_t_small', lambda: sw.SwinTransformer(patch_size=[4, 4], embed_dim=16, depths=[2, 2, 2, 2], num_heads=[1, 2, 2, 4], window_size=[7, 7],
                                                stochastic_depth_prob=0.0, num_classes=10), (1, 3, 64, 64), 'features.5.1.norm1', ('swin', 4, 4), 'class'),
    ('convnext_tiny_small', lambda: cn.ConvNeXt([cn.CNBlockConfig(16, 32, 1), cn.CNBlockConfig(32, 64, 1), cn.CNBlockConfig(64, 128, 2), cn.CNBlockConfig(128, None, 1)],
                                                stochastic_depth_prob=0.0, num_classes=10), (1, 3, 64, 64), 'features.5', None, 'class'),
    ('efficientnet_b0_small', effnet, (1, 3, 64, 64), 'features.8', None, 'class'),
    ('mobilenet_v3_small_w05', mnv3_small, (1, 3, 64, 64), 'features.12', None, 'class'),
    ('regnet_y_small', lambda: rg.RegNet(rg.BlockParams.from_init_params(depth=6, w_0=16, w_a=8.0, w_m=2.0, group_width=8, se_ratio=0.25), num_classes=10),
     (1, 3, 64, 64), 'trunk_output', None, 'class'),
    ('deeplabv3_mnv3_small', lambda: SegOut(dl._deeplabv3_mobilenetv3(mnv3_large_backbone(), num_classes=4, aux=False)), (1, 3, 64, 64),
     'net.classifier.0', None, 'segmentation'),
    ('lraspp_mnv3_small', lambda: SegOut(lr._lraspp_mobilenetv3(mnv3_large_backbone(), num_classes=4)), (1, 3, 64, 64), 'net.classifier.cbr', None, 'segmentation'),
    ('fcn_resnet50', lambda: SegOut(torchvision.models.segmentation.fcn_resnet50(weights=None, weights_backbone=None, num_classes=4, aux_loss=False)),
     (1, 3, 64, 64), 'net.backbone.layer4', None, 'segmentation'),
    ('yolo_tiny', TinyYolo, (1, 3, 64, 64), 'td3', None, 'detection'),
    ('conv1d_classifier', lambda: nn.Sequential(nn.Conv1d(3, 8, 5, padding=2), nn.BatchNorm1d(8), nn.ReLU(), nn.MaxPool1d(2),
                                                nn.Conv1d(8, 16, 3, padding=1), nn.BatchNorm1d(16), nn.ReLU(),
                                                nn.AdaptiveAvgPool1d(1), nn.Flatten(), nn.Linear(16, 5)), (1, 3, 64), '6', None, 'class'),
    ('conv3d_classifier', lambda: nn.Sequential(nn.Conv3d(1, 6, 3, padding=1), nn.BatchNorm3d(6), nn.ReLU(), nn.MaxPool3d(2),
                                                nn.Conv3d(6, 8, 3, padding=1), nn.BatchNorm3d(8), nn.ReLU(),
                                                nn.AdaptiveAvgPool3d(1), nn.Flatten(), nn.Linear(8, 4)), (1, 1, 8, 16, 16), '6', None, 'class'),
]


def reshape_of(t, r):
    if r is None: return t
    kind, h, w = r
    if kind == 'swin': return t.permute(0, 3, 1, 2)
    return t[:, 1:, :].reshape(t.shape[0], h, w, t.shape[2]).permute(0, 3, 1, 2)


def grad_cam_nd(A, dA, size):
    """Grad-CAM for any number of spatial axes: mean dA over them, ReLU, min-max, resize, min-max."""
    axes = tuple(range(2, A.ndim))
    w = dA.mean(dim=axes)
    raw = (w.view(*w.shape, *([1] * len(axes))) * A).sum(1)
    if len(axes) == 2:
        return raw, gm.postprocess(raw, size)
    cam = raw.clamp(min=0).flatten(1)
    cam = cam - cam.min(1, keepdim=True).values
    cam = (cam / (1e-7 + cam.max(1, keepdim=True).values)).view(raw.shape)
    mode = 'linear' if len(axes) == 1 else 'trilinear'
    up = F.interpolate(cam[:, None], size=size, mode=mode, align_corners=False)[:, 0].clamp(min=0).flatten(1)
    up = up - up.min(1, keepdim=True).values
    return raw, (up / (1e-7 + up.max(1, keepdim=True).values)).view(cam.shape[0], *size)


if __name__ == '__main__':
    out = os.path.join(sys.argv[1], 'tv9')
    filt = sys.argv[2] if len(sys.argv) > 2 else ''
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(2)
    idx_path = os.path.join(out, 'index.json')
    index = json.load(open(idx_path)) if os.path.exists(idx_path) else {}
    for cid, factory, shape, layer, reshape, kind in CASES:
        if filt and filt not in cid:
            continue
        torch.manual_seed(zlib.crc32(cid.encode()) % 100000)
        model = factory()
        randomize(model)
        model.eval()
        x = torch.randn(*shape)
        saved = {}
        mod = dict(model.named_modules())[layer]

        def hook(m, i, o):
            saved['A'] = o.detach().clone()
            o.register_hook(lambda g: saved.__setitem__('dA', g.detach().clone()))
        h = mod.register_forward_hook(hook)
        y = model(x)
        h.remove()
        meta = {'layer': layer, 'kind': kind, 'reshape': reshape, 'shape': list(shape), 'files': {}, 'errors': {}}
        tensors = {'input': x, 'output': y.detach()}
        if kind == 'class':
            c = int(y[0].argmax()); score = y[0, c]
        elif kind == 'segmentation':
            am = y[0].argmax(0)
            c = int(torch.bincount(am.flatten(), minlength=y.shape[1]).argmax())
            mask = (am == c).float(); tensors['mask'] = mask
            score = (y[0, c] * mask).sum()
        else:   # detection: the class-c confidence summed over anchors
            c = int(y[0, 4:].sum(1).argmax()); score = y[0, 4 + c].sum()
        score.backward()
        A, dA = reshape_of(saved['A'], reshape), reshape_of(saved['dA'], reshape)
        raw, maps = grad_cam_nd(A, dA, tuple(shape[2:]))
        tensors.update({'A_emitted': saved['A'], 'dA_emitted': saved['dA'], 'A': A, 'dA': dA, 'score': score.detach().view(1), 'cam_raw': raw, 'cam_maps': maps})
        meta['target'] = c
        st.save(os.path.join(out, cid + '.ref.safetensors'), tensors)
        for op in OPSETS:
            path = os.path.join(out, f'{cid}_op{op}.onnx')
            try:
                with contextlib.redirect_stderr(io.StringIO()):
                    torch.onnx.export(model, (x,), path, opset_version=op, input_names=['input'], output_names=['output'])
                meta['files'][str(op)] = os.path.basename(path)
            except Exception as e:  # noqa
                meta['errors'][str(op)] = f'{type(e).__name__}: {str(e)[:300]}'
        index[cid] = meta
        sizes = {k: os.path.getsize(os.path.join(out, f)) // 1024 for k, f in meta['files'].items()}
        print(cid, 'target', c, 'A', list(saved['A'].shape), 'KB', sizes, meta['errors'], flush=True)
    json.dump(index, open(idx_path, 'w'), indent=1)
