using System.Globalization;
using Backprop.Training;

namespace Backprop.Data;

/// <summary>Datasets from files.</summary>
public static class Datasets
{
    /// <summary>
    /// A dataset from NumPy arrays: an .npz archive with arrays <paramref name="inputsName"/> and <paramref name="targetsName"/>,
    /// or two .npy files given as "inputs.npy,targets.npy". int64 targets are class labels.
    /// </summary>
    public static TensorDataset FromNumpy(string path, string inputsName = "x", string targetsName = "y")
    {
        Tensor x, y;
        if (path.Contains(',', StringComparison.Ordinal))
        {
            var parts = path.Split(',', 2);
            (x, y) = (Npy.Load(parts[0]), Npy.Load(parts[1]));
        }
        else
        {
            var arrays = Npy.LoadArchive(path);
            x = arrays.GetValueOrDefault(inputsName) ?? throw new DataFormatException($"'{path}' has no array '{inputsName}' (it has {string.Join(", ", arrays.Keys)}).");
            y = arrays.GetValueOrDefault(targetsName) ?? throw new DataFormatException($"'{path}' has no array '{targetsName}' (it has {string.Join(", ", arrays.Keys)}).");
        }
        if (x.DType != DType.Float32) throw new DataFormatException($"'{path}': inputs must be floating point, got {x.DType}.");
        if (x.Rank < 1 || y.Rank < 1 || x.Shape[0] != y.Shape[0]) throw new DataFormatException($"'{path}': inputs {x.Shape} and targets {y.Shape} differ in sample count.");
        return new TensorDataset(x, y, y.DType == DType.Int64 ? ClassNames(y) : null);
    }

    /// <summary>
    /// A dataset from a CSV table of numbers: every column is an input feature except the target column (by header name, or
    /// the last column). A first row that is not numeric is a header. Integer targets are class labels; with
    /// <paramref name="regression"/>, targets are floats.
    /// </summary>
    public static TensorDataset FromCsv(string path, string? targetColumn = null, bool regression = false)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(path).Where(l => l.Trim().Length > 0).ToArray();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DataFormatException($"cannot read '{path}': {e.Message}", e);
        }
        if (lines.Length == 0) throw new DataFormatException($"'{path}' is empty.");
        var first = lines[0].Split(',');
        var hasHeader = first.Any(c => !double.TryParse(c, NumberStyles.Float, CultureInfo.InvariantCulture, out _));
        var columns = first.Length;
        var target = columns - 1;
        if (targetColumn is not null)
        {
            if (!hasHeader) throw new DataFormatException($"'{path}' has no header row, so column '{targetColumn}' cannot be found.");
            target = Array.FindIndex(first, c => c.Trim().Trim('"') == targetColumn);
            if (target < 0) throw new DataFormatException($"'{path}' has no column '{targetColumn}' (columns: {string.Join(", ", first)}).");
        }
        var rows = lines.Skip(hasHeader ? 1 : 0).ToArray();
        var features = new float[rows.Length * (columns - 1)];
        var labels = new long[rows.Length];
        var values = new float[rows.Length];
        for (var r = 0; r < rows.Length; r++)
        {
            var cells = rows[r].Split(',');
            if (cells.Length != columns) throw new DataFormatException($"'{path}' line {r + 1 + (hasHeader ? 1 : 0)}: {cells.Length} columns, expected {columns}.");
            for (int c = 0, f = 0; c < columns; c++)
            {
                if (!double.TryParse(cells[c], NumberStyles.Float, CultureInfo.InvariantCulture, out var v))
                    throw new DataFormatException($"'{path}' line {r + 1 + (hasHeader ? 1 : 0)}, column {c + 1}: '{cells[c]}' is not a number.");
                if (c == target)
                {
                    values[r] = (float)v;
                    if (!regression && (v != Math.Floor(v) || v < 0))
                        throw new DataFormatException($"'{path}' line {r + 1 + (hasHeader ? 1 : 0)}: class label '{cells[c]}' is not a non-negative integer (use regression for float targets).");
                    labels[r] = (long)v;
                }
                else features[r * (columns - 1) + f++] = (float)v;
            }
        }
        var x = new Tensor(features, new Shape(rows.Length, columns - 1));
        if (regression) return new TensorDataset(x, new Tensor(values, new Shape(rows.Length, 1)));
        var y = new Tensor(labels, new Shape(rows.Length));
        return new TensorDataset(x, y, ClassNames(y));
    }

    private static string[] ClassNames(Tensor labels)
    {
        var max = labels.Size == 0 ? -1 : labels.ToInt64Array().Max();
        if (labels.ToInt64Array().Any(v => v < 0)) throw new DataFormatException("class labels must be non-negative.");
        return Enumerable.Range(0, (int)max + 1).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();
    }
}
