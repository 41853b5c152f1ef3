using Backprop.Onnx.Proto;
using Google.Protobuf;

namespace Backprop.Fuzz;

/// <summary>
/// Seeded mutations of serialized models: byte-level (bit flips, interesting bytes, insertions, deletions, duplications,
/// splices, huge varints) and structure-aware (dims, data types, attributes, node wiring, opsets, raw data lengths).
/// </summary>
public sealed class Mutator(Random rng)
{
    private static readonly byte[] Interesting = [0x00, 0x01, 0x7F, 0x80, 0xFF, 0xFE, 0x08, 0x10, 0x12, 0x1A, 0x22, 0x3A];
    private static readonly long[] InterestingLongs = [0, -1, 1, 2, 3, int.MaxValue, int.MinValue, long.MaxValue, long.MinValue, 1L << 40, 1_000_000_000_000, 65536, -65536];

    public byte[] Mutate(byte[] input, IReadOnlyList<Seed> corpus)
    {
        var rounds = 1 + rng.Next(4);
        var data = input;
        for (var r = 0; r < rounds; r++) data = rng.Next(2) == 0 ? Structured(data) : Bytes(data, corpus);
        return data;
    }

    private byte[] Bytes(byte[] input, IReadOnlyList<Seed> corpus)
    {
        var b = new List<byte>(input);
        if (b.Count == 0) return [Interesting[rng.Next(Interesting.Length)]];
        int Pos() => rng.Next(b.Count);
        switch (rng.Next(8))
        {
            case 0: { var p = Pos(); b[p] ^= (byte)(1 << rng.Next(8)); break; }
            case 1: b[Pos()] = Interesting[rng.Next(Interesting.Length)]; break;
            case 2: { var p = Pos(); b.RemoveRange(p, Math.Min(b.Count - p, 1 + rng.Next(16))); break; }
            case 3: { var p = Pos(); for (var i = 0; i < 1 + rng.Next(8); i++) b.Insert(p, Interesting[rng.Next(Interesting.Length)]); break; }
            case 4: { var p = Pos(); var len = Math.Min(b.Count - p, 1 + rng.Next(32)); b.InsertRange(Pos(), b.GetRange(p, len)); break; }
            case 5:
            {
                var other = corpus[rng.Next(corpus.Count)].Bytes;
                if (other.Length == 0) break;
                var p = rng.Next(other.Length);
                b.InsertRange(Pos(), other.AsSpan(p, Math.Min(other.Length - p, 1 + rng.Next(64))).ToArray());
                break;
            }
            case 6: { var p = Pos(); b.InsertRange(p, [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]); break; }
            default: { var p = Pos(); b.RemoveRange(p, rng.Next(b.Count - p + 1)); break; }
        }
        return b.ToArray();
    }

    private byte[] Structured(byte[] input)
    {
        ModelProto model;
        try
        {
            model = ModelProto.Parser.ParseFrom(input);
        }
        catch (Exception e) when (e is InvalidProtocolBufferException or InvalidOperationException or ArgumentException)
        {
            return input;
        }
        var g = model.Graph ??= new GraphProto();
        long Any() => InterestingLongs[rng.Next(InterestingLongs.Length)];
        switch (rng.Next(10))
        {
            case 0 when g.Initializer.Count > 0:
            {
                var t = g.Initializer[rng.Next(g.Initializer.Count)];
                if (t.Dims.Count > 0) t.Dims[rng.Next(t.Dims.Count)] = Any();
                else t.Dims.Add(Any());
                break;
            }
            case 1 when g.Initializer.Count > 0:
                g.Initializer[rng.Next(g.Initializer.Count)].DataType = rng.Next(-2, 25);
                break;
            case 2 when g.Node.Count > 0:
            {
                var n = g.Node[rng.Next(g.Node.Count)];
                if (n.Attribute.Count == 0) break;
                var a = n.Attribute[rng.Next(n.Attribute.Count)];
                a.I = Any();
                a.F = (float)(rng.NextDouble() * 1e6 - 5e5);
                if (a.Ints.Count > 0) a.Ints[rng.Next(a.Ints.Count)] = Any();
                else a.Ints.Add(Any());
                if (rng.Next(4) == 0) a.Type = (AttributeProto.Types.AttributeType)rng.Next(0, 15);
                break;
            }
            case 3 when g.Node.Count > 0:
            {
                var n = g.Node[rng.Next(g.Node.Count)];
                var names = g.Node.SelectMany(x => x.Output).Concat(g.Input.Select(i => i.Name)).Concat(g.Initializer.Select(i => i.Name)).Append("").Append("missing").ToList();
                if (n.Input.Count > 0) n.Input[rng.Next(n.Input.Count)] = names[rng.Next(names.Count)];
                else n.Input.Add(names[rng.Next(names.Count)]);
                break;
            }
            case 4 when g.Node.Count > 1:
                g.Node.Add(g.Node[rng.Next(g.Node.Count)].Clone());
                break;
            case 5 when model.OpsetImport.Count > 0:
                model.OpsetImport[rng.Next(model.OpsetImport.Count)].Version = rng.Next(-1, 30);
                break;
            case 6 when g.Initializer.Count > 0:
            {
                var t = g.Initializer[rng.Next(g.Initializer.Count)];
                if (t.RawData.Length > 0) t.RawData = ByteString.CopyFrom(t.RawData.Span[..rng.Next(t.RawData.Length)]);
                else if (t.FloatData.Count > 0) t.FloatData.RemoveAt(rng.Next(t.FloatData.Count));
                else if (t.Int64Data.Count > 0) t.Int64Data[rng.Next(t.Int64Data.Count)] = Any();
                break;
            }
            case 7 when g.Input.Count > 0:
            {
                var shape = g.Input[rng.Next(g.Input.Count)].Type?.TensorType?.Shape;
                if (shape is { Dim.Count: > 0 }) shape.Dim[rng.Next(shape.Dim.Count)].DimValue = Any();
                break;
            }
            case 8 when g.Node.Count > 0:
                g.Node.RemoveAt(rng.Next(g.Node.Count));
                break;
            default:
                if (g.Initializer.Count > 0)
                {
                    var t = g.Initializer[rng.Next(g.Initializer.Count)];
                    t.DataLocation = TensorProto.Types.DataLocation.External;
                    t.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = rng.Next(3) switch { 0 => "../../etc/passwd", 1 => "/etc/passwd", _ => "missing.bin" } });
                }
                break;
        }
        return model.ToByteArray();
    }
}
