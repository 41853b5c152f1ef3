using TorchSharp;
using static TorchSharp.torch;

namespace Backprop.Bench.Torch;

// Backprop.Tensor (the referenced Backprop.Bench brings it) would win the lookup from inside namespace Backprop.
using Tensor = TorchSharp.torch.Tensor;

/// <summary>
/// The architecture of the ResNet18 that Backprop imports (Microsoft.ML.DnnImageFeaturizer.ResNet18, exported by CNTK):
/// torchvision's resnet18 with a third basic block in the last stage — stages of 2, 2, 2 and 3 blocks, 22 convolutions,
/// no convolution biases, 15.9 M parameters counting BatchNorm's running statistics (the ONNX file's count). torchvision's
/// resnet18 (2, 2, 2, 2) does about 11 % less arithmetic, so it is not the same network.
/// </summary>
internal sealed class CntkResNet18 : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> stem, body, head;

    public CntkResNet18(long classes) : base(nameof(CntkResNet18))
    {
        stem = nn.Sequential(nn.Conv2d(3, 64, 7, stride: 2, padding: 3, bias: false), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(3, stride: 2, padding: 1));
        var blocks = new List<nn.Module<Tensor, Tensor>>();
        var channels = 64L;
        foreach (var (width, count, stride) in new[] { (64L, 2, 1L), (128L, 2, 2L), (256L, 2, 2L), (512L, 3, 2L) })
            for (var i = 0; i < count; i++)
            {
                blocks.Add(new Block(channels, width, i == 0 ? stride : 1));
                channels = width;
            }
        body = nn.Sequential(blocks.ToArray());
        head = nn.Sequential(nn.AdaptiveAvgPool2d(new long[] { 1, 1 }), nn.Flatten(), nn.Linear(512, classes));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => head.forward(body.forward(stem.forward(x)));

    private sealed class Block : nn.Module<Tensor, Tensor>
    {
        private readonly nn.Module<Tensor, Tensor> conv1, bn1, conv2, bn2, shortcut;

        public Block(long input, long output, long stride) : base(nameof(Block))
        {
            conv1 = nn.Conv2d(input, output, 3, stride: stride, padding: 1, bias: false);
            bn1 = nn.BatchNorm2d(output);
            conv2 = nn.Conv2d(output, output, 3, padding: 1, bias: false);
            bn2 = nn.BatchNorm2d(output);
            shortcut = stride != 1 || input != output
                ? nn.Sequential(nn.Conv2d(input, output, 1, stride: stride, bias: false), nn.BatchNorm2d(output))
                : nn.Identity();
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            var y = nn.functional.relu(bn1.forward(conv1.forward(x)));
            y = bn2.forward(conv2.forward(y));
            return nn.functional.relu(y + shortcut.forward(x));
        }
    }
}
