"""Grad-CAM references for the torchvision ONNX exports of gen_onnx.py (same seeds, same
weights): A, dA and pytorch-grad-cam-style maps at the model's CAM layer, written to
DATA/onnx/<id>.cam.safetensors. Run after gen_onnx.py. Usage: python3 gen_onnx_cam.py DATA
"""
import json, os, sys
import torch
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import st
import gen_onnx as go
import gen_models as gm
import torchvision.models as tvm

if __name__ == '__main__':
    out = os.path.join(sys.argv[1], 'onnx')
    torch.set_num_threads(1)
    meta = {}
    for cid, name, kwargs, shape, opsets in go.TV_CASES:
        torch.manual_seed(go.seed_of(cid))
        model = getattr(tvm, name)(num_classes=10, **kwargs)
        go.randomize_bn(model)
        x = torch.randn(*shape)
        model.eval()
        ref = st_in = None
        layer = gm.cam_layer(name, model)
        saved = {}
        mod = dict(model.named_modules())[layer]

        def hook(m, i, o):
            saved['A'] = o.detach().clone()
            o.register_hook(lambda g: saved.__setitem__('dA', g.detach().clone()))
        h = mod.register_forward_hook(hook)
        logits = model(x)
        h.remove()
        targets = logits.argmax(1)
        if len(targets) > 1:   # per-image targets: image 1 explains another class
            targets[1] = (targets[0] + 3) % logits.shape[1]
        logits.gather(1, targets[:, None]).sum().backward()
        raw, w, maps = gm.grad_cam_reference(saved['A'], saved['dA'], tuple(shape[2:]))
        st.save(os.path.join(out, cid + '.cam.safetensors'),
                {'input': x, 'logits': logits.detach(), 'A': saved['A'], 'dA': saved['dA'], 'cam_maps': maps, 'cam_raw': raw})
        meta[cid] = {'layer': layer, 'targets': targets.tolist(), 'opsets': opsets}
        print(cid, layer, targets.tolist(), flush=True)
    json.dump(meta, open(os.path.join(out, 'cam_index.json'), 'w'), indent=1)
