using WaferMonitor.Benchmarks;

return await BenchCommand.Create().Parse(args).InvokeAsync();
