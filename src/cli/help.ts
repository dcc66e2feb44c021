import { MAP_METHODS } from './methods.js';

export const MAIN_HELP = `tinycam: where does a convolutional network look?

Usage:
  tinycam explain --model <model.onnx | weights.safetensors> --image <file | folder> [options]
  tinycam layers <model.onnx | weights.safetensors> [--arch <name>]
  tinycam compare --model <model> --image <file> [--methods a,b,...] --out report.html
  tinycam methods
  tinycam --help | tinycam <command> --help

Examples:
  tinycam explain --model resnet50.onnx --image cat.jpg --labels imagenet.txt --out cat-gradcam.png
  tinycam explain --model resnet50.safetensors --arch resnet50 --image photos/ --method scorecam --out maps/
  tinycam layers resnet50.onnx

Everything runs in plain JavaScript on the CPU: no Python, no native code.`;

export const EXPLAIN_HELP = `tinycam explain: print the top classes of an image and write a heat-map overlay.

Required:
  -m, --model <path>       an ONNX model (.onnx; external data is read from beside it), or
                           torchvision weights saved as .safetensors together with --arch
  -i, --image <path>       a PNG or JPEG file, or a folder of them (one overlay each)

Model and input:
  -a, --arch <name>        torchvision architecture for .safetensors weights: resnet18/34/50/101/152,
                           vgg11/13/16/19 (and _bn), mobilenet_v2, squeezenet1_0/1_1, densenet121
      --num-classes <n>    classes of the weights (read from the file when omitted)
      --size <pixels>      model input size (default: the ONNX input's declared size, else 224)
      --resize <pixels>    resize the image's shorter side to this before the centre crop
                           (default: the input size; torchvision's ImageNet recipe is 256 for 224)
      --mean a,b,c         normalisation mean (default ImageNet's 0.485,0.456,0.406)
      --std a,b,c          normalisation std (default ImageNet's 0.229,0.224,0.225)
      --no-normalize       feed pixels in [0, 1] as they are

What to explain:
      --method <name>      map method (default gradcam); see 'tinycam methods'
  -l, --layer <name>       layer to explain: a module path (layer4, features.28) or an ONNX tensor
                           name; repeat for several (their maps are averaged). Default: the
                           architecture's recommended layer, else the last 4-D layer larger than 1x1.
                           'tinycam layers <model>' lists them.
  -t, --target <class>     class index to explain (default: the top class)
      --labels <file>      class names, one per line, for the printed top classes

Output:
  -o, --out <path>         overlay file (.png or .jpg), or a folder when --image is a folder
                           (default: <image>.<method>.png in the current folder)
      --map-out <path>     also save the map itself as a float32 safetensors file ({ map: [H, W] })
      --colormap <name>    jet (default, OpenCV's), turbo, viridis, inferno, magma, gray
      --alpha <0..1>       weight of the heat map in the blend (default 0.4)
      --blend <name>       seed (default: heat + image, renormalised) or pytorch-grad-cam
      --top <k>            how many classes to print (default 5)
      --json               print a JSON summary instead of text`;

export const LAYERS_HELP = `tinycam layers: list the layers a CAM method can explain, with their output shapes.

Usage:
  tinycam layers <model.onnx>
  tinycam layers <weights.safetensors> --arch <name> [--num-classes <n>]
  Options: --size <pixels> input size for the shape probe (default: the model's, else 224)`;

export function methodsHelp(): string {
  const width = Math.max(...Object.keys(MAP_METHODS).map((k) => k.length));
  return ['Map methods for --method:', ...Object.entries(MAP_METHODS).map(([k, m]) => `  ${k.padEnd(width)}  ${m.about}`)].join('\n');
}
