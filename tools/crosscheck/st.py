"""Minimal safetensors writer (8-byte LE header length, JSON header, raw LE bytes)."""
import json, struct
import numpy as np

_DT = {np.dtype('float32'): 'F32', np.dtype('float64'): 'F64', np.dtype('int64'): 'I64',
       np.dtype('int32'): 'I32', np.dtype('uint8'): 'U8', np.dtype('bool'): 'BOOL'}


def save(path, tensors, metadata=None):
    header, blobs, off = {}, [], 0
    for name, t in tensors.items():
        a = t.detach().cpu().contiguous().numpy() if hasattr(t, 'detach') else np.asarray(t)
        a = np.asarray(a, order="C")  # (ascontiguousarray would turn 0-d into 1-d)
        b = a.astype(a.dtype.newbyteorder('<')).tobytes()
        header[name] = {'dtype': _DT[a.dtype], 'shape': list(a.shape), 'data_offsets': [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    if metadata:
        header['__metadata__'] = {k: str(v) for k, v in metadata.items()}
    h = json.dumps(header).encode()
    h += b' ' * ((8 - len(h) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
