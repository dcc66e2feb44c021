import { BACKEND_HELP } from './backend-option.js';
import { MAX_INPUT_SIDE, MAX_RESIZE } from './option-values.js';
import { architectureList } from './load-model.js';
import { METHODS } from './methods.js';

export const MAIN_HELP = `tinycam: where does a convolutional network look?

Usage:
  tinycam explain --model <model.onnx | model.json | weights.safetensors> --image <file | folder> [options]
  tinycam layers <model.onnx | model.json | weights.safetensors> [--arch <name>]
  tinycam compare --model <model> --image <file> [--methods a,b,...] --out report.html
  tinycam methods
  tinycam --help | tinycam <command> --help | tinycam --version

Examples:
  tinycam explain --model resnet50.onnx --image cat.jpg --labels imagenet.txt --out cat-gradcam.png
  tinycam explain --model resnet50.safetensors --arch resnet50 --image photos/ --method scorecam --out maps/
  tinycam layers resnet50.onnx

Everything runs on the CPU in JavaScript and WebAssembly (--backend js: JavaScript only): no Python,
no native code.`;

export const EXPLAIN_HELP = () => `tinycam explain: print the top classes of an image and write a heat-map overlay.

Required:
  -m, --model <path>       an ONNX model (.onnx; external data is read from beside it), a
                           TensorFlow.js model.json (shards and a Teachable Machine metadata.json
                           with class names are read from beside it), or torchvision weights
                           saved as .safetensors together with --arch
  -i, --image <path>       a PNG or JPEG file, or a folder of them (one picture each; a file that
                           cannot be read is reported and skipped, and the exit code is 1)

Model and input:
  -a, --arch <name>        torchvision architecture for .safetensors weights:
${wrap(architectureList(), 27, 98)}
      --num-classes <n>    classes of the weights (read from the file when omitted)
      --size <W>[x<H>]     model input size in pixels, square (224) or width x height (320x240),
                           up to ${MAX_INPUT_SIDE} (default: the ONNX input's declared size, else 224)
      --resize <pixels>    resize the image's shorter side to this before the centre crop, up to
                           ${MAX_RESIZE} (default: the larger input side; torchvision's ImageNet recipe
                           is 256 for 224)
      --mean a,b,c         normalisation mean (default ImageNet's 0.485,0.456,0.406)
      --std a,b,c          normalisation std (default ImageNet's 0.229,0.224,0.225)
      --no-normalize       feed pixels in [0, 1] as they are

What to explain:
      --method <name>      map method (default gradcam) or input-gradient method (saliency,
                           guidedbackprop, ...); see 'tinycam methods'
  -l, --layer <name>       layer to explain: a module path (layer4, features.28) or an ONNX tensor
                           name; repeat for several (their maps are averaged). Default: the
                           architecture's recommended layer, else the last 4-D layer larger than 1x1
                           (found on the first image). 'tinycam layers <model>' lists them.
  -t, --target <form>      what to explain; <class> is an index or a name from --labels:
                           <class>: a class of scores [N, K] (default: the top class; for an
                             output of one value per image, that value)
                           seg:<class>: a segmentation output [N, K, H, W]: the class's scores
                             summed over the pixels where it is the top class (every pixel when
                             it is top nowhere), as pytorch-grad-cam's segmentation tutorial
                           box:<class>@x1,y1,x2,y2: a detector's predictions of the class whose
                             box overlaps x1,y1,x2,y2 (input pixels) with IoU > 0.5, each scored
                             IoU + confidence (pytorch-grad-cam's FasterRCNNBoxScoreTarget)
      --box-format <name>  a detector's output layout, for box: targets: yolov8 ([N, 4 + K, A]),
                           yolov5 ([N, A, 5 + K]) or torchvision (outputs boxes, labels, scores).
                           Default: torchvision when those outputs exist, else yolov8 when the
                           anchors A outnumber the rows, else yolov5
      --reshape <form>     for a vision transformer's token layer [N, tokens, C] (map methods):
                           vit:<rows>x<columns>[:<prefix>] drops <prefix> class tokens (default 1)
                           and lays the rest out on the grid ('vit': a square grid); 'swin' turns
                           a channels-last layer [N, h, w, C] into [N, C, h, w]. 'tinycam layers'
                           marks token layers with the --reshape each needs
      --labels <file>      class names, one per line, for the printed top classes and --target
      --output <name>      the model output to explain (an ONNX graph's output name; default the first)
      --explain-probability  explain the probability a final Softmax makes, not the logit before it

  The score explained is the class's logit. When an ONNX model ends in a Softmax, that is the
  Softmax's input, and the printed probabilities are the model's own (no second softmax).
  For an output that is not [N, K] (segmentation, detection, regression) the target and its score
  are printed instead of the top classes.

Examples:
  tinycam explain -m vit_b_16.onnx -i cat.jpg -l encoder.layers.encoder_layer_11.ln_1 --reshape vit:14x14:1
  tinycam explain -m deeplab.onnx -i street.jpg --labels voc.txt --target seg:car
  tinycam explain -m yolov8n.onnx -i dog.jpg --size 640 --no-normalize --target box:16@120,80,360,400

Output:
  -o, --out <path>         picture file, .png or .jpg (the extension chooses), or a folder when
                           --image is a folder (default: <image file name>.<method>.png here)
      --map-out <path>     also save the map itself as float32 safetensors ({ map: [H, W] }, and
                           { gradients: [C, H, W] } for input-gradient methods); a folder for a folder
  -f, --force              replace output files that exist (never the inputs)
      --colormap <name>    jet (default, OpenCV's), turbo, viridis, inferno, magma, gray
      --alpha <0..1>       weight of the heat map in the blend (default 0.4)
      --blend <name>       seed (default: heat + image, renormalised) or pytorch-grad-cam
      --top <k>            how many classes to print (default 5)
      --json               print a JSON summary instead of text
  -j, --jobs <n>           for a folder: explain n images at a time in worker threads, each with
                           its own copy of the model (default 1; up to 64); the output is the same
${BACKEND_HELP}`;

export const LAYERS_HELP = `tinycam layers: list the layers a CAM method can explain, with their output shapes.

Usage:
  tinycam layers <model.onnx>
  tinycam layers <weights.safetensors> --arch <name> [--num-classes <n>]
  Options: --size <W>[x<H>] input size for the shape probe (default: the model's, else 224)
           --backend wasm|js  the probe pass's kernels, as in 'tinycam explain' (default wasm)
  Token layers [N, tokens, C] are marked with the --reshape that explain needs for them
  ('tokens: use --reshape vit:14x14:1'; the grid assumes a square one after the class tokens).`;

export function methodsHelp(): string {
  const entries = [...METHODS];
  const width = entries.reduce((w, [k]) => Math.max(w, k.length), 0);
  const list = (kind: 'map' | 'gradient') => entries.filter(([, m]) => m.kind === kind).map(([k, m]) => `  ${k.padEnd(width)}  ${m.about}`);
  return [
    'Map methods for --method (a heat map over a layer, overlaid on the image):',
    ...list('map'),
    '',
    'Input-gradient methods (a map per pixel; guidedbackprop and deconvnet are drawn as colours):',
    ...list('gradient'),
  ].join('\n');
}

/** `text` broken at spaces into lines of at most `width` characters, each indented by `indent`. */
function wrap(text: string, indent: number, width: number): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && indent + line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  return lines.map((l) => `${' '.repeat(indent)}${l}`).join('\n');
}
