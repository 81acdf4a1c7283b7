using System.Text;

namespace WaferMonitor.Cli.Processes;

/// <summary>The last lines a child wrote to stderr, kept while everything it writes passes through to our stderr.</summary>
internal sealed class StderrTail(int maxLines, int maxChars)
{
    private readonly Queue<string> _lines = new();
    private readonly StringBuilder _partial = new();
    private readonly Lock _gate = new();

    public void Append(ReadOnlySpan<char> text)
    {
        lock (_gate)
        {
            foreach (var c in text)
            {
                if (c == '\n')
                {
                    Push(_partial.ToString().TrimEnd('\r'));
                    _partial.Clear();
                }
                else if (_partial.Length < maxChars)
                {
                    _partial.Append(c);
                }
            }
        }
    }

    /// <summary>The tail, newest last, at most <c>maxChars</c> long (older lines are cut first).</summary>
    public string Text()
    {
        lock (_gate)
        {
            var lines = _lines.ToList();
            if (_partial.Length > 0)
                lines.Add(_partial.ToString());
            var text = string.Join('\n', lines);
            return text.Length <= maxChars ? text : text[^maxChars..];
        }
    }

    private void Push(string line)
    {
        _lines.Enqueue(line);
        while (_lines.Count > maxLines)
            _lines.Dequeue();
    }
}
