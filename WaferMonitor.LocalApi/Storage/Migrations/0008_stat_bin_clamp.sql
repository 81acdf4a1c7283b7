-- Clamp magnitudes to 1e15 before binning: ln(1.79e308 / 1e-3) overflowed float8 (22003) and failed every rollup pass
-- after it. Bins of values up to 1e15 are unchanged, so existing rollups stay valid. StatsHistogram.Bin clamps alike.
CREATE OR REPLACE FUNCTION wm_stat_bin(x double precision) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN abs(x) < 1e-3 THEN 0
                ELSE (sign(x) * (1 + floor(ln(least(abs(x), 1e15) / 1e-3) / ln(1.02))))::integer END
$$;
