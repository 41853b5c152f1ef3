using BenchmarkDotNet.Attributes;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Backprop.Bench.Torch;

// Backprop.Tensor (the referenced Backprop.Bench brings it) would win the lookup from inside namespace Backprop.
using Tensor = TorchSharp.torch.Tensor;

/// <summary>
/// Backprop's MiniLmFineTuneBenchmarks in TorchSharp: the all-MiniLM-L6-v2 architecture (BERT: word, position and
/// token-type embeddings, LayerNorm, 6 post-norm encoder layers of width 384 with 12 heads, GELU feed-forward 1536, a
/// tanh pooler on the first token) with a new 2-class head; batch 8 × 128 tokens, no dropout, cross-entropy, SGD with
/// momentum, 2 threads. Random weights: only the cost of a step is measured.
/// </summary>
public class TorchMiniLmBenchmarks
{
    private sealed class MiniLm : nn.Module<Tensor, Tensor>
    {
        private readonly Embedding _words, _positions, _types;
        private readonly LayerNorm _norm;
        private readonly TransformerEncoder _encoder;
        private readonly Linear _pooler, _head;

        public MiniLm() : base("minilm")
        {
            (_words, _positions, _types) = (nn.Embedding(30522, 384), nn.Embedding(512, 384), nn.Embedding(2, 384));
            _norm = nn.LayerNorm(384, 1e-12);
            _encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(384, 12, 1536, 0.0, TorchSharp.torch.nn.Activations.GELU), 6);
            (_pooler, _head) = (nn.Linear(384, 384), nn.Linear(384, 2));
            RegisterComponents();
        }

        public override Tensor forward(Tensor ids)
        {
            var positions = torch.arange(ids.shape[1], ScalarType.Int64);
            var h = _norm.forward(_words.forward(ids) + _positions.forward(positions) + _types.forward(torch.zeros_like(ids)));
            h = _encoder.call(h.transpose(0, 1)); // TorchSharp's encoder is sequence-first
            return _head.forward(torch.tanh(_pooler.forward(h[0])));
        }
    }

    private MiniLm _model = null!;
    private optim.Optimizer _sgd = null!;
    private Tensor _ids = null!, _y = null!;

    [GlobalSetup]
    public void Setup()
    {
        torch.set_num_threads(2);
        torch.manual_seed(1);
        _model = new MiniLm();
        _model.train();
        _sgd = optim.SGD(_model.parameters(), 1e-4, momentum: 0.9);
        _ids = torch.randint(1000, 21000, [8, 128], ScalarType.Int64);
        _y = torch.arange(8, ScalarType.Int64) % 2;
        SteadyState.WarmUp(() => MiniLmFineTuneStep());
    }

    [Benchmark]
    public double MiniLmFineTuneStep()
    {
        using var scope = torch.NewDisposeScope();
        _sgd.zero_grad();
        var loss = nn.functional.cross_entropy(_model.forward(_ids), _y);
        loss.backward();
        _sgd.step();
        return loss.item<float>();
    }
}
