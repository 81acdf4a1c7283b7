namespace WaferMonitor.LocalApi.Stats;

/// <summary>
/// Percentiles from the log-scale bins of <c>wm_stat_bin</c> (migration 0005): bin k &gt; 0 holds
/// [1e-3 · 1.02^(k−1), 1e-3 · 1.02^k), negative bins mirror it, bin 0 holds |x| &lt; 1e-3. Each bin stands for the middle
/// of its range, within 1 % of every value in it, so a percentile read here is within 1 % of the exact one (and within
/// 1e-3 absolute below that). Values beyond ±<see cref="Largest"/> are clamped into the last bin (counted in
/// <c>stats_values_clamped_total</c>): a finite metric as large as 1.79e308 overflowed the bin arithmetic. Interpolation between neighbouring ranks follows PostgreSQL's <c>percentile_cont</c>.
/// </summary>
internal static class StatsHistogram
{
    private const double Smallest = 1e-3;
    private const double Growth = 1.02;

    /// <summary>The largest magnitude binned as itself (about 31 million years in seconds); <c>wm_stat_bin</c> clamps alike.</summary>
    public const double Largest = 1e15;

    /// <summary>
    /// The bin of a value, as <c>wm_stat_bin</c> computes it for the rollups (the same IEEE arithmetic). Should the two
    /// ever disagree by one bin at a boundary, the value read back is still within 1 % of it.
    /// </summary>
    public static int Bin(double value) =>
        Math.Abs(value) < Smallest ? 0 : Math.Sign(value) * (1 + (int)Math.Floor(Math.Log(Math.Min(Math.Abs(value), Largest) / Smallest) / Math.Log(Growth)));

    public static double BinValue(int bin) =>
        bin == 0 ? 0 : Math.Sign(bin) * Smallest * Math.Pow(Growth, Math.Abs(bin) - 1) * (1 + Growth) / 2;

    /// <param name="bins">Job counts per bin; bins need not be sorted.</param>
    public static Percentiles Percentiles(IEnumerable<(int Bin, long Jobs)> bins)
    {
        var sorted = bins.Where(b => b.Jobs > 0).OrderBy(b => b.Bin).ToArray();
        var total = sorted.Sum(b => b.Jobs);
        if (total == 0)
            return new Percentiles(null, null, null);
        return new Percentiles(At(0.5), At(0.95), At(0.99));

        double At(double fraction)
        {
            var rank = fraction * (total - 1);
            var lower = (long)Math.Floor(rank);
            var lowerValue = ValueAtRank(lower);
            return lowerValue + (rank - lower) * (ValueAtRank((long)Math.Ceiling(rank)) - lowerValue);
        }

        double ValueAtRank(long rank)
        {
            foreach (var (bin, jobs) in sorted)
            {
                if (rank < jobs)
                    return BinValue(bin);
                rank -= jobs;
            }
            return BinValue(sorted[^1].Bin);
        }
    }
}
